import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { NpyError, npyScalar, parseNpy, scalarArray, writeNpy, type NpyArray } from "../src/interop/npy.js";

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
// A .npy's first bytes: \x93 N U M P Y, then the version.
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** A version 1.0 .npy by hand: header text padded with spaces to `headerLength` (its last byte '\n'), then the data bytes. */
function npyV1(headerText: string, headerLength: number, data: number[]): Uint8Array {
  const header = ascii(headerText);
  const padding = headerLength - header.length - 1;
  if (padding < 0) throw new Error("header longer than headerLength");
  return new Uint8Array([...MAGIC, 1, 0, headerLength & 0xff, headerLength >> 8, ...header, ...Array(padding).fill(0x20), 0x0a, ...data]);
}

const errorOf = (f: () => unknown): Error => {
  try { f(); } catch (error) { return error as Error; }
  throw new Error("expected an error");
};

describe(".npy golden files", () => {
  // np.save(f, np.array([[1, 2], [3, 4]], dtype="<f4")) with numpy ≥ 1.24: the header has
  // 21 − len("2") = 20 spare spaces, then padding to 128 bytes (10 + 118).
  const float32Matrix = npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 118, [
    0x00, 0x00, 0x80, 0x3f, // 1.0f
    0x00, 0x00, 0x00, 0x40, // 2.0f
    0x00, 0x00, 0x40, 0x40, // 3.0f
    0x00, 0x00, 0x80, 0x40, // 4.0f
  ]);

  it("reads a little-endian float32 matrix and writes the same bytes back", () => {
    expect(float32Matrix.length).toBe(128 + 16);
    const array = parseNpy(float32Matrix, "m.npy");
    expect(array.descr).toBe("<f4");
    expect(array.shape).toEqual([2, 2]);
    expect(array.data).toBeInstanceOf(Float32Array);
    expect(Array.from(array.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(writeNpy(array)).toEqual(float32Matrix);
  });

  it("reads a big-endian float64 matrix in Fortran order into C order", () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6, each an IEEE double, big-endian.
    const bytes = npyV1("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", 118, [
      0x3f, 0xf0, 0, 0, 0, 0, 0, 0, // 1
      0x40, 0x10, 0, 0, 0, 0, 0, 0, // 4
      0x40, 0x00, 0, 0, 0, 0, 0, 0, // 2
      0x40, 0x14, 0, 0, 0, 0, 0, 0, // 5
      0x40, 0x08, 0, 0, 0, 0, 0, 0, // 3
      0x40, 0x18, 0, 0, 0, 0, 0, 0, // 6
    ]);
    const array = parseNpy(bytes);
    expect(array.descr).toBe("<f8");
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("reads 0-d scalars of the types implicit saves: int64, float64, bool, unicode", () => {
    const int64 = npyV1("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 118, [0x07, 0, 0, 0, 0, 0, 0, 0]);
    expect(npyScalar(parseNpy(int64))).toBe(7n);
    const negative = npyV1("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 118, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(npyScalar(parseNpy(negative))).toBe(-2n);
    const float64 = npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 118, [0, 0, 0, 0, 0, 0, 0xe0, 0x3f]);
    expect(npyScalar(parseNpy(float64))).toBe(0.5);
    const bool = npyV1("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", 118, [0x01]);
    expect(npyScalar(parseNpy(bool))).toBe(true);
    // dtype.name of float32, as implicit saves it: '<U7', UTF-32LE code points.
    const unicode = npyV1("{'descr': '<U7', 'fortran_order': False, 'shape': (), }", 118, ascii("float32").flatMap((c) => [c, 0, 0, 0]));
    expect(npyScalar(parseNpy(unicode))).toBe("float32");
    const bytesString = npyV1("{'descr': '|S4', 'fortran_order': False, 'shape': (), }", 118, [0x61, 0x62, 0, 0]);
    expect(npyScalar(parseNpy(bytesString))).toBe("ab");
    const bigInt32 = npyV1("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", 118, [0xff, 0xff, 0xff, 0xfd]);
    expect(npyScalar(parseNpy(bigInt32))).toBe(-3);
  });

  it("writes scalars as numpy does: 0-d arrays with no growth padding", () => {
    // np.save(f, np.array(7)) → '<i8', shape (), header padded to 118 with no spare axis room.
    const expected = npyV1("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 118, [7, 0, 0, 0, 0, 0, 0, 0]);
    expect(writeNpy(scalarArray(7, "int"))).toEqual(expected);
    expect(writeNpy(scalarArray("float32"))).toEqual(npyV1("{'descr': '<U7', 'fortran_order': False, 'shape': (), }", 118, ascii("float32").flatMap((c) => [c, 0, 0, 0])));
    expect(writeNpy(scalarArray(true))).toEqual(npyV1("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", 118, [1]));
  });

  it("reads version 2.0 (u32 length) and 3.0 (UTF-8) headers", () => {
    const header = ascii("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }");
    const length = 128 - 12;
    const body = [...header, ...Array(length - header.length - 1).fill(0x20), 0x0a, 5, 0, 0, 0, 0xfa, 0xff, 0xff, 0xff];
    for (const major of [2, 3]) {
      const bytes = new Uint8Array([...MAGIC, major, 0, length & 0xff, length >> 8, 0, 0, ...body]);
      const array = parseNpy(bytes);
      expect(array.descr).toBe("<i4");
      expect(Array.from(array.data as Int32Array)).toEqual([5, -6]);
    }
  });

  it("round-trips every supported dtype through writeNpy and parseNpy", () => {
    const arrays: NpyArray[] = [
      { descr: "<f4", shape: [3, 1], data: new Float32Array([0.25, -1, 3e38]) },
      { descr: "<f8", shape: [0, 4], data: new Float64Array(0) },
      { descr: "<i4", shape: [2, 2, 2], data: new Int32Array([1, -2, 3, -4, 5, -6, 7, -8]) },
      { descr: "<i8", shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n]) },
      { descr: "<u2", shape: [2], data: new Uint16Array([0, 65535]) },
      { descr: "|u1", shape: [2], data: new Uint8Array([0, 255]) },
      { descr: "|i1", shape: [2], data: new Int8Array([-128, 127]) },
      { descr: "|b1", shape: [3], data: new Uint8Array([1, 0, 1]) },
      { descr: "<U5", shape: [2], data: ["héllo", "𝄞"] },
    ];
    for (const array of arrays) {
      const back = parseNpy(writeNpy(array));
      expect(back.descr).toBe(array.descr);
      expect(back.shape).toEqual(array.shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(array.data as ArrayLike<unknown>));
      const written = writeNpy(array);
      expect((10 + (written[8] | (written[9] << 8))) % 64, "data starts 64-byte aligned").toBe(0);
    }
  });
});

describe(".npy errors name the array and what is wrong", () => {
  const good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const data = Array(16).fill(0);
  const cases: [string, Uint8Array, RegExp][] = [
    ["bad magic", new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x5a, 1, 0, 0, 0]), /no \\x93NUMPY magic/],
    ["too short", new Uint8Array([0x93, 0x4e]), /too short/],
    ["version 4.0", new Uint8Array([...MAGIC, 4, 0, 0, 0, 0, 0]), /version 4\.0 is not supported/],
    ["header past the end", new Uint8Array([...MAGIC, 1, 0, 0x76, 0, ...ascii("{'descr'")]), /truncated: the header needs 118 bytes, 8 are present/],
    ["huge header length", new Uint8Array([...MAGIC, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x7b]), /header of 4294967295 bytes is larger than/],
    ["missing key", npyV1("{'descr': '<f4', 'shape': (2, 2), }", 118, data), /expected keys descr, fortran_order, shape; got descr, shape/],
    ["extra key", npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1, }", 118, data), /got descr, fortran_order, shape, x/],
    ["unclosed dict", npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", 118, data), /malformed header/],
    ["shape not a tuple", npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': 4, }", 118, data), /shape is not a tuple of non-negative integers/],
    ["negative shape", npyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", 118, data), /shape is not a tuple of non-negative integers/],
    ["fortran_order a string", npyV1("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2, 2), }", 118, data), /fortran_order is not True or False/],
    ["code in the header", npyV1("{'descr': __import__('os'), 'fortran_order': False, 'shape': (2, 2), }", 118, data), /malformed header: unexpected/],
    ["half floats", npyV1(good.replace("<f4", "<f2"), 118, data), /dtype '<f2' is not supported \(float32 and float64 are\)/],
    ["complex", npyV1(good.replace("<f4", "<c16"), 118, data), /dtype '<c16' \(complex\) is not supported/],
    ["objects", npyV1(good.replace("'<f4'", "'|O'"), 118, data), /pickled Python objects/],
    ["datetimes", npyV1(good.replace("<f4", "<M8"), 118, data), /datetime/],
    ["nonsense dtype", npyV1(good.replace("<f4", "<zz"), 118, data), /unknown dtype '<zz'/],
    ["no byte order", npyV1(good.replace("<f4", "|f4"), 118, data), /does not say its byte order/],
    ["structured dtype", npyV1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 2), }", 118, data), /structured \(record\) dtypes are not supported/],
    ["truncated data", npyV1(good, 118, data.slice(0, 13)), /truncated: shape \(2, 2\) of <f4 needs 16 data bytes, 13 are present/],
    ["wrong shape (extra bytes)", npyV1(good, 118, [...data, 0, 0, 0, 0]), /4 bytes after the data that shape \(2, 2\) of <f4 does not account for/],
    ["a shape far beyond the bytes", npyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1048576), }", 118, data), /needs 9223372036854775808 data bytes, 16 are present|too many elements/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      const error = errorOf(() => parseNpy(bytes, "model.npz:user_factors.npy"));
      expect(error).toBeInstanceOf(NpyError);
      expect(error.message.startsWith("model.npz:user_factors.npy: ")).toBe(true);
      expect(error.message).toMatch(message);
    });
  }

  it("writeNpy refuses data that does not fit the shape or the dtype", () => {
    expect(errorOf(() => writeNpy({ descr: "<f4", shape: [2, 2], data: new Float32Array(3) })).message).toMatch(/holds 4 elements, the data has 3/);
    expect(errorOf(() => writeNpy({ descr: "<f4", shape: [2], data: new Float64Array(2) })).message).toMatch(/must be a Float32Array, got Float64Array/);
    expect(errorOf(() => writeNpy({ descr: "<U2", shape: [1], data: ["abc"] })).message).toMatch(/longer than <U2 holds/);
  });
});

// The hand-written bytes above are what numpy writes; when numpy is at hand, check that directly.
const python = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
describe.skipIf(python.status !== 0)("against numpy itself (when python3 and numpy are installed)", () => {
  const numpySave = (expression: string): Uint8Array => {
    const script = `import io, sys, numpy as np\nb = io.BytesIO()\nnp.save(b, ${expression})\nsys.stdout.write(b.getvalue().hex())`;
    const result = spawnSync("python3", ["-c", script], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr);
    return new Uint8Array(Buffer.from(result.stdout, "hex"));
  };

  it("np.save writes the bytes writeNpy writes, and parseNpy reads np.save's", () => {
    const cases: [string, NpyArray][] = [
      ["np.array([[1, 2], [3, 4]], dtype='<f4')", { descr: "<f4", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      ["np.arange(12345 * 3, dtype='<f4').reshape(12345, 3)", { descr: "<f4", shape: [12345, 3], data: Float32Array.from({ length: 12345 * 3 }, (_, i) => i) }],
      ["np.array(7)", scalarArray(7, "int")],
      ["np.array(0.01)", scalarArray(0.01, "float")],
      ["np.array(True)", scalarArray(true)],
      ["np.array('float32')", scalarArray("float32")],
    ];
    for (const [expression, array] of cases) {
      const bytes = numpySave(expression);
      expect(writeNpy(array), expression).toEqual(bytes);
      expect(Array.from(parseNpy(bytes).data as ArrayLike<unknown>)).toEqual(Array.from(array.data as ArrayLike<unknown>));
    }
    const fortran = parseNpy(numpySave("np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3))"));
    expect(Array.from(fortran.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
