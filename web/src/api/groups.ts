import { api } from './client';
import type { Group, Page } from './types';

export interface GroupMember {
  id: string;
  name?: string;
  email?: string;
}

export function listGroups(): Promise<Page<Group>> {
  return api<Page<Group>>('/api/groups', { query: { limit: 200 } });
}

export async function fetchGroupMembers(id: string): Promise<GroupMember[]> {
  return (await api<{ group: Group & { members?: GroupMember[] } }>(`/api/groups/${id}`)).group.members ?? [];
}

export async function createGroup(input: { name: string; description?: string }): Promise<void> {
  await api('/api/groups', { method: 'POST', body: input });
}

export async function updateGroup(id: string, changes: { name: string; description: string }): Promise<void> {
  await api(`/api/groups/${id}`, { method: 'PATCH', body: changes });
}

/** What a group decides readers of: a delete is refused (409 `group_in_use`) with these as `details`. */
export interface GroupDependents {
  collections: { id: string; name: string }[];
  documents: { id: string; title: string }[];
  bots: { id: string; name: string }[];
}

/** `restrict-to-admins`: delete even so; what only this group opened is then read by admins only. */
export async function deleteGroup(id: string, onDependents?: 'restrict-to-admins'): Promise<void> {
  await api(`/api/groups/${id}`, { method: 'DELETE', query: { onDependents } });
}
