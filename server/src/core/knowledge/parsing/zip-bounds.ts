import { inflateRawSync } from 'node:zlib';
import { UnparseableError } from './parsed-document.ts';

/**
 * Office files are zip archives, and a 1 MB archive can hold a gigabyte of XML. The Office
 * libraries inflate every part into memory before reading it, so the archive's own directory (which
 * costs nothing to read) is checked first: too many entries or too many bytes once inflated, and the
 * file is refused before any of it is inflated. Then each part is inflated here, capped at the size
 * the directory gave it, and thrown away: a directory that understates a part is caught at that
 * cap, before a library inflates the whole part outside the parser thread's heap limit.
 */
export const ZIP_LIMITS = {
  maxEntries: 5_000,
  /** Inflated bytes of all entries together: a real 300-page report with images is far below this. */
  maxUncompressedBytes: 256 * 1024 * 1024,
};

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
const MAX_COMMENT = 0xffff;

const corrupt = (what: string) =>
  new UnparseableError(`The ${what} could not be read: its zip directory is missing or damaged`);

export function assertZipWithinBounds(buffer: Buffer, what: string, limits = ZIP_LIMITS): void {
  const end = findEndOfCentralDirectory(buffer);
  if (end < 0) throw corrupt(what);
  let entries = buffer.readUInt16LE(end + 10);
  let offset = buffer.readUInt32LE(end + 16);
  if ((entries === 0xffff || offset === 0xffffffff) && end >= 20 && buffer.readUInt32LE(end - 20) === ZIP64_LOCATOR) {
    const zip64 = Number(buffer.readBigUInt64LE(end - 12));
    if (zip64 + 56 > buffer.length || buffer.readUInt32LE(zip64) !== ZIP64_EOCD) throw corrupt(what);
    entries = Number(buffer.readBigUInt64LE(zip64 + 32));
    offset = Number(buffer.readBigUInt64LE(zip64 + 48));
  }
  const tooMany = () =>
    new UnparseableError(
      `The ${what} holds more than ${limits.maxEntries.toLocaleString('en')} parts; it was not opened (a zip bomb or a damaged file)`,
    );
  if (entries > limits.maxEntries) throw tooMany();

  let total = 0;
  let seen = 0;
  const parts: Part[] = [];
  // Walk the directory itself rather than trust its entry count.
  while (offset + 46 <= buffer.length && buffer.readUInt32LE(offset) === CENTRAL) {
    if (++seen > limits.maxEntries) throw tooMany();
    let size = buffer.readUInt32LE(offset + 24);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    if (size === 0xffffffff) size = zip64UncompressedSize(buffer, offset + 46 + nameLength, extraLength) ?? Infinity;
    total += size;
    if (total > limits.maxUncompressedBytes) {
      throw new UnparseableError(
        `The ${what} would expand to more than ${Math.round(limits.maxUncompressedBytes / 1048576)} MB when unpacked; it was not opened (a zip bomb or a damaged file)`,
      );
    }
    parts.push({
      method: buffer.readUInt16LE(offset + 10),
      compressed: buffer.readUInt32LE(offset + 20),
      size,
      local: buffer.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  if (seen === 0) throw corrupt(what);
  for (const part of parts) assertInflatesAsDeclared(buffer, part, what);
}

interface Part {
  method: number;
  compressed: number;
  size: number;
  local: number;
}

/** Inflates one part, capped at its declared size (the output is dropped at once). */
function assertInflatesAsDeclared(buffer: Buffer, part: Part, what: string): void {
  // Parts past 4 GiB (zip64 offsets) are beyond the size bound anyway; others the parser reports.
  if (part.local === 0xffffffff || part.compressed === 0xffffffff) return;
  if (part.local + 30 > buffer.length || buffer.readUInt32LE(part.local) !== LOCAL) throw corrupt(what);
  const start = part.local + 30 + buffer.readUInt16LE(part.local + 26) + buffer.readUInt16LE(part.local + 28);
  const data = buffer.subarray(start, start + part.compressed);
  const lies = () =>
    new UnparseableError(
      `The ${what} unpacks to more than its zip directory says; it was not opened (a zip bomb or a damaged file)`,
    );
  if (part.method === STORED) {
    if (data.length > part.size) throw lies();
    return;
  }
  if (part.method !== DEFLATED) return;
  try {
    inflateRawSync(data, { maxOutputLength: Math.max(1, part.size) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw lies();
    throw corrupt(what);
  }
}

function findEndOfCentralDirectory(buffer: Buffer): number {
  const last = buffer.length - 22;
  for (let i = last; i >= 0 && i >= last - MAX_COMMENT; i--) if (buffer.readUInt32LE(i) === EOCD) return i;
  return -1;
}

/** The zip64 extended-information extra field (id 1) starts with the real uncompressed size. */
function zip64UncompressedSize(buffer: Buffer, start: number, length: number): number | undefined {
  for (let at = start; at + 4 <= start + length && at + 4 <= buffer.length;) {
    const id = buffer.readUInt16LE(at);
    const size = buffer.readUInt16LE(at + 2);
    if (id === 1 && size >= 8 && at + 12 <= buffer.length) return Number(buffer.readBigUInt64LE(at + 4));
    at += 4 + size;
  }
  return undefined;
}
