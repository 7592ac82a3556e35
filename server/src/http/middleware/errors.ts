import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(new AppError(404, 'not_found', `No route for ${req.method} ${req.path}`));
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** The single place errors become `{"error":{"code","message"}}`. */
export function errorHandler(error: unknown, req: Request, res: Response, _next: NextFunction) {
  const { status, code, message, details } = describe(error);
  if (status >= 500) req.log?.error({ err: error }, 'request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).json({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

function describe(error: unknown): { status: number; code: string; message: string; details?: unknown } {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) {
    return {
      status: 400,
      code: 'invalid_input',
      message: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      details: error.issues.map((i) => ({ path: i.path, message: i.message })),
    };
  }
  // body-parser and multer errors carry an HTTP status and a type we can name.
  const e = error as HttpishError;
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code =
      e.type === 'entity.too.large'
        ? 'payload_too_large'
        : e.type === 'entity.parse.failed'
          ? 'malformed_json'
          : e.type === 'encoding.invalid'
            ? 'invalid_utf8'
            : e.type === 'encoding.unsupported' || e.type === 'charset.unsupported'
              ? 'unsupported_encoding'
              : 'bad_request';
    return { status, code, message: e.expose !== false && e.message ? e.message : 'Bad request' };
  }
  return { status: 500, code: 'internal', message: 'Something went wrong on our side; it has been logged.' };
}
