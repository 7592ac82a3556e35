import { api } from './client';
import type { Page, Role, User } from './types';

export interface UserQuery {
  q?: string;
  role?: Role | '';
  limit: number;
  cursor?: string | null;
}

export interface NewUser {
  email: string;
  name: string;
  password: string;
  role: Role;
  groups: string[];
}

export type UserChanges = Partial<Omit<NewUser, 'groups'>> & { groups?: string[]; disabled?: boolean };

export function listUsers(query: UserQuery): Promise<Page<User>> {
  return api<Page<User>>('/api/users', { query: { ...query, cursor: query.cursor ?? undefined } });
}

/** One user with their groups. */
export async function fetchUser(id: string): Promise<User> {
  return (await api<{ user: User }>(`/api/users/${id}`)).user;
}

export async function createUser(input: NewUser): Promise<void> {
  await api('/api/users', { method: 'POST', body: input });
}

export async function updateUser(id: string, changes: UserChanges): Promise<void> {
  await api(`/api/users/${id}`, { method: 'PATCH', body: changes });
}

/** A colleague an agent may transfer a conversation to: a name and whether they take conversations now. */
export interface TransferAgent {
  id: string;
  name: string;
  available: boolean;
}

/** Agents and admins, for the transfer dialog (agents may call it; it tells nothing more about them). */
export async function listAgents(): Promise<TransferAgent[]> {
  return (await api<Page<TransferAgent>>('/api/agents')).items;
}
