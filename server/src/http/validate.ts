import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';

/** Parses a request part; a ZodError becomes a 400 `invalid_input` in the error middleware. */
export function body<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
    throw new AppError(400, 'invalid_input', 'Expected a JSON object body');
  }
  return schema.parse(req.body);
}

export function query<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
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
      try {
        return Buffer.from(c, 'base64url').toString('utf8');
      } catch {
        ctx.addIssue({ code: 'custom', message: 'invalid cursor' });
        return z.NEVER;
      }
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
