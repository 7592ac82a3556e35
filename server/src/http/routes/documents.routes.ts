import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import type { KnowledgeService } from '../../core/knowledge/knowledge.service.ts';
import { presentChunk, presentDocument, presentReadableDocument } from '../../core/knowledge/knowledge.presenter.ts';
import { byCreation, creationKey, defineCursor, keyPart } from '../../core/pagination/cursor.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { receiveFile } from '../upload.ts';
import { body, page, pageQuery, query, text, uuidParam } from '../validate.ts';

/** A new document's readers: members of these groups (among its collection's readers); none: all of them. */
const groups = z.array(z.uuid()).max(200).optional();
const textSchema = z.strictObject({ title: text(500), text: z.string().trim().min(1).max(2_000_000) });
const faqSchema = z.strictObject({
  question: z.string().trim().min(1).max(2000),
  answer: z.string().trim().min(1).max(20_000),
});
const urlSchema = z.strictObject({
  groups,
  url: z.url({ protocol: /^https?$/ }).max(2000),
  title: text(500).optional(),
  crawl: z
    .strictObject({
      depth: z.number().int().min(0).max(5).default(1),
      maxPages: z.number().int().min(1).max(500).default(20),
    })
    .optional(),
});
export const sourceSchema = z.union([textSchema.extend({ groups }), faqSchema.extend({ groups }), urlSchema]);
/** An upload's readers come in the query string: known before the file streams in and is stored. */
export const uploadQuery = z.object({
  groups: z
    .string()
    .max(200 * 37)
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(z.uuid()).max(200))
    .optional(),
});
/** A bulk import: pasted texts and FAQ entries (the request body limit, BODY_LIMIT_KB, bounds the bytes). */
export const bulkSchema = z.strictObject({
  groups,
  documents: z
    .array(z.union([textSchema, faqSchema]))
    .min(1)
    .max(500),
});

export const updateSchema = z.strictObject({
  enabled: z.boolean().optional(),
  readers: z.enum(['collection', 'groups']).optional(),
  groups: z.array(z.uuid()).max(200).optional(),
});
export const readersSchema = updateSchema.pick({ readers: true, groups: true });
export const listQuery = pageQuery.extend({
  status: z.enum(['queued', 'processing', 'ready', 'failed', 'disabled']).optional(),
});
export const chunkQuery = pageQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Only the passages flagged as instruction-like. */
  flagged: z.enum(['true', 'false']).optional(),
});
export const chunkUpdateSchema = z.strictObject({ excluded: z.boolean() });
/** Chunks in document order: the last `ord` seen. */
const byOrd = defineCursor(z.tuple([keyPart.int]).transform(([ord]) => ord));

/** Documents of a collection: add (upload, text, FAQ, URL/crawl), inspect, re-index, narrow, disable, delete. */
export function documentRoutes(r: SecureRouter, knowledge: KnowledgeService, limits: { maxUploadBytes: number }) {
  r.post('/api/collections/:id/documents', 'admin', async (req, res) => {
    const collectionId = uuidParam(req);
    const result = req.is('multipart/form-data')
      ? await (async () => {
          const readers = query(uploadQuery, req);
          return receiveFile(req, limits.maxUploadBytes, (file) =>
            knowledge.addUpload(actorOf(req), collectionId, file, clientOf(req), readers),
          );
        })()
      : await (async () => {
          const { groups, ...input } = body(sourceSchema, req);
          const source =
            'question' in input
              ? { kind: 'faq' as const, ...input }
              : 'url' in input
                ? { kind: 'url' as const, ...input }
                : { kind: 'text' as const, ...input };
          return knowledge.addSource(actorOf(req), collectionId, source, clientOf(req), { groups });
        })();
    // A duplicate is not accepted for processing: it is the existing document, unchanged.
    res
      .status(result.duplicate ? 200 : 202)
      .json({ document: presentDocument(result.document), duplicate: result.duplicate });
  });

  r.post('/api/collections/:id/documents/bulk', 'admin', async (req, res) => {
    const collectionId = uuidParam(req);
    const { groups, documents } = body(bulkSchema, req);
    const sources = documents.map((d) =>
      'question' in d ? { kind: 'faq' as const, ...d } : { kind: 'text' as const, ...d },
    );
    const results = await knowledge.addSources(actorOf(req), collectionId, sources, clientOf(req), { groups });
    res
      .status(results.every((r) => r.duplicate) ? 200 : 202)
      .json({ items: results.map((r) => ({ document: presentDocument(r.document), duplicate: r.duplicate })) });
  });

  r.get('/api/collections/:id/documents', 'admin', async (req, res) => {
    const q = query(listQuery, req);
    const after = byCreation.decode(q.cursor);
    const rows = await knowledge.listDocuments(actorOf(req), uuidParam(req), {
      after,
      limit: q.limit + 1,
      status: q.status,
    });
    res.json(page(rows, q.limit, presentDocument, (d) => byCreation.encode(creationKey(d))));
  });

  r.get('/api/documents/:id', 'admin', async (req, res) => {
    res.json({ document: presentDocument(await knowledge.getDocument(uuidParam(req))) });
  });

  r.patch('/api/documents/:id', 'admin', async (req, res) => {
    const document = await knowledge.updateDocument(
      actorOf(req),
      uuidParam(req),
      body(updateSchema, req),
      clientOf(req),
    );
    res.json({ document: presentDocument(document) });
  });

  r.post('/api/documents/:id/readers/preview', 'admin', async (req, res) => {
    res.json({ change: await knowledge.previewDocumentReaders(uuidParam(req), body(readersSchema, req)) });
  });

  r.delete('/api/documents/:id', 'admin', async (req, res) => {
    await knowledge.deleteDocument(actorOf(req), uuidParam(req), clientOf(req));
    res.status(204).end();
  });

  r.post('/api/documents/:id/reindex', 'admin', async (req, res) => {
    const document = await knowledge.reindex(actorOf(req), uuidParam(req), clientOf(req));
    res.status(202).json({ document: presentDocument(document) });
  });

  r.get('/api/documents/:id/chunks', 'admin', async (req, res) => {
    const q = query(chunkQuery, req);
    const rows = await knowledge.listChunks(uuidParam(req), {
      afterOrd: byOrd.decode(q.cursor),
      limit: q.limit + 1,
      flaggedOnly: q.flagged === 'true',
    });
    res.json(page(rows, q.limit, presentChunk, (c) => byOrd.encode([c.ord])));
  });

  // Any user: the passages they may read (the read rule), so a citation opens at its place in the document.
  r.get('/api/documents/:id/passages', 'user', async (req, res) => {
    res.json({ document: presentReadableDocument(await knowledge.readDocument(actorOf(req), uuidParam(req))) });
  });

  r.patch('/api/documents/:id/chunks/:chunkId', 'admin', async (req, res) => {
    const chunkId = req.params.chunkId;
    if (typeof chunkId !== 'string' || !/^[1-9]\d{0,17}$/.test(chunkId))
      throw new AppError(404, 'not_found', 'Passage not found');
    const { excluded } = body(chunkUpdateSchema, req);
    const chunk = await knowledge.setChunkExcluded(actorOf(req), uuidParam(req), chunkId, excluded, clientOf(req));
    res.json({ chunk: presentChunk(chunk) });
  });

  r.get('/api/documents/:id/file', 'admin', async (req, res) => {
    const file = await knowledge.openFile(uuidParam(req));
    // Only inert types may be shown inline; anything else (HTML!) is a download.
    const inline =
      req.query.disposition === 'inline' &&
      ['application/pdf', 'text/plain', 'text/csv', 'text/markdown'].includes(file.mime);
    res.setHeader('content-type', file.mime.startsWith('text/') ? `${file.mime}; charset=utf-8` : file.mime);
    res.setHeader('content-length', String(file.size));
    res.setHeader(
      'content-disposition',
      `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    );
    res.setHeader('content-security-policy', "sandbox; default-src 'none'");
    file.stream.on('error', () => res.destroy());
    file.stream.pipe(res);
  });
}
