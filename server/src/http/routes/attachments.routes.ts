import type { AttachmentService } from '../../core/conversations/attachment.service.ts';
import { actorOf, type SecureRouter } from '../secure-router.ts';
import { receiveFile } from '../upload.ts';
import { uuidParam } from '../validate.ts';

/** Upload a file for your next message; download one from a conversation you may read. */
export function attachmentRoutes(r: SecureRouter, attachments: AttachmentService, maxBytes: number) {
  r.post('/api/conversations/:id/attachments', 'user', async (req, res) => {
    const id = uuidParam(req);
    const row = await receiveFile(req, maxBytes, (file) => attachments.upload(actorOf(req), id, file));
    res
      .status(201)
      .json({ attachment: { id: row.id, filename: row.filename, mime: row.mime, size: Number(row.size_bytes) } });
  });

  r.get('/api/attachments/:id', 'user', async (req, res) => {
    const file = await attachments.open(actorOf(req), uuidParam(req));
    res.setHeader('Content-Type', file.mime);
    res.setHeader('Content-Length', String(file.size));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Nothing a user uploaded runs in our origin: downloads for everything but images, and no scripts either way.
    res.setHeader('Content-Security-Policy', "default-src 'none'; img-src 'self'; sandbox");
    res.setHeader(
      'Content-Disposition',
      `${file.inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    );
    res.setHeader('Cache-Control', 'private, max-age=300');
    file.stream.on('error', () => res.destroy());
    file.stream.pipe(res);
  });
}
