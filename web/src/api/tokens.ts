import { api } from './client';
import type { Page } from './types';

/** What a personal API token may be used for: `chat` is the OpenAI-compatible /v1, `api` the REST API. */
export type TokenScope = 'chat' | 'api';

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export interface NewApiToken {
  name: string;
  scopes: TokenScope[];
  expiresInDays: number;
}

export async function listApiTokens(): Promise<ApiToken[]> {
  return (await api<Page<ApiToken>>('/api/tokens')).items;
}

/** The secret comes back this once; the server keeps only its hash. */
export function createApiToken(input: NewApiToken): Promise<{ token: string; apiToken: ApiToken }> {
  return api('/api/tokens', { method: 'POST', body: input });
}

export async function revokeApiToken(id: string): Promise<void> {
  await api(`/api/tokens/${id}`, { method: 'DELETE' });
}
