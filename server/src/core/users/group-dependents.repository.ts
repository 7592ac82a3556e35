import type { Queryable } from '../db/database.ts';

/** What the group grants access to: deleting it would take that access from its members. */
export interface GroupDependents {
  collections: { id: string; name: string }[];
  documents: { id: string; title: string; collectionId: string }[];
  /** Bots answering from those collections: offered to fewer people once the group is gone. */
  bots: { id: string; name: string }[];
}

/** What a group grants access to (its own repository: it reads the knowledge tables, and decides no access itself). */
export function createGroupDependentsRepository(db: Queryable) {
  return {
    async dependents(id: string): Promise<GroupDependents> {
      const collections = await db.query<{ id: string; name: string }>(
        `SELECT c.id, c.name FROM collection_groups cg JOIN collections c ON c.id = cg.collection_id
            WHERE cg.group_id = $1 ORDER BY lower(c.name), c.id`,
        [id],
      );
      const documents = await db.query<{ id: string; title: string; collectionId: string }>(
        `SELECT d.id, d.title, d.collection_id AS "collectionId" FROM document_groups dg JOIN documents d ON d.id = dg.document_id
            WHERE dg.group_id = $1 ORDER BY lower(d.title), d.id`,
        [id],
      );
      const bots = await db.query<{ id: string; name: string }>(
        `SELECT b.id, b.name FROM bots b
            WHERE b.collection_ids && ARRAY(SELECT cg.collection_id FROM collection_groups cg WHERE cg.group_id = $1)
            ORDER BY lower(b.name), b.id`,
        [id],
      );
      return { collections: collections.rows, documents: documents.rows, bots: bots.rows };
    },
  };
}
