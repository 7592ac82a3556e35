import type { Request } from 'express';
import { z } from 'zod';
import { isUnstorableText } from '../core/db/storable-text.ts';
import { AppError } from '../core/errors.ts';

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
        throw new AppError(
          400,
          'invalid_text',
          `${path}: text must not contain NUL characters or unpaired UTF-16 surrogates`,
        );
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
  if (typeof value !== 'string' || !z.uuid().safeParse(value).success)
    throw new AppError(404, 'not_found', 'Not found');
  return value;
};

/** A message id in the path (message ids are positive integers that order a conversation). */
export const messageIdParam = (req: Request): number => {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new AppError(404, 'not_found', 'Message not found');
  return id;
};

/**
 * A date in a query (`2024-05-01` or an ISO date-time with offset): a real calendar day (no
 * 2020-02-30) in years 1–9999, so what reaches the database is a timestamp it can store.
 */
export const queryDate = z
  .union([z.iso.date(), z.iso.datetime({ offset: true, local: false })])
  .transform((text) => new Date(text))
  .refine((at) => {
    const year = at.getUTCFullYear();
    return !Number.isNaN(at.getTime()) && year >= 1 && year <= 9999;
  }, 'must be a date between the years 1 and 9999');

/** `?limit=&cursor=`: the cursor is the `next` of the previous page (see core/pagination/cursor.ts). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});

/** `{items, next}` with `next` set when a further page may exist (we fetched limit + 1 rows). */
export function page<T, R>(rows: T[], limit: number, present: (row: T) => R, cursorAfter: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(present), next: rows.length > limit && last ? cursorAfter(last) : null };
}

/** Trimmed single-line text with a length cap; control characters rejected. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');
