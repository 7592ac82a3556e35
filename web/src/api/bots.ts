import { api } from './client';
import type { Bot, BotDetail, Page } from './types';

/** The bots this user may chat with (admins get every setting: see listBotDetails). */
export async function listBots(): Promise<Bot[]> {
  const page = await api<Page<Bot> | { bots: Bot[] }>('/api/bots');
  return 'items' in page ? page.items : page.bots;
}

/** Every bot with its settings, as only admins see them. */
export async function listBotDetails(): Promise<BotDetail[]> {
  return (await api<Page<BotDetail>>('/api/bots')).items;
}

export async function createBot(body: Record<string, unknown>): Promise<void> {
  await api('/api/bots', { method: 'POST', body });
}

export async function updateBot(id: string, body: Record<string, unknown>): Promise<void> {
  await api(`/api/bots/${id}`, { method: 'PATCH', body });
}
