// The interaction files people already have, recognised by name, with their columns,
// separators and the metadata file that gives items their names.

import type { ColumnSpec } from "../io/interactions.js";

export interface ItemMetadataFormat {
  /** File name beside the interactions file. */
  file: string;
  key: number | string;
  label: number | string;
  info?: number | string;
  separator?: string;
  header?: boolean | "auto";
  encoding?: "utf-8" | "latin1" | "auto";
}

export interface DatasetFormat {
  name: string;
  description: string;
  /** Interaction files this format is picked for by default. */
  fileName: RegExp;
  columns: ColumnSpec;
  separator?: string;
  header?: boolean | "auto";
  encoding?: "utf-8" | "latin1" | "auto";
  items?: ItemMetadataFormat;
}

export const FORMATS: readonly DatasetFormat[] = [
  {
    name: "movielens",
    description: "MovieLens CSV (ml-latest, ml-25m…): ratings.csv userId,movieId,rating,timestamp; titles from movies.csv",
    fileName: /(^|\/)ratings\.csv(\.gz)?$/i,
    columns: { user: "userId", item: "movieId", value: "rating", timestamp: "timestamp" },
    separator: ",", header: true,
    items: { file: "movies.csv", key: "movieId", label: "title", info: "genres", separator: ",", header: true },
  },
  {
    name: "movielens-dat",
    description: "MovieLens 1M/10M '::' files: ratings.dat UserID::MovieID::Rating::Timestamp; titles from movies.dat (ISO-8859-1)",
    fileName: /(^|\/)ratings\.dat(\.gz)?$/i,
    columns: { user: 0, item: 1, value: 2, timestamp: 3 },
    separator: "::", header: false, encoding: "auto",
    items: { file: "movies.dat", key: 0, label: 1, info: 2, separator: "::", header: false, encoding: "auto" },
  },
  {
    name: "lastfm-360k",
    description: "Last.fm-360K usersha1-artmbid-artname-plays.tsv: user, artist-mbid, artist, plays (items are artist names)",
    fileName: /usersha1-artmbid-artname-plays\.tsv(\.gz)?$/i,
    columns: { user: 0, item: 2, value: 3 },
    separator: "\t", header: false,
  },
  {
    name: "lastfm-2k",
    description: "HetRec 2011 Last.fm 2K: user_artists.dat userID, artistID, weight; names from artists.dat",
    fileName: /(^|\/)user_artists\.dat(\.gz)?$/i,
    columns: { user: "userID", item: "artistID", value: "weight" },
    separator: "\t", header: true,
    items: { file: "artists.dat", key: "id", label: "name", separator: "\t", header: true },
  },
];

/** The format named `name`, or the one whose file name matches `path`. */
export function findFormat(path: string, name?: string): DatasetFormat | undefined {
  if (name) {
    const format = FORMATS.find((f) => f.name === name);
    if (!format) throw new Error(`unknown format '${name}': known formats are ${FORMATS.map((f) => f.name).join(", ")}`);
    return format;
  }
  const member = path.includes(".zip:") ? path.slice(path.indexOf(".zip:") + 5) : path;
  return FORMATS.find((f) => f.fileName.test(member));
}

/** The path of a file beside `path`, inside the same zip archive when `path` names a member. */
export function siblingPath(path: string, file: string): string {
  const zip = path.indexOf(".zip:");
  if (zip >= 0) {
    const member = path.slice(zip + 5);
    const dir = member.includes("/") ? member.slice(0, member.lastIndexOf("/") + 1) : "";
    return `${path.slice(0, zip + 5)}${dir}${file}`;
  }
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return `${path.slice(0, slash + 1)}${file}${/\.gz$/i.test(path) ? ".gz" : ""}`;
}

/** Parses "user=0,item=movieId,value=2" into a column spec (numbers are 0-based positions). */
export function parseColumns(text: string): Partial<ColumnSpec> {
  const spec: Record<string, number | string> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split("=").map((p) => p.trim());
    if (!["user", "item", "value", "timestamp", "itemLabel"].includes(key) || value === undefined || value === "") {
      throw new Error(`--columns: '${part}' is not one of user=, item=, value=, timestamp=, itemLabel= followed by a column name or 0-based position`);
    }
    spec[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return spec as Partial<ColumnSpec>;
}
