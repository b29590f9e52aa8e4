// Interning of id columns straight from the file's bytes: each row's key is hashed and
// compared in place, and only a key never seen before is copied and decoded to a JS
// string. A 17.5M-row file with 360K users thus makes 360K user strings, not 17.5M.

/** Turns the bytes [start, end) of `bytes` into a string (the file's encoding). */
export type Decode = (bytes: Uint8Array, start: number, end: number) => string;

/**
 * An open-addressing hash table from byte strings to dense ids 0, 1, 2, … in first-seen
 * order. Keys are stored once in a growing byte arena; `keys[id]` is the decoded string.
 */
export class ByteInterner {
  /** Decoded keys, indexed by id. */
  readonly keys: string[] = [];
  private readonly decode: Decode;
  private arena: Uint8Array;
  private arenaView: DataView;
  private arenaUsed = 0;
  // Keys are hashed and compared four bytes per load through DataViews (three times faster
  // than byte loops on 40-byte sha1s); the view of the caller's buffer is made once per buffer.
  private input: Uint8Array | undefined;
  private inputView: DataView = new DataView(new ArrayBuffer(0));
  /** keyStart[id] .. keyStart[id + 1] is key id's bytes in the arena. */
  private keyStart: Int32Array;
  private hashes: Int32Array;
  // Four ints per slot: hash, id + 1 (0 when empty), arena offset, length. Keeping all a
  // probe needs in one cache line leaves a lookup one miss in the table and one in the
  // arena, which matters with 160K keys that no longer fit in cache.
  private table: Int32Array;
  /** Slots − 1; slots are a power of two, at most half full. */
  private mask: number;
  // Rows come grouped (all of a user's lines together), so the previous key is the best guess.
  private lastId = -1;
  private lastStart = 0;
  private lastLength = -1;

  constructor(decode: Decode, expectedKeys = 1024) {
    this.decode = decode;
    let slots = 16;
    while (slots < expectedKeys * 2) slots *= 2;
    this.table = new Int32Array(slots * 4);
    this.mask = slots - 1;
    this.keyStart = new Int32Array(expectedKeys + 1);
    this.hashes = new Int32Array(expectedKeys);
    this.arena = new Uint8Array(expectedKeys * 16);
    this.arenaView = new DataView(this.arena.buffer);
  }

  private viewOf(bytes: Uint8Array): DataView {
    if (bytes !== this.input) {
      this.input = bytes;
      this.inputView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.inputView;
  }

  /** Number of distinct keys so far. */
  get size(): number {
    return this.keys.length;
  }

  /** The id of the key in bytes [start, end), adding it (and decoding it) if new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const view = this.viewOf(bytes);
    if (length === this.lastLength && equalBytes(this.arenaView, this.lastStart, view, start, length)) return this.lastId;
    const hash = hashBytes(view, start, end);
    const table = this.table;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot << 2;
      const entry = table[at + 1];
      if (entry === 0) return this.add(bytes, start, end, hash, at);
      if (table[at] === hash && table[at + 3] === length && equalBytes(this.arenaView, table[at + 2], view, start, length)) {
        this.lastId = entry - 1;
        this.lastStart = table[at + 2];
        this.lastLength = length;
        return entry - 1;
      }
    }
  }

  /** The id of the key, or -1 when it has not been interned. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const view = this.viewOf(bytes);
    const hash = hashBytes(view, start, end);
    const table = this.table;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot << 2;
      const entry = table[at + 1];
      if (entry === 0) return -1;
      if (table[at] === hash && table[at + 3] === end - start && equalBytes(this.arenaView, table[at + 2], view, start, end - start)) return entry - 1;
    }
  }

  private add(bytes: Uint8Array, start: number, end: number, hash: number, at: number): number {
    const id = this.keys.length;
    const length = end - start;
    if (id + 1 >= this.hashes.length) {
      this.hashes = grow(this.hashes, this.hashes.length * 2);
      this.keyStart = grow(this.keyStart, this.hashes.length + 1);
    }
    if (this.arenaUsed + length > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + length));
      bigger.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = bigger;
      this.arenaView = new DataView(bigger.buffer);
    }
    const offset = this.arenaUsed;
    this.arena.set(bytes.subarray(start, end), offset);
    this.arenaUsed += length;
    this.hashes[id] = hash;
    this.keyStart[id] = offset;
    this.keyStart[id + 1] = this.arenaUsed;
    this.keys.push(this.decode(bytes, start, end));
    const table = this.table;
    table[at] = hash;
    table[at + 1] = id + 1;
    table[at + 2] = offset;
    table[at + 3] = length;
    this.lastId = id;
    this.lastStart = offset;
    this.lastLength = length;
    if ((id + 1) * 2 > this.mask) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = (this.mask + 1) * 2;
    const table = new Int32Array(slots * 4);
    const mask = slots - 1;
    for (let id = 0; id < this.keys.length; id++) {
      const hash = this.hashes[id];
      let slot = hash & mask;
      while (table[(slot << 2) + 1] !== 0) slot = (slot + 1) & mask;
      const at = slot << 2;
      table[at] = hash;
      table[at + 1] = id + 1;
      table[at + 2] = this.keyStart[id];
      table[at + 3] = this.keyStart[id + 1] - this.keyStart[id];
    }
    this.table = table;
    this.mask = mask;
  }
}

function grow<T extends Int32Array>(array: T, length: number): T {
  const bigger = new Int32Array(length);
  bigger.set(array);
  return bigger as T;
}

function equalBytes(a: DataView, aStart: number, b: DataView, bStart: number, length: number): boolean {
  let i = 0;
  for (; i + 4 <= length; i += 4) if (a.getInt32(aStart + i, true) !== b.getInt32(bStart + i, true)) return false;
  for (; i < length; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false;
  return true;
}

/**
 * Hash of bytes [start, end) of a view: four bytes per multiply (FNV-1a's byte-at-a-time
 * loop costs a multiply per byte on 40-byte sha1 keys), then murmur3's finalizer so the
 * low bits, which pick the slot, depend on every byte.
 */
export function hashBytes(view: DataView, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ view.getInt32(i, true), 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ view.getUint8(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
