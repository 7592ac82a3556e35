import { inflateRawSync } from 'node:zlib';
import { UnparseableError } from './parsed-document.ts';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * The parts of a zip archive whose names `wanted` accepts, inflated. Only for archives that
 * `assertZipWithinBounds` has accepted: each part is inflated up to the size its directory
 * declares, which that check bounded.
 */
export function readZipParts(buffer: Buffer, wanted: (name: string) => boolean, what: string): Map<string, Buffer> {
  const corrupt = () => new UnparseableError(`The ${what} could not be read: its zip directory is damaged`);
  let end = -1;
  for (let i = buffer.length - 22; i >= 0 && i >= buffer.length - 22 - 0xffff; i--)
    if (buffer.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  if (end < 0) throw corrupt();
  const parts = new Map<string, Buffer>();
  for (let at = buffer.readUInt32LE(end + 16); at + 46 <= buffer.length && buffer.readUInt32LE(at) === CENTRAL;) {
    const method = buffer.readUInt16LE(at + 10);
    const compressed = buffer.readUInt32LE(at + 20);
    const size = buffer.readUInt32LE(at + 24);
    const nameLength = buffer.readUInt16LE(at + 28);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + buffer.readUInt16LE(at + 30) + buffer.readUInt16LE(at + 32);
    if (!wanted(name)) continue;
    if (local + 30 > buffer.length || buffer.readUInt32LE(local) !== LOCAL) throw corrupt();
    const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const data = buffer.subarray(start, start + compressed);
    try {
      if (method === 0) parts.set(name, data);
      else if (method === 8) parts.set(name, inflateRawSync(data, { maxOutputLength: Math.max(1, size) }));
    } catch {
      throw corrupt();
    }
  }
  return parts;
}
