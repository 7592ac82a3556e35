/**
 * Who may read knowledge, as the SQL conditions every query that enforces it uses (collection
 * lists, retrieval for search, the bots, the copilot and /v1, the bots a user may use). The rule:
 * an active admin reads everything; a collection whose `readers` is 'everyone' is read by everyone,
 * one whose `readers` is 'groups' by members of any group it names; a document whose `readers` is
 * 'groups' is narrowed to members of its groups the same way. The mode is stored, never inferred
 * from an empty list: groups deleted from under a 'groups' collection leave it to admins alone.
 *
 * Citations are passages retrieval returned, so they follow the same rule, and so does the document
 * view a citation opens (/api/documents/:id/passages). The rest of /api/documents/… (documents and
 * chunks one by one, for curating) is for admins only, a route-level check (policy.ts `hasAccess`).
 *
 * Group membership and role are read from the database when the query runs, never from a cached
 * actor, so a change applies to the next query. Each function takes SQL expressions: the row's
 * id column (e.g. `c.id`) and the placeholder holding the reader's user id (e.g. `$1`).
 */

const activeAdmin = (user: string) =>
  `EXISTS (SELECT 1 FROM users au WHERE au.id = ${user} AND au.role = 'admin' AND NOT au.disabled)`;

/**
 * A list of readers as SQL: `open`, whether it admits everyone (of its collection, for a document);
 * `groups`, rows naming its groups (`from`, filtered by `where`, the group id in `column`).
 */
interface ReaderListSql {
  open: string;
  groups: { from: string; column: string; where?: string };
}

/** The rule itself: an active admin, an open list, or a member of one of its groups. */
function admitsSql(list: ReaderListSql, user: string): string {
  const { from, column, where } = list.groups;
  return `(${activeAdmin(user)}
    OR ${list.open}
    OR EXISTS (SELECT 1 FROM ${from} JOIN user_groups ug ON ug.group_id = ${column}
               WHERE ${where ? `${where} AND ` : ''}ug.user_id = ${user}))`;
}

/** "The reader may read collection `collection`". */
export function collectionReadableSql(collection: string, user: string): string {
  return admitsSql(
    {
      open: `(SELECT rc.readers = 'everyone' FROM collections rc WHERE rc.id = ${collection})`,
      groups: { from: 'collection_groups cg', column: 'cg.group_id', where: `cg.collection_id = ${collection}` },
    },
    user,
  );
}

/** "The reader passes document `document`'s own groups" (its collection must be readable too). */
function documentNarrowingSql(document: string, user: string): string {
  return admitsSql(
    {
      open: `(SELECT rd.readers = 'collection' FROM documents rd WHERE rd.id = ${document})`,
      groups: { from: 'document_groups dg', column: 'dg.group_id', where: `dg.document_id = ${document}` },
    },
    user,
  );
}

/**
 * "The reader would pass a list of readers not stored yet" (a change an admin is about to make,
 * previewed by the same rule): `open` a boolean SQL expression, `groups` a uuid[] expression.
 */
export function proposedReadersSql(proposal: { open: string; groups: string }, user: string): string {
  return admitsSql(
    {
      open: `(${proposal.open})`,
      groups: { from: `unnest(${proposal.groups}) AS pg(group_id)`, column: 'pg.group_id' },
    },
    user,
  );
}

/** "The reader may read a passage (chunk) of `document` in `collection`": both lists pass. */
export function passageReadableSql(passage: { collection: string; document: string }, user: string): string {
  return `${collectionReadableSql(passage.collection, user)} AND ${documentNarrowingSql(passage.document, user)}`;
}

/**
 * "The reader may use bot `bot`": it answers from its collections, so it is offered to whoever may
 * read at least one of them, to everyone when its `users` is 'everyone' (it was created or set with
 * no collections), and to admins always.
 */
export function botUsableSql(bot: string, user: string): string {
  return `(${bot}.users = 'everyone'
    OR ${activeAdmin(user)}
    OR EXISTS (SELECT 1 FROM collections c
               WHERE c.id = ANY(${bot}.collection_ids) AND ${collectionReadableSql('c.id', user)}))`;
}
