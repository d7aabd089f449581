/**
 * A minimal zip writer (deflate via zlib, no extra package): CodeBuild's S3 source must be a .zip.
 * Entries carry a fixed timestamp and sorted order, so the same files give the same bytes.
 */
import * as zlib from 'zlib';

export interface ZipEntry {
  /** Forward slashes, relative. */
  path: string;
  content: Buffer;
  /** Unix mode; 0o755 keeps scripts executable in CodeBuild. */
  mode?: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00 in DOS format: the earliest zip time, constant for reproducible archives. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

interface EntryFields {
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  nameLength: number;
}

/** The fields a local header and its central directory record share, in the same order (24 bytes from `at`). */
function writeEntryFields(buf: Buffer, at: number, f: EntryFields): void {
  buf.writeUInt16LE(20, at); // version needed
  buf.writeUInt16LE(0x0800, at + 2); // UTF-8 names
  buf.writeUInt16LE(f.method, at + 4);
  buf.writeUInt16LE(DOS_TIME, at + 6);
  buf.writeUInt16LE(DOS_DATE, at + 8);
  buf.writeUInt32LE(f.crc, at + 10);
  buf.writeUInt32LE(f.compressedSize, at + 14);
  buf.writeUInt32LE(f.size, at + 18);
  buf.writeUInt16LE(f.nameLength, at + 22);
}

export function createZip(entries: ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.path.replace(/\\/g, '/'), 'utf8');
    const crc = crc32(entry.content);
    const deflated = zlib.deflateRawSync(entry.content, { level: 6 });
    // Store when deflate does not help (already compressed files).
    const useDeflate = deflated.length < entry.content.length;
    const data = useDeflate ? deflated : entry.content;
    const method = useDeflate ? 8 : 0;

    const fields: EntryFields = { method, crc, compressedSize: data.length, size: entry.content.length, nameLength: name.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, fields);
    local.writeUInt16LE(0, 28); // extra
    locals.push(local, name, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below counts
    writeEntryFields(central, 6, fields);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((((entry.mode ?? 0o644) | 0o100000) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + data.length;
    if (offset > 0xffffffff) throw new Error('build source bundle exceeds 4 GiB (zip64 is not supported)');
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
