// A minimal zip writer whose every header field can be forged: sizes, CRCs, offsets,
// the compression method and zip64 extra fields, to build the archives a fuzzer needs
// (fflate's zipSync only writes honest ones).

import { deflateSync } from "fflate";
import { crc32 } from "../../src/io/crc32.js";

export interface ZipMember {
  name: string;
  data: Uint8Array;
  method: 0 | 8;
  /** Overrides of what the central directory records (the local header stays honest). */
  forge?: { crc?: number; size?: number; compressedSize?: number; method?: number; zip64Size?: number; localHeaderOffset?: number };
}

export function writeZip(members: ZipMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const stored = m.method === 8 ? deflateSync(m.data) : m.data;
    const crc = crc32(m.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, m.method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, stored.length, true);
    lv.setUint32(22, m.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const f = m.forge ?? {};
    const zip64 = f.zip64Size !== undefined;
    const extra = new Uint8Array(zip64 ? 12 : 0);
    if (zip64) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 1, true);
      ev.setUint16(2, 8, true);
      ev.setBigUint64(4, BigInt(f.zip64Size!), true);
    }
    const entry = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, f.method ?? m.method, true);
    cv.setUint32(16, f.crc ?? crc, true);
    cv.setUint32(20, f.compressedSize ?? stored.length, true);
    cv.setUint32(24, zip64 ? 0xffffffff : (f.size ?? m.data.length), true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, f.localHeaderOffset ?? offset, true);
    entry.set(name, 46);
    entry.set(extra, 46 + name.length);
    central.push(entry);
    parts.push(local, stored);
    offset += local.length + stored.length;
  }
  const directorySize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, directorySize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of all) (out.set(p, o), (o += p.length));
  return out;
}
