import { z } from 'zod';
import { isUnstorableText } from '../db/storable-text.ts';
import { AppError } from '../errors.ts';

/**
 * Keyset cursors, one scheme for every list: the last row's sort key as a typed tuple, in JSON,
 * base64url encoded. A client only hands back the `next` it was given; anything that does not
 * decode to exactly what `encode` makes for that list is a 400, so no malformed key reaches a query.
 */
export interface Cursor<Key, Decoded = Key> {
  encode(key: Key): string;
  /** undefined for a first page (no cursor); throws a 400 `invalid_input` for a cursor this list did not make. */
  decode(cursor: string | undefined): Decoded | undefined;
}

const MAX_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const invalid = () =>
  new AppError(400, 'invalid_input', 'Invalid cursor: pass back the `next` value of the previous page unchanged');

/** A cursor whose key the schema describes (its output is what `decode` returns). */
export function defineCursor<S extends z.ZodType>(key: S): Cursor<z.input<S>, z.output<S>> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url'),
    decode(cursor) {
      if (cursor === undefined || cursor === '') return undefined;
      if (cursor.length > MAX_LENGTH || !BASE64URL.test(cursor)) throw invalid();
      const text = Buffer.from(cursor, 'base64url').toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw invalid();
      }
      // Only the exact text `encode` writes: no other spelling of the same key.
      if (JSON.stringify(json) !== text) throw invalid();
      const parsed = key.safeParse(json);
      if (!parsed.success) throw invalid();
      return parsed.data;
    },
  };
}

/** Key parts, each as narrow as the column it is compared with (so the query cannot fail on it). */
export const keyPart = {
  /** A timestamp as exact UTC text (microseconds, as the database keeps them; a JS Date drops them). */
  timestamp: z.iso
    .datetime()
    .refine((at) => !Number.isNaN(Date.parse(at)) && Number(at.slice(0, 4)) >= 1, 'not a storable timestamp'),
  uuid: z.uuid(),
  /** A Postgres integer. */
  int: z.int32(),
  /** A Postgres bigint within what JSON numbers carry exactly. */
  bigint: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  text: z
    .string()
    .max(400)
    .refine((t) => !isUnstorableText(t) && !/[\u0000-\u001f\u007f]/.test(t), 'not storable text'),
};

/** A position in a list newest first by creation: `(created_at, id)` of the last row seen. */
export interface CreationKey {
  at: string;
  id: string;
}

/** Newest first by creation (see CreationKey). */
export const byCreation = defineCursor(
  z.tuple([keyPart.timestamp, keyPart.uuid]).transform(([at, id]): CreationKey => ({ at, id })),
);

/** The `byCreation` key of a row listed with its exact position (creation-position.sql.ts). */
export const creationKey = (row: { position: string; id: string }): [string, string] => [row.position, row.id];

/** Ordered by one text column (an email, a name): that text of the last row seen. */
export const byText = defineCursor(z.tuple([keyPart.text]).transform(([text]) => text));
