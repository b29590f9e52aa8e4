// numpy's .npy array format (NEP 1, numpy.lib.format), read and written without numpy.
//
//   magic    6 bytes  "\x93NUMPY"
//   version  2 bytes  major, minor: 1.0 (header length u16 LE), 2.0 (u32 LE), 3.0 (u32 LE, UTF-8 header)
//   header   a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
//            padded with spaces and ended by '\n' so the data starts on a 64-byte boundary
//   data     shape's product × itemsize bytes, C (row-major) or Fortran (column-major) order
//
// Reading checks everything against the bytes present before allocating anything, so a
// hostile or truncated header gives an error naming the array, never a crash or a huge
// allocation. Writing produces the exact bytes numpy ≥ 1.24's np.save writes (its header
// keeps 21 − digits(shape[0]) spare spaces so the array can grow in place).

import { DataError } from "../io/errors.js";

/** Typed storage of an array's elements, in C order. Booleans are 0/1 bytes, strings decoded. */
export type NpyData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

/** One array: numpy's dtype string (little-endian form: '<f4', '|b1', '<U7'), shape and elements in C order. */
export interface NpyArray {
  descr: string;
  shape: number[];
  data: NpyData;
}

/** A scalar read from a 0-d array (or any one-element array). */
export type NpyScalar = number | bigint | boolean | string;

/** Raised for anything that is not a .npy this reader supports; the message (and `file`) name the array. */
export class NpyError extends DataError {
  constructor(arrayName: string, why: string) {
    super(why, { file: arrayName });
    this.name = "NpyError";
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
// numpy itself refuses headers over 10 000 bytes unless told otherwise; a factor matrix's is ~128.
const MAX_HEADER_BYTES = 10_000;

/** What a descr names: element kind, bytes per element, and whether multi-byte values are big-endian. */
interface DtypeInfo { kind: "b" | "i" | "u" | "f" | "U" | "S"; itemSize: number; bigEndian: boolean }

/** Parses a .npy file's bytes. `name` (e.g. the npz member) is used in error messages. */
export function parseNpy(bytes: Uint8Array, name = "array.npy"): NpyArray {
  const fail = (why: string): never => { throw new NpyError(name, why); };
  if (bytes.length < 10) fail(`only ${bytes.length} bytes: too short for a .npy header (truncated?)`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) fail("not a .npy array (no \\x93NUMPY magic)");
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) fail(`.npy format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`);
  const lengthBytes = major === 1 ? 2 : 4;
  const prefix = 8 + lengthBytes;
  if (bytes.length < prefix) fail("truncated inside the header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) fail(`header of ${headerLength} bytes is larger than the ${MAX_HEADER_BYTES} allowed (numpy's own limit)`);
  if (prefix + headerLength > bytes.length) fail(`truncated: the header needs ${headerLength} bytes, ${bytes.length - prefix} are present`);
  const headerBytes = bytes.subarray(prefix, prefix + headerLength);
  let headerText: string;
  try {
    headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true }).decode(headerBytes);
  } catch {
    return fail("the header is not valid UTF-8");
  }
  const header = parseHeaderDict(headerText, fail);
  const dtype = parseDescr(header.descr, fail);
  const count = elementCount(header.shape, fail);
  const dataStart = prefix + headerLength;
  const present = bytes.length - dataStart;
  const needed = count * dtype.itemSize;
  if (needed > present) fail(`truncated: shape (${header.shape.join(", ")}) of ${normalDescr(dtype)} needs ${needed} data bytes, ${present} are present`);
  if (needed < present) fail(`${present - needed} bytes after the data that shape (${header.shape.join(", ")}) of ${normalDescr(dtype)} does not account for (wrong shape?)`);
  let data = decodeElements(bytes.subarray(dataStart), dtype, count);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { descr: normalDescr(dtype), shape: header.shape, data };
}

/** The bytes numpy's np.save writes for `array` (version 1.0 header, C order, little-endian). */
export function writeNpy(array: NpyArray, name = "array.npy"): Uint8Array {
  const fail = (why: string): never => { throw new NpyError(name, why); };
  const dtype = parseDescr(array.descr, fail);
  if (dtype.bigEndian) fail("writeNpy writes little-endian arrays only: use a '<' descr");
  const count = elementCount(array.shape, fail);
  if (array.data.length !== count) fail(`shape (${array.shape.join(", ")}) holds ${count} elements, the data has ${array.data.length}`);
  const shapeRepr = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${normalDescr(dtype)}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  // numpy's spare room for growing the first axis in place (none for a 0-d array).
  if (array.shape.length > 0) header += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(array.shape[0]).length));
  const headerBytes = new TextEncoder().encode(header);
  // Pad so magic, version, length and header end on a 64-byte boundary (a full 64 when
  // already aligned, as numpy does). Version 1.0 unless that outgrows its u16 length.
  const paddedLength = (lengthBytes: number) => {
    const unpadded = headerBytes.length + 1; // the closing '\n'
    return unpadded + ARRAY_ALIGN - ((8 + lengthBytes + unpadded) % ARRAY_ALIGN);
  };
  const lengthBytes = paddedLength(2) > 0xffff ? 4 : 2;
  const headerLength = paddedLength(lengthBytes);
  const dataStart = 8 + lengthBytes + headerLength;
  const out = new Uint8Array(dataStart + count * dtype.itemSize);
  out.set(MAGIC, 0);
  out[6] = lengthBytes === 2 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, headerLength, true); else view.setUint32(8, headerLength, true);
  out.set(headerBytes, 8 + lengthBytes);
  out.fill(0x20, 8 + lengthBytes + headerBytes.length, dataStart - 1);
  out[dataStart - 1] = 0x0a;
  encodeElements(array.data, dtype, out.subarray(dataStart), fail);
  return out;
}

/** The single value of a 0-d (or one-element) array, as JavaScript sees it. */
export function npyScalar(array: NpyArray, name = "array.npy"): NpyScalar {
  if (array.data.length !== 1) throw new NpyError(name, `expected a scalar, got shape (${array.shape.join(", ")})`);
  const value = array.data[0];
  return array.descr === "|b1" ? value === 1 : value;
}

/** A 0-d array holding `value`, typed as numpy types the same Python value: float → '<f8', int → '<i8', bool → '|b1', str → '<U…'. */
export function scalarArray(value: NpyScalar, as: "float" | "int" = Number.isInteger(value) ? "int" : "float"): NpyArray {
  if (typeof value === "boolean") return { descr: "|b1", shape: [], data: new Uint8Array([value ? 1 : 0]) };
  if (typeof value === "string") return { descr: `<U${Math.max(1, [...value].length)}`, shape: [], data: [value] };
  if (typeof value === "bigint") return { descr: "<i8", shape: [], data: new BigInt64Array([value]) };
  return as === "int" ? { descr: "<i8", shape: [], data: new BigInt64Array([BigInt(value)]) } : { descr: "<f8", shape: [], data: new Float64Array([value]) };
}

// ---------------------------------------------------------------------------------------
// header

interface Header { descr: string; fortranOrder: boolean; shape: number[] }

type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

// The header is the repr() of a dict; numpy reads it with ast.literal_eval. This reads the
// subset numpy writes (strings, integers, True/False/None, tuples, lists, dicts) and refuses
// anything else instead of guessing.
function parseHeaderDict(text: string, fail: (why: string) => never): Header {
  let at = 0;
  const skipSpace = () => { while (at < text.length && /\s/.test(text[at])) at++; };
  const expect = (char: string) => { skipSpace(); if (text[at] !== char) fail(`malformed header: expected '${char}' at ${at} in ${JSON.stringify(text.trim())}`); at++; };
  const value = (depth: number): Literal => {
    if (depth > 8) fail("malformed header: nested too deeply");
    skipSpace();
    const c = text[at];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, at + 1);
      if (end < 0) fail("malformed header: unterminated string");
      const s = text.slice(at + 1, end);
      if (s.includes("\\")) fail("malformed header: escaped strings are not supported");
      at = end + 1;
      return s;
    }
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]";
      at++;
      const items: Literal[] = [];
      for (;;) {
        skipSpace();
        if (text[at] === close) { at++; return items; }
        items.push(value(depth + 1));
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] !== close) fail(`malformed header: expected ',' or '${close}' at ${at}`);
      }
    }
    if (c === "{") {
      at++;
      const dict: { [key: string]: Literal } = {};
      for (;;) {
        skipSpace();
        if (text[at] === "}") { at++; return dict; }
        const key = value(depth + 1);
        if (typeof key !== "string") fail("malformed header: dict keys must be strings");
        expect(":");
        if (Object.prototype.hasOwnProperty.call(dict, key as string)) fail(`malformed header: key '${key}' appears twice`);
        dict[key as string] = value(depth + 1);
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] !== "}") fail(`malformed header: expected ',' or '}' at ${at}`);
      }
    }
    const word = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(at, at + 32));
    if (!word) fail(`malformed header: unexpected ${JSON.stringify(text.slice(at, at + 12) || "end")} at ${at}`);
    at += word![0].length;
    if (word![0] === "True") return true;
    if (word![0] === "False") return false;
    if (word![0] === "None") return null;
    return Number(word![0].replace(/L$/, ""));
  };
  const dict = value(0);
  skipSpace();
  if (at !== text.length) fail(`malformed header: unexpected text after the dict at ${at}`);
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) fail("malformed header: not a dict");
  const d = dict as { [key: string]: Literal };
  const keys = Object.keys(d).sort().join(", ");
  if (keys !== "descr, fortran_order, shape") fail(`malformed header: expected keys descr, fortran_order, shape; got ${keys || "none"}`);
  if (Array.isArray(d.descr)) fail("structured (record) dtypes are not supported: store plain numeric arrays");
  if (typeof d.descr !== "string") fail(`malformed header: descr is not a string: ${JSON.stringify(d.descr)}`);
  if (typeof d.fortran_order !== "boolean") fail(`malformed header: fortran_order is not True or False: ${JSON.stringify(d.fortran_order)}`);
  if (!Array.isArray(d.shape) || d.shape.some((n) => typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)) {
    fail(`malformed header: shape is not a tuple of non-negative integers: ${JSON.stringify(d.shape)}`);
  }
  if ((d.shape as number[]).length > 32) fail(`malformed header: ${(d.shape as number[]).length} dimensions (numpy allows 32 at most)`);
  return { descr: d.descr as string, fortranOrder: d.fortran_order as boolean, shape: d.shape as number[] };
}

function parseDescr(descr: string, fail: (why: string) => never): DtypeInfo {
  const match = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!match) return fail(`unknown dtype '${descr}'`);
  const [, order, code, digits] = match;
  if (code === "O") fail(`dtype '${descr}' holds pickled Python objects, which are never unpickled here`);
  if (code === "V") fail(`dtype '${descr}' (raw void bytes) is not supported`);
  if (code === "c") fail(`dtype '${descr}' (complex) is not supported`);
  if (code === "M" || code === "m") fail(`dtype '${descr}' (datetime) is not supported`);
  const kind = code === "?" ? "b" : code;
  const size = digits === "" ? (kind === "b" ? 1 : NaN) : Number(digits);
  if (kind === "U" || kind === "S") {
    if (!Number.isSafeInteger(size) || size < 1 || size > 1 << 20) fail(`dtype '${descr}': string length must be 1…${1 << 20}`);
    return { kind, itemSize: kind === "U" ? size * 4 : size, bigEndian: order === ">" };
  }
  const sizes: Record<string, number[]> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [4, 8] };
  if (!(kind in sizes)) fail(`unknown dtype '${descr}'`);
  if (!sizes[kind].includes(size)) fail(`dtype '${descr}' is not supported (${kind === "f" ? "float32 and float64" : kind === "b" ? "bool is 1 byte" : "integers of 1, 2, 4 or 8 bytes"} are)`);
  if (size > 1 && order !== "<" && order !== ">") fail(`dtype '${descr}' does not say its byte order ('<' or '>')`);
  return { kind: kind as DtypeInfo["kind"], itemSize: size, bigEndian: order === ">" };
}

function normalDescr(dtype: DtypeInfo): string {
  if (dtype.kind === "U") return `<U${dtype.itemSize / 4}`;
  if (dtype.kind === "S") return `|S${dtype.itemSize}`;
  return `${dtype.itemSize === 1 ? "|" : "<"}${dtype.kind}${dtype.itemSize}`;
}

function elementCount(shape: number[], fail: (why: string) => never): number {
  let count = 1;
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 0) fail(`shape (${shape.join(", ")}) has a dimension that is not a non-negative integer`);
    count *= n;
    if (!Number.isSafeInteger(count)) fail(`shape (${shape.join(", ")}) has too many elements`);
  }
  return count;
}

// ---------------------------------------------------------------------------------------
// elements

function decodeElements(bytes: Uint8Array, dtype: DtypeInfo, count: number): NpyData {
  const { kind, itemSize, bigEndian } = dtype;
  if (kind === "U" || kind === "S") {
    const out: string[] = new Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let e = 0; e < count; e++) {
      let s = "";
      if (kind === "S") {
        for (let i = 0; i < itemSize; i++) s += String.fromCharCode(bytes[e * itemSize + i]);
      } else {
        for (let i = 0; i < itemSize; i += 4) {
          const point = view.getUint32(e * itemSize + i, !bigEndian);
          if (point > 0x10ffff) throw new RangeError(`code point ${point} out of range`);
          s += String.fromCodePoint(point);
        }
      }
      out[e] = s.replace(/\0+$/, ""); // numpy pads short strings with NULs and strips them on read
    }
    return out;
  }
  // Copy into an aligned buffer, swapping bytes to little-endian (the platform order of
  // every runtime edgerec supports: wasm memory is little-endian too).
  const copy = new Uint8Array(count * itemSize);
  copy.set(bytes.subarray(0, count * itemSize));
  if (bigEndian && itemSize > 1) for (let e = 0; e < copy.length; e += itemSize) copy.subarray(e, e + itemSize).reverse();
  const buffer = copy.buffer;
  switch (`${kind}${itemSize}`) {
    case "b1": case "u1": return new Uint8Array(buffer);
    case "i1": return new Int8Array(buffer);
    case "i2": return new Int16Array(buffer);
    case "u2": return new Uint16Array(buffer);
    case "i4": return new Int32Array(buffer);
    case "u4": return new Uint32Array(buffer);
    case "i8": return new BigInt64Array(buffer);
    case "u8": return new BigUint64Array(buffer);
    case "f4": return new Float32Array(buffer);
    default: return new Float64Array(buffer);
  }
}

function encodeElements(data: NpyData, dtype: DtypeInfo, out: Uint8Array, fail: (why: string) => never): void {
  const { kind, itemSize } = dtype;
  if (kind === "U" || kind === "S") {
    if (!Array.isArray(data)) fail(`a ${normalDescr(dtype)} array's data must be strings`);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    (data as string[]).forEach((s, e) => {
      const points = [...s].map((c) => c.codePointAt(0)!);
      const width = kind === "U" ? itemSize / 4 : itemSize;
      if (points.length > width) fail(`string ${JSON.stringify(s)} is longer than ${normalDescr(dtype)} holds`);
      points.forEach((p, i) => {
        if (kind === "U") view.setUint32(e * itemSize + i * 4, p, true);
        else if (p > 0xff) fail(`string ${JSON.stringify(s)} is not latin-1, which ${normalDescr(dtype)} needs`);
        else out[e * itemSize + i] = p;
      });
    });
    return;
  }
  if (Array.isArray(data)) return fail(`a ${normalDescr(dtype)} array's data must be a typed array, not strings`);
  const expected: Record<string, Function> = {
    b1: Uint8Array, u1: Uint8Array, i1: Int8Array, i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
    i8: BigInt64Array, u8: BigUint64Array, f4: Float32Array, f8: Float64Array,
  };
  const type = expected[`${kind}${itemSize}`];
  if (!(data instanceof type)) fail(`a ${normalDescr(dtype)} array's data must be a ${type.name}, got ${data.constructor.name}`);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

// Fortran order keeps the first index fastest; edgerec's readers want C order (last index fastest).
function fortranToC(data: NpyData, shape: number[]): NpyData {
  const count = data.length;
  const out = (Array.isArray(data) ? new Array(count) : new (data.constructor as new (n: number) => NpyData)(count)) as NpyData;
  const index = new Array(shape.length).fill(0);
  for (let f = 0; f < count; f++) {
    let c = 0;
    for (let d = 0; d < shape.length; d++) c = c * shape[d] + index[d];
    (out as unknown as unknown[])[c] = (data as unknown as unknown[])[f];
    for (let d = 0; d < shape.length; d++) { if (++index[d] < shape[d]) break; index[d] = 0; }
  }
  return out;
}
