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

export async function deleteGroup(id: string): Promise<void> {
  await api(`/api/groups/${id}`, { method: 'DELETE' });
}
