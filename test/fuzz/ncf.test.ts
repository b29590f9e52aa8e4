// Property-based fuzzing of the NCF candidates parser: valid files read back exactly;
// arbitrary and mutated text ends in cases or a DataError naming the file and line.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseNcfNegatives, readNcfNegatives } from "../../src/evaluation/ncf.js";
import { expectDataError } from "./outcomes.js";
import { outcome, params, TEST_TIMEOUT } from "./support.js";

const FILE = "fuzz.test.negative";
const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,6}$/);
const line = fc.record({ user: id, item: id, negatives: fc.array(id, { minLength: 1, maxLength: 6 }) });

describe("fuzz: NCF candidates", () => {
  it("valid files read back exactly (LF or CRLF, trailing tabs, blank lines)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 10 }), fc.boolean(), fc.boolean(), async (cases, crlf, trailingTab) => {
        const eol = crlf ? "\r\n" : "\n";
        const text = cases.map((c) => `(${c.user},${c.item})\t${c.negatives.join("\t")}${trailingTab ? "\t" : ""}`).join(eol + eol) + eol;
        const want = cases.map((c, k) => ({ line: 2 * k + 1, ...c }));
        expect(parseNcfNegatives(text, FILE)).toEqual(want);
        const result = await outcome("readNcfNegatives", () => readNcfNegatives({ name: FILE, bytes: new TextEncoder().encode(text) }));
        if (!result.ok) throw result.error;
        expect(result.value).toEqual(want);
      }),
      params("ncf: valid files", 40),
    );
  }, TEST_TIMEOUT);

  it("arbitrary text and bytes: cases, or a DataError naming the file and line", async () => {
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.array(fc.constantFrom("(", ")", ",", "\t", "\n", "\r", " ", "a", "1", "\u0000"), { maxLength: 60 }).map((c) => c.join("")));
    await fc.assert(
      fc.asyncProperty(text, fc.uint8Array({ maxLength: 64 }), async (t, raw) => {
        const parsed = await outcome("parseNcfNegatives", () => parseNcfNegatives(t, FILE));
        if (!parsed.ok) expect(expectDataError(parsed.error, FILE).line).toBeDefined();
        const read = await outcome("readNcfNegatives", () => readNcfNegatives({ name: FILE, bytes: raw }));
        if (!read.ok) expectDataError(read.error, FILE);
      }),
      params("ncf: arbitrary", 60),
    );
  }, TEST_TIMEOUT);
});
