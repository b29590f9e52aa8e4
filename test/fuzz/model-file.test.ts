// Property-based fuzzing of the model-file loader: small models of every kind are saved,
// then truncated, bit-flipped, or forged with the checksum recomputed (so the forgery
// reaches the chunk parsers): chunk lengths and counts forged to huge values, META
// fields, UITM headers and catalogs made inconsistent. Every case must load a model that
// answers queries, or throw an Error that says it is a bad model file: never a TypeError
// or RangeError from the runtime, a hang, or an allocation sized by a forged field.

import fc from "fast-check";
import { zlibSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, CosineRecommender, CsrMatrix, getEngine, ItemItemRecommender, MatrixFactorization } from "../../src/index.js";
import { crc32 } from "../../src/io/crc32.js";
import { readModelFile } from "../../src/model-file.js";
import { randomInteractions } from "../reference.js";
import { outcome, params, TEST_TIMEOUT } from "./support.js";

type Loaded = AlternatingLeastSquares | BayesianPersonalizedRanking | MatrixFactorization | ItemItemRecommender;

/** What the CLI does with a model file of unknown kind (cli/models.mjs loadAnyModel). */
function loadAny(bytes: Uint8Array): Loaded {
  const kind = readModelFile(bytes).kind;
  if (kind === "als") return AlternatingLeastSquares.load(bytes);
  if (kind === "bpr") return BayesianPersonalizedRanking.load(bytes);
  if (kind === "mf") return MatrixFactorization.load(bytes);
  return ItemItemRecommender.load(bytes);
}

// A clear error says the file is the problem: the model-file prefix, or a loader's name.
const CLEAR = /^(edgerec model file: |\w+\.load: )/;

function expectClearError(error: unknown): void {
  if (error instanceof Error && CLEAR.test(error.message)) return;
  throw new Error(`expected a clear model-file error, got ${error instanceof Error ? `${error.constructor.name}: ${error.message}\n${error.stack}` : String(error)}`);
}

/** A loaded model must answer: a recommendation and similar items, where it has any. */
function exercise(model: Loaded): void {
  if (model instanceof MatrixFactorization) {
    if (model.nUsers > 0 && model.nItems > 0) model.recommend(0, undefined, { n: 3, filterAlreadyLikedItems: false });
    return;
  }
  if (model.nItems > 0) model.similarItems(0, { n: 3 });
  if (model.nUsers > 0 && model.nItems > 0 && !(model instanceof ItemItemRecommender)) {
    model.recommend(0, model.userItems, { n: 3, filterAlreadyLikedItems: model.userItems !== undefined });
  }
}

interface Chunk { tag: string; at: number; length: number }

/** The chunk table of a model file (which must be well-formed). */
function chunksOf(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  let at = 16;
  for (let c = view.getUint32(12, true); c > 0; c--) {
    const length = view.getUint32(at + 4, true);
    chunks.push({ tag: String.fromCharCode(...bytes.subarray(at, at + 4)), at, length });
    at += 8 + ((length + 3) & ~3);
  }
  return chunks;
}

/** Rewrites the trailing CRC so a forgery gets past the checksum to the parsers. */
function withCrc(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) return bytes;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** The file with chunk `index`'s payload replaced (lengths and padding redone). */
function replaceChunk(bytes: Uint8Array, index: number, payload: Uint8Array): Uint8Array {
  const chunks = chunksOf(bytes);
  const c = chunks[index];
  const oldEnd = c.at + 8 + ((c.length + 3) & ~3);
  const padded = (payload.length + 3) & ~3;
  const out = new Uint8Array(bytes.length - (oldEnd - c.at) + 8 + padded);
  out.set(bytes.subarray(0, c.at + 8));
  new DataView(out.buffer).setUint32(c.at + 4, payload.length, true);
  out.set(payload, c.at + 8);
  out.set(bytes.subarray(oldEnd), c.at + 8 + padded);
  return withCrc(out);
}

const models: Uint8Array[] = [];

beforeAll(async () => {
  const userItems = CsrMatrix.fromCoo(randomInteractions(12, 9, 0.3, 5));
  const catalog = { userKeys: Array.from({ length: 12 }, (_, u) => `u${u}`), itemKeys: Array.from({ length: 9 }, (_, i) => `i${i}`), itemLabels: Array.from({ length: 9 }, (_, i) => `Item ${i}`) };
  const als = new AlternatingLeastSquares({ factors: 3, iterations: 2, seed: 1 });
  await als.fit(userItems);
  models.push(als.save());
  als.catalog = catalog;
  als.userItems = userItems;
  models.push(als.save());
  const bpr = new BayesianPersonalizedRanking({ factors: 3, iterations: 2, seed: 1 });
  await bpr.fit(userItems);
  bpr.userItems = userItems;
  models.push(bpr.save());
  const mf = new MatrixFactorization({ factors: 2, iterations: 2, seed: 1 });
  await mf.fit(userItems);
  mf.catalog = catalog;
  models.push(mf.save());
  const cosine = new CosineRecommender({ K: 4 });
  await cosine.fit(userItems);
  cosine.catalog = catalog;
  models.push(cosine.save());
  // Warm up: the first query of a kind allocates engine-wide scratch once, which the
  // per-case heap check below would otherwise take for a leak.
  for (const bytes of models) {
    const model = loadAny(bytes);
    exercise(model);
    model.userItems?.dispose();
    model.dispose();
  }
}, TEST_TIMEOUT);

const u32 = fc.oneof(fc.constantFrom(0, 1, 3, 4, 0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffc, 0xfffffffd, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
const where = fc.double({ min: 0, max: 1, noNaN: true });

// One way of damaging a model file; `pick` selects a chunk or a position.
type Damage =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; bits: number; fixCrc: boolean }
  | { kind: "chunkLength"; pick: number; value: number }
  | { kind: "count"; value: number }
  | { kind: "meta"; field: string; value: unknown }
  | { kind: "metaText"; text: string }
  | { kind: "uitm"; word: number; value: number }
  | { kind: "catalog"; json: string }
  | { kind: "payload"; pick: number; bytes: Uint8Array };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: where }),
  fc.record({ kind: fc.constant("flip" as const), at: where, bits: fc.integer({ min: 1, max: 255 }), fixCrc: fc.boolean() }),
  fc.record({ kind: fc.constant("chunkLength" as const), pick: fc.nat(), value: u32 }),
  fc.record({ kind: fc.constant("count" as const), value: u32 }),
  fc.record({
    kind: fc.constant("meta" as const),
    field: fc.constantFrom("nUsers", "nItems", "factors", "kind", "options"),
    value: fc.oneof(
      fc.constantFrom(0, 1, -1, 2.5, 1e9, 2 ** 31, 2 ** 53, 1e300, null, "x", "als", "bpr", "mf", "cosine", "bm25", "itemitem", [], {}, true),
      fc.record({ factors: fc.oneof(fc.integer(), fc.constant("3")), iterations: fc.integer(), regularization: fc.double() }, { requiredKeys: [] }),
    ),
  }),
  fc.record({ kind: fc.constant("metaText" as const), text: fc.oneof(fc.constantFrom("null", "[]", "1", '"als"', "{}", '{"kind":"als"}', "{", ""), fc.string()) }),
  fc.record({ kind: fc.constant("uitm" as const), word: fc.nat({ max: 40 }), value: u32 }),
  fc.record({
    kind: fc.constant("catalog" as const),
    json: fc.oneof(fc.constantFrom("null", "[]", "{}", '{"userKeys":[],"itemKeys":[]}', '{"userKeys":null}', "not json"), fc.json()),
  }),
  fc.record({ kind: fc.constant("payload" as const), pick: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function apply(bytes: Uint8Array, d: Damage): Uint8Array {
  let chunks: Chunk[];
  try {
    chunks = chunksOf(bytes);
    if (chunks.length === 0 || chunks.some((c) => c.at + 8 + c.length > bytes.length)) throw new Error("damaged");
  } catch {
    // Already damaged past reading its chunk table: only byte-level damage applies.
    if (d.kind !== "truncate" && d.kind !== "flip") return bytes;
    chunks = [];
  }
  switch (d.kind) {
    case "truncate":
      return bytes.slice(0, Math.floor(d.at * bytes.length));
    case "flip": {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[Math.min(out.length - 1, Math.floor(d.at * out.length))] ^= d.bits;
      return d.fixCrc ? withCrc(out) : out;
    }
    case "chunkLength": {
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(chunks[d.pick % chunks.length].at + 4, d.value, true);
      return withCrc(out);
    }
    case "count": {
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(12, d.value, true);
      return withCrc(out);
    }
    case "meta": {
      const index = chunks.findIndex((c) => c.tag === "META");
      if (index < 0) return bytes;
      let meta: Record<string, unknown>;
      try {
        meta = JSON.parse(new TextDecoder().decode(bytes.subarray(chunks[index].at + 8, chunks[index].at + 8 + chunks[index].length)));
      } catch {
        return bytes;
      }
      if (meta === null || typeof meta !== "object") return bytes;
      meta[d.field] = d.value;
      return replaceChunk(bytes, index, new TextEncoder().encode(JSON.stringify(meta)));
    }
    case "metaText": {
      const index = chunks.findIndex((c) => c.tag === "META");
      return index < 0 ? bytes : replaceChunk(bytes, index, new TextEncoder().encode(d.text));
    }
    case "uitm": {
      const c = chunks.find((c) => c.tag === "UITM" || c.tag === "SIMI");
      if (!c || d.word * 4 + 4 > c.length) return bytes;
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(c.at + 8 + d.word * 4, d.value, true);
      return withCrc(out);
    }
    case "catalog": {
      const index = chunks.findIndex((c) => c.tag === "CATL");
      if (index < 0) return bytes;
      return replaceChunk(bytes, index, zlibSync(new TextEncoder().encode(d.json)));
    }
    case "payload":
      return replaceChunk(bytes, d.pick % chunks.length, d.bytes);
  }
}

describe("fuzz: model files", () => {
  it("damaged model files: a model that answers, or a clear model-file error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(damage, { minLength: 1, maxLength: 3 }), async (pick, damages) => {
        const original = models[pick % models.length];
        const bytes = damages.reduce(apply, original);
        const heap = getEngine().heap;
        const before = heap.bytesInUse;
        const result = await outcome("load", () => {
          const model = loadAny(bytes);
          try {
            exercise(model);
          } finally {
            // The training matrix a load decodes is a CsrMatrix of its own (freed by its
            // finalizer at GC, or here): dispose() leaves it, as it may be the caller's.
            model.userItems?.dispose();
            model.dispose();
          }
        });
        if (!result.ok) expectClearError(result.error);
        // Loaded and disposed, or refused: either way nothing stays in the wasm heap. (It
        // may shrink: a finalizer can free an earlier matrix mid-case, as seen on Deno.)
        if (heap.bytesInUse > before) throw new Error(`the wasm heap grew by ${heap.bytesInUse - before} bytes`);
      }),
      params("model file: damaged", 150),
    );
  }, TEST_TIMEOUT);

  it("arbitrary bytes after the magic: a clear model-file error", async () => {
    const magic = new TextEncoder().encode("EDGEREC\n\x01\x00\x00\x00");
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (tail, fixCrc) => {
        const bytes = new Uint8Array([...magic, ...tail, 0, 0, 0, 0]);
        const result = await outcome("load", () => loadAny(fixCrc ? withCrc(bytes) : bytes));
        if (result.ok) throw new Error("random bytes loaded as a model");
        expectClearError(result.error);
      }),
      params("model file: arbitrary bytes", 50),
    );
  }, TEST_TIMEOUT);

  it("the undamaged models load", () => {
    for (const bytes of models) expect(() => exercise(loadAny(bytes))).not.toThrow();
  });
});
