// edgerec's model file: one versioned binary layout, the same bytes on every runtime.
//
//   magic   8 bytes  "EDGEREC\n"
//   version u32 LE   FORMAT_VERSION
//   count   u32 LE   number of chunks
//   chunk × count:   tag (4 ASCII bytes), byteLength u32 LE, payload, zero padding to 4 bytes
//   crc32   u32 LE   CRC-32 (IEEE) of every byte before it
//
// Chunks: META (UTF-8 JSON: kind, options, shape), UFAC and IFAC (float32 LE,
// row-major factors), and optionally CATL (zlib-compressed UTF-8 JSON: the users' and
// items' own ids, item labels and info) and UITM (the training users × items matrix:
// nRows, nCols, nnz as u32 LE, then indptr and indices int32 LE, data float32 LE).
// Readers skip chunks they do not know, so later versions can add chunks.

import { LITTLE_ENDIAN } from "./endian.js";
import { crc32 } from "./io/crc32.js";

const MAGIC = new TextEncoder().encode("EDGEREC\n");
export const FORMAT_VERSION = 1;

export interface ModelFileContents {
  kind: string;
  options: object;
  nUsers: number;
  nItems: number;
  factors: number;
  /** Read from a file: a view into its bytes when they are aligned, else a copy. */
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** Optional chunks by tag (CATL, UITM, ...), payloads as stored. */
  extra?: Map<string, Uint8Array>;
}

export function writeModelFile(model: ModelFileContents): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify({ kind: model.kind, options: model.options, nUsers: model.nUsers, nItems: model.nItems, factors: model.factors }));
  const chunks: [string, Uint8Array][] = [
    ["META", meta],
    ["UFAC", littleEndianBytes(model.userFactors)],
    ["IFAC", littleEndianBytes(model.itemFactors)],
    ...(model.extra ?? new Map<string, Uint8Array>()),
  ];
  for (const [tag] of chunks) if (!/^[A-Z0-9]{4}$/.test(tag)) throw new Error(`edgerec model file: chunk tag '${tag}' is not 4 ASCII capitals or digits`);
  let size = MAGIC.length + 8;
  for (const [, payload] of chunks) size += 8 + padded(payload.length);
  size += 4;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  let at = MAGIC.length;
  view.setUint32(at, FORMAT_VERSION, true); at += 4;
  view.setUint32(at, chunks.length, true); at += 4;
  for (const [tag, payload] of chunks) {
    for (let i = 0; i < 4; i++) bytes[at + i] = tag.charCodeAt(i);
    view.setUint32(at + 4, payload.length, true);
    bytes.set(payload, at + 8);
    at += 8 + padded(payload.length);
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

/** The kind of model a file holds ('als', 'bpr', …), after checking the whole file. */
export function readModelKind(bytes: Uint8Array): string {
  return readModelFile(bytes).kind;
}

export function readModelFile(bytes: Uint8Array): ModelFileContents {
  const fail = (why: string): never => { throw new Error(`edgerec model file: ${why}`); };
  if (!(bytes instanceof Uint8Array)) fail("expected the file's bytes as a Uint8Array");
  if (bytes.length < MAGIC.length + 12) fail(`too short (${bytes.length} bytes): truncated or not a model file`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) fail("not an edgerec model (the file does not start with EDGEREC)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== FORMAT_VERSION) fail(`format version ${version} is not supported by this edgerec (reads version ${FORMAT_VERSION})`);
  const count = view.getUint32(MAGIC.length + 4, true);
  // Every chunk takes at least its 8-byte head: a count the bytes cannot hold is forged
  // or truncated, and is refused before looping over it.
  const room = bytes.length - 4 - (MAGIC.length + 8);
  if (count > room / 8) fail(`truncated: the chunk table lists ${count} chunks, the file has room for at most ${Math.floor(room / 8)}`);
  const chunks = new Map<string, Uint8Array>();
  let at = MAGIC.length + 8;
  for (let c = 0; c < count; c++) {
    if (at + 8 > bytes.length - 4) fail(`truncated: chunk ${c + 1} of ${count} is missing (file has ${bytes.length} bytes)`);
    const tag = String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
    const length = view.getUint32(at + 4, true);
    if (at + 8 + padded(length) > bytes.length - 4) fail(`truncated: chunk '${tag}' needs ${length} bytes at offset ${at + 8}, the file has ${bytes.length} bytes`);
    if (chunks.has(tag)) fail(`chunk '${tag}' appears twice`);
    chunks.set(tag, bytes.subarray(at + 8, at + 8 + length));
    at += 8 + padded(length);
  }
  if (at + 4 !== bytes.length) fail(`expected ${at + 4} bytes from the chunk table, got ${bytes.length}: truncated or extended`);
  const stored = view.getUint32(at, true);
  const actual = crc32(bytes.subarray(0, at));
  if (stored !== actual) fail(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupted`);

  const meta = chunks.get("META") ?? fail("no META chunk");
  let parsed: Omit<ModelFileContents, "userFactors" | "itemFactors">;
  try { parsed = JSON.parse(new TextDecoder().decode(meta)); } catch { return fail("META chunk is not valid JSON"); }
  // Valid JSON is not yet a META record: null, a number or an array would fail below as
  // TypeErrors that do not say the file is at fault.
  if (!isRecord(parsed)) fail("META chunk is not a JSON object");
  const { kind, options, nUsers, nItems, factors } = parsed;
  if (typeof kind !== "string") fail(`META field kind is not a string: ${JSON.stringify(kind)}`);
  if (!isRecord(options)) fail(`META field options is not an object: ${JSON.stringify(options)}`);
  for (const [name, v] of Object.entries({ nUsers, nItems, factors })) if (!Number.isInteger(v) || v < 0) fail(`META field ${name} is not a non-negative integer: ${v}`);
  const userFactors = float32Chunk(chunks, "UFAC", nUsers * factors, fail);
  const itemFactors = float32Chunk(chunks, "IFAC", nItems * factors, fail);
  for (const tag of ["META", "UFAC", "IFAC"]) chunks.delete(tag);
  return { kind, options, nUsers, nItems, factors, userFactors, itemFactors, extra: chunks };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The model a loader builds from the file's options: the constructor's own validation
 * (factors ≥ 1, a known solver…) reported as a fault of the file, which is what it is.
 */
export function modelFromOptions<T>(file: ModelFileContents, make: (options: object) => T): T {
  try {
    return make(file.options);
  } catch (cause) {
    throw new Error(`edgerec model file: the META options are not valid: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Runs the part of a load that fills the model's wasm memory, disposing of the model if
 * it throws: models have no finalizer, so a half-built model nobody can reach kept its
 * factors in the wasm heap for good, and repeated bad files exhausted its 4 GiB.
 */
export function restoreOrDispose<T extends { dispose(): void }>(model: T, restore: () => void): T {
  try {
    restore();
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** The payload as little-endian float32/int32 words, copied to an aligned buffer. */
export function wordsOf(payload: Uint8Array, byteOffset: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 4);
  out.set(payload.subarray(byteOffset, byteOffset + count * 4));
  if (!LITTLE_ENDIAN) flipWords(out);
  return out;
}

/** Little-endian bytes of 32-bit words (a view when the platform is little-endian). */
export function littleEndianWords(values: Int32Array | Float32Array): Uint8Array {
  return littleEndianBytes(values);
}

function float32Chunk(chunks: Map<string, Uint8Array>, tag: string, length: number, fail: (why: string) => never): Float32Array {
  const payload = chunks.get(tag) ?? fail(`no ${tag} chunk`);
  if (payload.length !== length * 4) fail(`${tag} chunk has ${payload.length} bytes, META says ${length} floats (${length * 4} bytes)`);
  // Chunks start 4-aligned in the file, so a file read into its own buffer is read in
  // place (loaders copy the factors into wasm memory; a second 166 MB copy cost ~100 ms).
  // Otherwise (a file inside a larger buffer, a big-endian host) copy to an aligned array.
  if (LITTLE_ENDIAN && (payload.byteOffset & 3) === 0) return new Float32Array(payload.buffer, payload.byteOffset, length);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(payload);
  if (!LITTLE_ENDIAN) flipWords(new Uint8Array(out.buffer));
  return out;
}

function littleEndianBytes(values: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  flipWords(copy);
  return copy;
}

function flipWords(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 4) {
    const a = bytes[i], b = bytes[i + 1];
    bytes[i] = bytes[i + 3]; bytes[i + 1] = bytes[i + 2]; bytes[i + 2] = b; bytes[i + 3] = a;
  }
}

// Plain arithmetic, not `(n + 3) & ~3`: bit operators work on int32, so a length read
// as u32 ≥ 2^31 - 3 (a forged one) came out negative and walked the parser backwards.
function padded(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}
