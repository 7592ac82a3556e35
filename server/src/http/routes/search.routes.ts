import { z } from 'zod';
import type { RetrievalService } from '../../core/knowledge/retrieval.service.ts';
import { actorOf, type SecureRouter } from '../secure-router.ts';
import { body } from '../validate.ts';

export const searchSchema = z.strictObject({
  query: z.string().trim().min(1).max(2000),
  collectionIds: z.array(z.uuid()).max(100).optional(),
  k: z.number().int().min(1).max(50).optional(),
  /** Diagnostics: one half alone. */
  mode: z.enum(['hybrid', 'vector', 'text']).optional(),
});

/** Hybrid search within the caller's permissions. */
export function searchRoutes(r: SecureRouter, retrieval: RetrievalService) {
  r.post('/api/search', 'user', async (req, res) => {
    const input = body(searchSchema, req);
    const hits = await retrieval.search(actorOf(req), input, { mode: input.mode ?? 'hybrid' });
    res.json({ hits });
  });
}
