import { AppError } from '../errors.ts';

/** A logo is shown on every page: small, and a raster type a browser cannot run (no SVG: it can carry script). */
export const LOGO_MAX_BYTES = 256 * 1024;

const SIGNATURES: { type: string; matches: (b: Buffer) => boolean }[] = [
  {
    type: 'image/png',
    matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { type: 'image/jpeg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    type: 'image/webp',
    matches: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];

/** The image type the bytes themselves say (not what the client claimed), or a 415 naming what is accepted. */
export function logoType(bytes: Buffer): string {
  if (bytes.length > LOGO_MAX_BYTES)
    throw new AppError(413, 'payload_too_large', `The logo is larger than ${LOGO_MAX_BYTES / 1024} KB`);
  const type = SIGNATURES.find((s) => s.matches(bytes))?.type;
  if (!type) throw new AppError(415, 'unsupported_media_type', 'The logo must be a PNG, JPEG or WebP image');
  return type;
}
