import type { CannedReplyRow } from './canned-reply.repository.ts';

/** A canned reply as the API shows it (the web app imports this type). */
export function presentCannedReply(row: CannedReplyRow) {
  return {
    id: row.id,
    shortcut: row.shortcut,
    body: row.body,
    shared: row.owner_id === null,
    updatedAt: row.updated_at.toISOString(),
  };
}

export type PresentedCannedReply = ReturnType<typeof presentCannedReply>;
