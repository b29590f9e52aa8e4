// Byte sources for the readers: a file, a gzip file, one member of a zip archive, or bytes
// already in memory, each read as a stream of chunks so a 1.5 GB dataset never sits in
// memory whole. node:fs is imported lazily so the in-memory path also works in browsers.

import { Gunzip, Inflate } from "fflate";
import { crc32 } from "./crc32.js";
import { DataError } from "./errors.js";

/** What the readers accept: a file path, or named bytes (a browser upload, a test fixture). */
export type SourceInput = string | { name: string; bytes: Uint8Array };

/**
 * A stream of chunks from one file or archive member. Each chunk is only valid until the
 * next one is requested. `bytesRead`/`totalBytes` count stored (compressed) bytes, so they
 * measure progress through the file whatever its compression.
 */
export interface ByteSource extends AsyncIterable<Uint8Array> {
  /** The input's name as given, for messages. */
  readonly name: string;
  /** Stored bytes to read, when known. */
  readonly totalBytes: number | undefined;
  /** Stored bytes read so far. */
  readonly bytesRead: number;
  /** Expected size of the decompressed stream, when the container records it (a guess for gzip). */
  readonly decodedSizeHint: number | undefined;
}

/** Size of one read from storage. */
export const CHUNK_SIZE = 1 << 20;

/** Random access to stored bytes: a file handle or an array. */
interface Storage {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into a fresh array; shorter only at the end. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

interface FileHandleLike {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

async function openFileStorage(path: string): Promise<Storage> {
  // A variable specifier keeps bundlers from pulling node:fs into browser builds.
  const fsModule = "node:fs/promises";
  const fs = (await import(fsModule)) as { open(path: string, flags: string): Promise<FileHandleLike> };
  let handle: FileHandleLike;
  try {
    handle = await fs.open(path, "r");
  } catch (error) {
    const code = (error as { code?: string }).code;
    const what = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message;
    throw new DataError(what, { file: path });
  }
  const { size } = await handle.stat();
  return {
    size,
    async read(position, length) {
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    },
    close: () => handle.close(),
  };
}

function memoryStorage(bytes: Uint8Array): Storage {
  return {
    size: bytes.length,
    // Copies, so nothing downstream can alias (or mutate) the caller's array.
    read: async (position, length) => bytes.slice(position, Math.min(bytes.length, position + length)),
    close: async () => {},
  };
}

/** Splits `archive.zip:member/path.csv` into archive and member; no member for other names. */
export function splitArchivePath(name: string): { archive: string; member?: string } {
  const match = /^(.*?\.zip)(?::(.*))?$/is.exec(name);
  if (!match) return { archive: name };
  return { archive: match[1], member: match[2] === undefined || match[2] === "" ? undefined : match[2] };
}

/**
 * Opens a path or in-memory bytes as a chunk stream. `data.csv.gz` (or any gzip-magic
 * file) is gunzipped on the fly; `archive.zip:member.csv` streams that one member, never
 * inflating the others. Missing files, missing members and truncated or corrupt archives
 * are DataErrors.
 */
export async function openSource(input: SourceInput): Promise<ByteSource> {
  const name = typeof input === "string" ? input : input.name;
  const { archive, member } = splitArchivePath(name);
  const isZip = archive !== name || /\.zip$/i.test(name);
  const storage = typeof input === "string" ? await openFileStorage(isZip ? archive : name) : memoryStorage(input.bytes);
  try {
    if (isZip) return await openZipMember(storage, name, archive, member);
    const head = await storage.read(0, 4);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      // The trailer's length is the last member's, modulo 4 GiB: a hint, and only if plausible.
      const trailer = await storage.read(Math.max(0, storage.size - 4), 4);
      const length = trailer.length === 4 ? u32(trailer, 0) : 0;
      return gunzipSource(rangeSource(storage, name, 0, storage.size), name, plausibleDecodedSize(length, storage.size, true, length >= storage.size));
    }
    if (head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4) {
      const members = (await readZipDirectory(storage, name)).filter((e) => !e.name.endsWith("/")).map((e) => e.name);
      throw new DataError(`is a zip archive: name a member as ${name}:<member> (members: ${listNames(members)})`, { file: name });
    }
    return rangeSource(storage, name, 0, storage.size);
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * The file members of a zip archive (a path, or named bytes), in directory order; an
 * empty list for anything that is not a zip. Lets a caller that was handed an archive
 * (a browser upload) show its members and pick one, without inflating any.
 */
export async function listArchiveMembers(input: SourceInput): Promise<string[]> {
  const name = typeof input === "string" ? input : input.name;
  const { archive } = splitArchivePath(name);
  const storage = typeof input === "string" ? await openFileStorage(archive) : memoryStorage(input.bytes);
  try {
    const head = await storage.read(0, 4);
    const isZip = head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4;
    if (!isZip) return [];
    return (await readZipDirectory(storage, archive)).filter((e) => !e.name.endsWith("/")).map((e) => e.name);
  } finally {
    await storage.close();
  }
}

/**
 * One member of a zip archive whatever the archive's name (a numpy .npz is a zip), with
 * the same size and CRC-32 checks as openSource's `archive.zip:member`.
 */
export async function openArchiveMember(input: SourceInput, member: string): Promise<ByteSource> {
  const name = typeof input === "string" ? input : input.name;
  const storage = typeof input === "string" ? await openFileStorage(name) : memoryStorage(input.bytes);
  try {
    return await openZipMember(storage, `${name}:${member}`, name, member);
  } catch (error) {
    await storage.close();
    throw error;
  }
}

// Streams stored bytes [start, end) in CHUNK_SIZE reads, closing the storage at the end.
// Reads past `end` never happen; a file that ends early yields what it has (plain files
// are taken as they are; the archive readers check sizes themselves).
function rangeSource(storage: Storage, name: string, start: number, end: number): ByteSource {
  let bytesRead = 0;
  return {
    name,
    totalBytes: end - start,
    get bytesRead() {
      return bytesRead;
    },
    decodedSizeHint: end - start,
    async *[Symbol.asyncIterator]() {
      // One read ahead: the disk works on the next chunk while the parser works on this one.
      let position = start;
      let pending: Promise<Uint8Array> | undefined = position < end ? storage.read(position, Math.min(CHUNK_SIZE, end - position)) : undefined;
      try {
        while (pending) {
          const chunk: Uint8Array = await pending;
          pending = undefined;
          if (chunk.length === 0) break;
          position += chunk.length;
          bytesRead += chunk.length;
          if (position < end) pending = storage.read(position, Math.min(CHUNK_SIZE, end - position));
          yield chunk;
        }
      } finally {
        await pending?.catch(() => undefined);
        await storage.close();
      }
    },
  };
}

/** The most a deflate stream can expand: 258-byte matches coded in about 2 bits each. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A decoded size a container claims, if the stored bytes could hold it; undefined when
 * they could not. The readers size their columns from this hint, so a forged size (a zip
 * bomb's directory, a gzip trailer) must never be trusted beyond what the stored bytes
 * can decode to: memory stays proportional to the bytes actually present.
 */
function plausibleDecodedSize(claimed: number, storedBytes: number, deflated: boolean, otherwisePlausible = true): number | undefined {
  if (!otherwisePlausible || !Number.isSafeInteger(claimed)) return undefined;
  const most = deflated ? storedBytes * MAX_DEFLATE_RATIO + 1024 : storedBytes;
  return claimed <= most ? claimed : undefined;
}

function listNames(names: string[], max = 20): string {
  if (names.length === 0) return "none";
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown}, … and ${names.length - max} more` : shown;
}

function inflateError(error: unknown, file: string, format: "gzip" | "zip"): DataError {
  const message = (error as Error).message;
  if (/unexpected EOF/i.test(message)) return new DataError(`truncated ${format} data`, { file });
  return new DataError(`corrupt ${format} data (${message})`, { file });
}

// ---------------------------------------------------------------------------------------
// gzip

// fflate's Gunzip inflates but never checks the trailer (CRC-32 and length of each member)
// and accepts a file cut inside the trailer, or inside the header, as complete: those checks
// are done here, member by member, so truncation and corruption are always DataErrors.
function gunzipSource(compressed: ByteSource, name: string, decodedSizeHint: number | undefined): ByteSource {
  return {
    name,
    get totalBytes() {
      return compressed.totalBytes;
    },
    get bytesRead() {
      return compressed.bytesRead;
    },
    decodedSizeHint,
    async *[Symbol.asyncIterator]() {
      const out: Uint8Array[] = [];
      let crc = 0;
      let length = 0;
      // The trailer of a member ends where the next member's header starts: keep the
      // recent input (a header never spans more than the last two 1 MiB chunks).
      const recent: { start: number; bytes: Uint8Array }[] = [];
      let inputLength = 0;
      const bytesAt = (position: number, count: number): Uint8Array | undefined => {
        const result = new Uint8Array(count);
        for (let i = 0; i < count; i++) {
          const chunk = recent.find((c) => position + i >= c.start && position + i < c.start + c.bytes.length);
          if (!chunk) return undefined;
          result[i] = chunk.bytes[position + i - chunk.start];
        }
        return result;
      };
      const checkTrailer = (trailer: Uint8Array | undefined) => {
        if (!trailer) return; // an earlier member whose trailer scrolled out: inflate already vouched for its end
        const storedCrc = (trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) | (trailer[3] << 24)) >>> 0;
        const storedLength = (trailer[4] | (trailer[5] << 8) | (trailer[6] << 16) | (trailer[7] << 24)) >>> 0;
        if (storedLength !== length % 2 ** 32) throw new DataError("truncated gzip data", { file: name });
        if (storedCrc !== crc) throw new DataError("corrupt gzip data (CRC-32 mismatch)", { file: name });
      };
      const gunzip = new Gunzip((chunk) => {
        crc = crc32(chunk, crc);
        length += chunk.length;
        out.push(chunk);
      });
      gunzip.onmember = (offset) => {
        checkTrailer(bytesAt(offset - 8, 8));
        crc = 0;
        length = 0;
      };
      const push = (chunk: Uint8Array, final: boolean) => {
        try {
          gunzip.push(chunk, final);
        } catch (error) {
          throw error instanceof DataError ? error : inflateError(error, name, "gzip");
        }
      };
      for await (const chunk of compressed) {
        recent.push({ start: inputLength, bytes: chunk });
        if (recent.length > 3) recent.shift();
        inputLength += chunk.length;
        push(chunk, false);
        for (const piece of out) yield piece;
        out.length = 0;
      }
      push(new Uint8Array(0), true);
      for (const piece of out) yield piece;
      out.length = 0;
      // 10-byte header + at least an empty deflate block + 8-byte trailer.
      if (inputLength < 20) throw new DataError("truncated gzip data", { file: name });
      checkTrailer(bytesAt(inputLength - 8, 8));
    },
  };
}

// ---------------------------------------------------------------------------------------
// zip

/** One entry of a zip archive's central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const u16 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const u64 = (b: Uint8Array, i: number) => u32(b, i) + u32(b, i + 4) * 2 ** 32;

// Reads the central directory (at the end of the archive) rather than scanning local
// headers: it lists every member without touching their data, and it is authoritative
// where streamed local headers are not (sizes deferred to data descriptors, zip64).
async function readZipDirectory(storage: Storage, file: string): Promise<ZipEntry[]> {
  const truncated = (why: string) => new DataError(`truncated zip data: ${why}`, { file });
  const tailLength = Math.min(storage.size, 22 + 0xffff);
  const tail = await storage.read(storage.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50 && i + 22 + u16(tail, i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw truncated("no end-of-central-directory record (cut short, or not a zip archive)");
  let entries = u16(tail, eocd + 10);
  let directorySize = u32(tail, eocd + 12);
  let directoryOffset = u32(tail, eocd + 16);
  if (entries === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // zip64: a locator just before the record points at the zip64 end record.
    const locator = eocd - 20;
    if (locator < 0 || u32(tail, locator) !== 0x07064b50) throw truncated("zip64 locator missing");
    const recordOffset = u64(tail, locator + 8);
    const record = await storage.read(recordOffset, 56);
    if (record.length < 56 || u32(record, 0) !== 0x06064b50) throw truncated("zip64 end record missing");
    entries = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  }
  if (directoryOffset + directorySize > storage.size) throw truncated("central directory past the end of the file");
  const directory = await storage.read(directoryOffset, directorySize);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const result: ZipEntry[] = [];
  for (let p = 0, k = 0; k < entries; k++) {
    if (p + 46 > directory.length || u32(directory, p) !== 0x02014b50) throw truncated("central directory cut short");
    const flags = u16(directory, p + 8);
    const nameLength = u16(directory, p + 28);
    const extraLength = u16(directory, p + 30);
    const commentLength = u16(directory, p + 32);
    const nameBytes = directory.subarray(p + 46, p + 46 + nameLength);
    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      name = latin1(nameBytes); // pre-UTF-8 archivers wrote code page 437; close enough for matching ASCII names
    }
    const entry: ZipEntry = {
      name,
      method: u16(directory, p + 10),
      flags,
      crc: u32(directory, p + 16),
      compressedSize: u32(directory, p + 20),
      size: u32(directory, p + 24),
      localHeaderOffset: u32(directory, p + 42),
    };
    // zip64 extra field: 64-bit values, present only for the fields saturated above.
    for (let e = p + 46 + nameLength, end = e + extraLength; e + 4 <= end; e += 4 + u16(directory, e + 2)) {
      if (u16(directory, e) !== 1) continue;
      let q = e + 4;
      if (entry.size === 0xffffffff) (entry.size = u64(directory, q)), (q += 8);
      if (entry.compressedSize === 0xffffffff) (entry.compressedSize = u64(directory, q)), (q += 8);
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = u64(directory, q);
    }
    result.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return result;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

async function openZipMember(storage: Storage, name: string, archive: string, member: string | undefined): Promise<ByteSource> {
  const entries = await readZipDirectory(storage, archive);
  const files = entries.filter((e) => !e.name.endsWith("/"));
  const entry = member === undefined ? (files.length === 1 ? files[0] : undefined) : entries.find((e) => e.name === member);
  if (!entry) {
    const what = member === undefined ? `name a member as ${archive}:<member>` : `no member '${member}' in the archive`;
    throw new DataError(`${what} (members: ${listNames(files.map((e) => e.name))})`, { file: archive });
  }
  if (entry.flags & 1) throw new DataError(`zip member '${entry.name}' is encrypted`, { file: name });
  if (entry.method !== 0 && entry.method !== 8) {
    throw new DataError(`zip member '${entry.name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`, { file: name });
  }
  const local = await storage.read(entry.localHeaderOffset, 30);
  if (local.length < 30 || u32(local, 0) !== 0x04034b50) throw new DataError("truncated zip data: local header missing", { file: name });
  const dataStart = entry.localHeaderOffset + 30 + u16(local, 26) + u16(local, 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > storage.size) throw new DataError("truncated zip data", { file: name });
  const stored = rangeSource(storage, name, dataStart, dataEnd);
  const found = entry;
  const source: ByteSource = {
    name,
    totalBytes: found.compressedSize,
    get bytesRead() {
      return stored.bytesRead;
    },
    decodedSizeHint: plausibleDecodedSize(found.size, found.compressedSize, found.method === 8),
    async *[Symbol.asyncIterator]() {
      let crc = 0;
      let length = 0;
      if (found.method === 0) {
        for await (const chunk of stored) {
          crc = crc32(chunk, crc);
          length += chunk.length;
          yield chunk;
        }
      } else {
        const out: Uint8Array[] = [];
        const inflate = new Inflate((chunk) => {
          crc = crc32(chunk, crc);
          length += chunk.length;
          out.push(chunk);
        });
        const push = (chunk: Uint8Array, final: boolean) => {
          try {
            inflate.push(chunk, final);
          } catch (error) {
            throw inflateError(error, name, "zip");
          }
        };
        for await (const chunk of stored) {
          push(chunk, false);
          for (const piece of out) yield piece;
          out.length = 0;
        }
        push(new Uint8Array(0), true);
        for (const piece of out) yield piece;
      }
      if (length !== found.size) throw new DataError(`truncated zip data: member holds ${length} bytes, the directory says ${found.size}`, { file: name });
      if (crc !== found.crc) throw new DataError("corrupt zip data (CRC-32 mismatch)", { file: name });
    },
  };
  // A gzip inside a zip (ml-25m.zip:ratings.csv.gz) is unwrapped too.
  return /\.gz$/i.test(found.name) ? gunzipSource(source, name, undefined) : source;
}
