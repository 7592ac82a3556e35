import type { GroupRow } from './group.repository.ts';

/** A group as the API shows it (the web app imports this type). */
export function presentGroup(group: GroupRow) {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    memberCount: group.member_count,
    createdAt: group.created_at.toISOString(),
  };
}

export type PresentedGroup = ReturnType<typeof presentGroup>;
