import { AppError } from '../errors.ts';

/**
 * Who reads a collection (`open` = 'everyone') or a document (`open` = 'collection': its
 * collection's readers) after a create or an update: `open`, or members of a set of groups, which
 * may be empty (admins only). Groups alone imply 'groups'; neither keeps what was. An empty group
 * list alone is refused: it used to mean `open`, and now would mean admins only, so the caller says
 * which. `open` with groups contradicts itself.
 */
export function resolveReaders<Open extends string>(
  open: Open,
  current: Open | 'groups',
  input: { readers?: Open | 'groups' | undefined; groups?: string[] | undefined },
): { readers: Open | 'groups'; groups: string[] | undefined } {
  const { readers, groups } = input;
  if (readers === open) {
    if (groups?.length) throw new AppError(400, 'readers_conflict', `readers "${open}" takes no groups`);
    return { readers, groups: [] };
  }
  if (readers === 'groups') return { readers, groups };
  if (groups === undefined) return { readers: current, groups };
  if (!groups.length)
    throw new AppError(
      400,
      'readers_required',
      `An empty group list needs readers: "${open}" or "groups" (then admins only read it)`,
    );
  return { readers: 'groups', groups };
}
