// numpy's .npz: a zip archive of .npy members, one per array, named `<key>.npy`
// (np.savez stores them uncompressed; np.savez_compressed deflates them). Reading goes
// through the zip reader of src/io/source.ts, so sizes and CRC-32s are checked.

import { zipSync } from "fflate";
import { DataError } from "../io/errors.js";
import { listArchiveMembers, openArchiveMember, type SourceInput } from "../io/source.js";
import { parseNpy, writeNpy, type NpyArray } from "./npy.js";

/** True when `bytes` start like a zip archive (an .npz), as numpy's np.load decides. */
export function isZipArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

/** Every array of an .npz (a path, or named bytes), by key (the member name without `.npy`), in archive order. */
export async function readNpz(input: SourceInput): Promise<Map<string, NpyArray>> {
  const name = typeof input === "string" ? input : input.name;
  const members = await listArchiveMembers(input);
  if (members.length === 0) throw new DataError("not an .npz (zip) archive, or an empty one", { file: name });
  const arrays = new Map<string, NpyArray>();
  for (const member of members) {
    // np.load hands other members out as raw bytes; they are no arrays, so they are left out.
    if (!member.endsWith(".npy")) continue;
    const key = member.slice(0, -4);
    if (arrays.has(key)) throw new DataError(`array '${key}' appears twice`, { file: name });
    arrays.set(key, parseNpy(await readWhole(input, member), `${name}:${member}`));
  }
  return arrays;
}

/** An .npz holding `arrays` (stored, in the order given), as np.savez writes it: np.load reads it back. */
export function writeNpz(arrays: Iterable<[string, NpyArray]>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  // A fixed timestamp: the same model gives the same bytes (DOS time starts in 1980).
  const mtime = new Date(1980, 0, 1);
  for (const [key, array] of arrays) {
    const member = `${key}.npy`;
    if (member in files) throw new Error(`writeNpz: array '${key}' given twice`);
    files[member] = [writeNpy(array, member), { level: 0, mtime }];
  }
  return zipSync(files);
}

// The member's bytes in one array; the zip reader has checked its size and CRC-32 by the end.
async function readWhole(input: SourceInput, member: string): Promise<Uint8Array> {
  const source = await openArchiveMember(input, member);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    chunks.push(chunk.slice()); // a chunk is only valid until the next one is read
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) { out.set(chunk, at); at += chunk.length; }
  return out;
}
