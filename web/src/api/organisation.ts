import { api } from './client';
import type { Organisation } from './types';

export async function fetchOrganisation(): Promise<Organisation> {
  return (await api<{ organisation: Organisation }>('/api/organisation')).organisation;
}

export async function renameOrganisation(name: string): Promise<Organisation> {
  return (await api<{ organisation: Organisation }>('/api/organisation', { method: 'PATCH', body: { name } }))
    .organisation;
}

/** Sends the image file itself as the body. */
export async function uploadLogo(file: File): Promise<Organisation> {
  return (await api<{ organisation: Organisation }>('/api/organisation/logo', { method: 'PUT', body: file }))
    .organisation;
}

export async function removeLogo(): Promise<Organisation> {
  return (await api<{ organisation: Organisation }>('/api/organisation/logo', { method: 'DELETE' })).organisation;
}
