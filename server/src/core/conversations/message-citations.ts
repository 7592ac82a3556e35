import type { Queryable } from '../db/database.ts';
import { createRetrievalRepository } from '../knowledge/retrieval.repository.ts';
import type { MessageRow } from './message.repository.ts';

/**
 * Citations under a bot's answer, as each reader may see them: the answer stays readable to
 * everyone in the conversation (an agent the employee hands it to), but a cited passage only to
 * those the read rule admits (docs/architecture.md "Who reads which passages"). The history, the
 * live frames and a resume's replay all go through here.
 */

type Cited = { chunkId: string; documentId: string };

const chunkIdsOf = (rows: MessageRow[]) => [
  ...new Set(rows.flatMap((m) => (m.citations as Cited[]).map((c) => c.chunkId))),
];

/**
 * The messages with only the citations `readerId` may open. A cited passage a newer version of its
 * document has replaced since stays, marked `replaced`, for a reader who may read that document:
 * the citation carries the text it quoted.
 */
export async function citationsReadableBy(db: Queryable, readerId: string, rows: MessageRow[]): Promise<MessageRow[]> {
  const cited = chunkIdsOf(rows);
  if (!cited.length) return rows;
  const passages = createRetrievalRepository(db);
  const readable = await passages.readablePassageIds(readerId, cited);
  const missing = rows.flatMap((m) => (m.citations as Cited[]).filter((c) => !readable.has(c.chunkId)));
  const replaced = await passages.replacedReadablePassageIds(readerId, missing);
  return rows.map((m) =>
    m.citations.length
      ? {
          ...m,
          citations: (m.citations as Cited[]).flatMap((c) =>
            readable.has(c.chunkId) ? [c] : replaced.has(c.chunkId) ? [{ ...c, replaced: true }] : [],
          ),
        }
      : m,
  );
}

/**
 * For a message about to be sent to `readerIds`: the readers who may not open every passage it
 * cites, each with the cited passages they may open. Undefined when everyone may open all of them.
 */
export async function citationsPerReader(
  db: Queryable,
  readerIds: string[],
  message: MessageRow,
): Promise<Record<string, string[]> | undefined> {
  const cited = chunkIdsOf([message]);
  if (!cited.length) return undefined;
  const passages = createRetrievalRepository(db);
  const limited: Record<string, string[]> = {};
  await Promise.all(
    readerIds.map(async (id) => {
      const readable = await passages.readablePassageIds(id, cited);
      if (readable.size < cited.length) limited[id] = cited.filter((c) => readable.has(c));
    }),
  );
  return Object.keys(limited).length ? limited : undefined;
}
