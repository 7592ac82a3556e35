import { api } from './client';
import type { Analytics } from './types';

export async function fetchAnalytics(days: number): Promise<Analytics> {
  return (await api<{ analytics: Analytics }>('/api/admin/analytics', { query: { days } })).analytics;
}
