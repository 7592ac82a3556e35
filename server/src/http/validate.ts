import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text Postgres cannot store as sent: NUL, or an unpaired UTF-16 surrogate (a `\ud800` JSON escape, not valid Unicode). */
export function isUnstorableText(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/**
 * Refuses a parsed body or query holding unstorable text anywhere (values or keys), so no route
 * can pass it on to the database and answer 500. Iterative: a deeply nested body cannot overflow the stack.
 */
function assertStorableText(root: unknown, where: string): void {
  const stack: [unknown, string][] = [[root, where]];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (isUnstorableText(value)) {
        throw new AppError(400, 'invalid_text', `${path}: text must not contain NUL characters or unpaired UTF-16 surrogates`);
      }
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (isUnstorableText(key)) throw new AppError(400, 'invalid_text', `${path}: a field name is not valid text`);
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
}

/** Parses a request part; a ZodError becomes a 400 `invalid_input` in the error middleware. */
export function body<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
    throw new AppError(400, 'invalid_input', 'Expected a JSON object body');
  }
  assertStorableText(req.body, 'body');
  return schema.parse(req.body);
}

export function query<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  assertStorableText(req.query, 'query');
  return schema.parse(req.query);
}

export const uuidParam = (req: Request, name = 'id'): string => {
  const value = req.params[name];
  if (typeof value !== 'string' || !z.uuid().safeParse(value).success) throw new AppError(404, 'not_found', 'Not found');
  return value;
};

/** `?limit=&cursor=`: cursors are opaque base64url strings wrapping a sort key. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(512)
    .optional()
    .transform((c, ctx) => {
      if (!c) return undefined;
      const bytes = Buffer.from(c, 'base64url');
      const decoded = bytes.toString('utf8');
      // Only what page() made: text that round-trips as UTF-8, without control characters.
      if (!Buffer.from(decoded, 'utf8').equals(bytes) || /[\u0000-\u001f\u007f]/.test(decoded)) {
        ctx.addIssue({ code: 'custom', message: 'invalid cursor' });
        return z.NEVER;
      }
      return decoded;
    }),
});

/** `{items, next}` with `next` set when a further page may exist (we fetched limit + 1 rows). */
export function page<T, R>(rows: T[], limit: number, present: (row: T) => R, keyOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(present),
    next: rows.length > limit && last ? Buffer.from(keyOf(last), 'utf8').toString('base64url') : null,
  };
}

/** Trimmed single-line text with a length cap; control characters rejected. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');
