import type { attachmentRules } from '../../../server/src/core/conversations/attachment-type.ts';
import { api } from './client';
import type { User } from './types';

export interface AuthConfig {
  sso: { enabled: boolean; loginUrl?: string };
  /** Absent from servers older than the link rule. */
  answerLinks?: { allowedDomains: string[] };
  /** What a message may carry; absent from servers older than the composer's attachments. */
  attachments?: AttachmentRules;
}

export type AttachmentRules = ReturnType<typeof attachmentRules>;

/** The signed-in user (401 when nobody is). */
export async function fetchMe(): Promise<User> {
  return (await api<{ user: User }>('/api/me')).user;
}

export function fetchAuthConfig(): Promise<AuthConfig> {
  return api<AuthConfig>('/api/auth/config');
}

export async function login(email: string, password: string): Promise<User> {
  const body = { email, password };
  return (await api<{ token: string; user: User }>('/api/auth/login', { method: 'POST', body })).user;
}

export async function logout(): Promise<void> {
  await api('/api/auth/logout', { method: 'POST' });
}
