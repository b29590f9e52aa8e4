// The host's allocator over wasm linear memory. Kernels never allocate: the host
// plans every array here and passes pointers. Typed-array views are made fresh from
// the current `memory.buffer` on every call, so a memory growth never leaves a stale
// view inside the library (a caller that keeps a view across allocations must re-read it).

// A cache line: a row of factors that starts on one (64 floats = 256 bytes = 4 lines)
// costs the gathers one line fewer than a row that straddles five.
export const ALIGN = 64;
const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
export const MAX_MEMORY_BYTES = 65536 * PAGE;

interface FreeBlock { ptr: number; size: number }

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private readonly base: number;
  /** One past the highest byte ever handed out; memory past it is untouched. */
  private top: number;
  /** Free blocks below `top`, sorted by address, never adjacent (coalesced). */
  private readonly free: FreeBlock[] = [];
  private readonly sizes = new Map<number, number>();

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = alignUp(heapBase);
    this.top = this.base;
  }

  /** Bytes handed out and not yet freed. */
  get bytesInUse(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  /**
   * Bytes still obtainable in total before wasm32's 4 GiB limit: everything above the
   * module's static data that no live block holds (free blocks count; fragmentation aside).
   */
  get bytesAvailable(): number {
    return MAX_MEMORY_BYTES - this.base - this.bytesInUse;
  }

  /** Current size of linear memory in bytes (it never shrinks). */
  get bytesReserved(): number {
    return this.memory.buffer.byteLength;
  }

  /** @internal Tests: grow the memory by a page on every alloc, so on an unshared memory every view taken before an alloc is detached. */
  growOnEveryAlloc = false;

  /** A 64-byte-aligned block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    if (this.growOnEveryAlloc) this.memory.grow(1);
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size < size) continue;
      const ptr = block.ptr;
      if (block.size === size) this.free.splice(i, 1);
      else { block.ptr += size; block.size -= size; }
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_MEMORY_BYTES) {
      throw new RangeError(`edgerec: out of WebAssembly memory: ${formatBytes(size)} more would exceed the 4 GiB wasm32 limit (${formatBytes(this.bytesInUse)} in use)`);
    }
    const current = this.memory.buffer.byteLength;
    if (end > current) {
      const pages = Math.ceil((end - current) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (cause) {
        throw new RangeError(`edgerec: could not grow WebAssembly memory by ${formatBytes(pages * PAGE)}`, { cause });
      }
    }
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /** Zero-filled block. */
  allocZeroed(bytes: number): number {
    const ptr = this.alloc(bytes);
    new Uint8Array(this.memory.buffer, ptr, alignUp(Math.max(bytes, 1))).fill(0);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`edgerec: internal error: release of unknown block ${ptr}`);
    this.sizes.delete(ptr);
    let lo = 0, hi = this.free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.free[mid].ptr < ptr) lo = mid + 1; else hi = mid; }
    const block: FreeBlock = { ptr, size };
    const prev = this.free[lo - 1];
    const next = this.free[lo];
    if (prev && prev.ptr + prev.size === ptr) { prev.size += size; this.mergeNext(lo - 1); return this.trimTop(); }
    if (next && ptr + size === next.ptr) { next.ptr = ptr; next.size += size; return this.trimTop(); }
    this.free.splice(lo, 0, block);
    this.trimTop();
  }

  private mergeNext(i: number): void {
    const block = this.free[i], next = this.free[i + 1];
    if (next && block.ptr + block.size === next.ptr) { block.size += next.size; this.free.splice(i + 1, 1); }
  }

  // A free block that ends at `top` goes back to the untouched region, so one big
  // later allocation can use it together with fresh pages.
  private trimTop(): void {
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) { this.top = last.ptr; this.free.pop(); }
  }

  f32(ptr: number, length: number): Float32Array { return new Float32Array(this.memory.buffer, ptr, length); }
  f64(ptr: number, length: number): Float64Array { return new Float64Array(this.memory.buffer, ptr, length); }
  i32(ptr: number, length: number): Int32Array { return new Int32Array(this.memory.buffer, ptr, length); }
  u8(ptr: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, ptr, length); }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}
