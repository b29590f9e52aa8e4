// What a model file carries beside its factors so people can speak in their own ids and
// names: the catalog (user and item ids, item labels and info) and, optionally, the
// training matrix (to skip what a user already has, and to explain recommendations).

import { unzlibSync, zlibSync } from "fflate";
import { CsrMatrix } from "./csr.js";
import { littleEndianWords, wordsOf, type ModelFileContents } from "./model-file.js";

/** External ids and display text, indexed by the model's internal user/item numbers. */
export interface Catalog {
  /** The data's own user id of each user index. */
  userKeys: string[];
  /** The data's own item id of each item index. */
  itemKeys: string[];
  /** Display name of each item (a title, an artist name); defaults to its key. */
  itemLabels?: string[];
  /** Extra display text per item (e.g. genres). */
  itemInfo?: string[];
}

export function encodeCatalog(catalog: Catalog): Uint8Array {
  return zlibSync(new TextEncoder().encode(JSON.stringify(catalog)));
}

export function decodeCatalog(payload: Uint8Array, nUsers: number, nItems: number): Catalog {
  let catalog: Catalog;
  try {
    catalog = JSON.parse(new TextDecoder().decode(unzlibSync(payload)));
  } catch (cause) {
    throw new Error(`edgerec model file: the CATL chunk cannot be read: ${(cause as Error).message}`, { cause });
  }
  // Valid JSON need not be an object: null or a number would fail below as a TypeError.
  if (typeof catalog !== "object" || catalog === null || Array.isArray(catalog)) throw new Error("edgerec model file: the CATL chunk is not a JSON object");
  const check = (name: keyof Catalog, length: number, optional: boolean) => {
    const list = catalog[name];
    if (list === undefined && optional) return;
    if (!Array.isArray(list) || list.length !== length || list.some((v) => typeof v !== "string")) {
      throw new Error(`edgerec model file: catalog ${name} must be ${length} strings`);
    }
  };
  check("userKeys", nUsers, false); check("itemKeys", nItems, false);
  check("itemLabels", nItems, true); check("itemInfo", nItems, true);
  return catalog;
}

export function encodeInteractions(matrix: CsrMatrix): Uint8Array {
  const header = new Uint32Array([matrix.nRows, matrix.nCols, matrix.nnz]);
  const parts = [littleEndianWords(new Int32Array(header.buffer)), littleEndianWords(matrix.indptr), littleEndianWords(matrix.indices), littleEndianWords(matrix.data)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

export function decodeInteractions(payload: Uint8Array, tag = "UITM"): CsrMatrix {
  if (payload.length < 12) throw new Error(`edgerec model file: the ${tag} chunk is too short`);
  const [nRows, nCols, nnz] = new Uint32Array(wordsOf(payload, 0, 3).buffer);
  if (payload.length !== 12 + (nRows + 1 + 2 * nnz) * 4) throw new Error(`edgerec model file: the ${tag} chunk has ${payload.length} bytes, its header needs ${12 + (nRows + 1 + 2 * nnz) * 4}`);
  const indptr = new Int32Array(wordsOf(payload, 12, nRows + 1).buffer);
  const indices = new Int32Array(wordsOf(payload, 12 + (nRows + 1) * 4, nnz).buffer);
  const data = new Float32Array(wordsOf(payload, 12 + (nRows + 1 + nnz) * 4, nnz).buffer);
  try {
    return CsrMatrix.fromCsr({ indptr, indices, data, shape: [nRows, nCols] });
  } catch (cause) {
    // fromCsr checks every offset, index and value; say which chunk of which file is bad.
    throw new Error(`edgerec model file: the ${tag} chunk is not a valid matrix: ${(cause as Error).message}`, { cause });
  }
}

/** What carries a catalog and training matrix into a model file. */
export interface CatalogHolder { catalog?: Catalog; userItems?: CsrMatrix }

/**
 * The optional chunks every model saves beside its parameters: CATL (catalog) and
 * UITM (training matrix).
 */
export function extraChunks(model: CatalogHolder): Map<string, Uint8Array> {
  const extra = new Map<string, Uint8Array>();
  if (model.catalog) extra.set("CATL", encodeCatalog(model.catalog));
  if (model.userItems) extra.set("UITM", encodeInteractions(model.userItems));
  return extra;
}

/** The reverse of extraChunks, checked against the file's shape. */
export function restoreExtraChunks(model: CatalogHolder, file: ModelFileContents): void {
  const catalog = file.extra?.get("CATL");
  if (catalog) model.catalog = decodeCatalog(catalog, file.nUsers, file.nItems);
  const userItems = file.extra?.get("UITM");
  if (userItems) {
    const matrix = decodeInteractions(userItems);
    // Both sides: recommend() indexes the matrix by the model's user ids and item ids.
    if (matrix.nRows !== file.nUsers || matrix.nCols !== file.nItems) {
      matrix.dispose();
      throw new Error(`edgerec model file: the training matrix is ${matrix.nRows} users × ${matrix.nCols} items, the factors ${file.nUsers} × ${file.nItems}`);
    }
    model.userItems = matrix;
  }
}
