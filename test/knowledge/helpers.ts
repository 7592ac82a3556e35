import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestApp } from '../support/app.ts';
import { request, type ApiResponse } from '../support/http.ts';
import { until } from '../support/wait.ts';

/** Multipart upload of one file as the `file` field (`query`: e.g. its readers, `{groups: 'id,id'}`). */
export async function upload(
  app: TestApp,
  token: string,
  collectionId: string,
  name: string,
  bytes: Buffer,
  type = 'application/octet-stream',
  query: Record<string, string> = {},
): Promise<ApiResponse> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const search = new URLSearchParams(query).toString();
  const res = await fetch(`${app.url}/api/collections/${collectionId}/documents${search ? `?${search}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text,
  };
}

export async function newCollection(
  app: TestApp,
  token: string,
  input: { name?: string; groups?: string[] } = {},
): Promise<string> {
  const res = await request(app.url, 'POST', '/api/collections', {
    token,
    body: { name: input.name ?? 'Handbook', ...(input.groups ? { groups: input.groups } : {}) },
  });
  if (res.status !== 201) throw new Error(`collection: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.collection.id;
}

/** Polls the document until ingestion has finished (ready or failed) and returns it. */
export async function settled(app: TestApp, token: string, documentId: string, timeoutMs = 60_000) {
  return until(
    async () => {
      const res = await request(app.url, 'GET', `/api/documents/${documentId}`, { token });
      return res.body.document && ['ready', 'failed'].includes(res.body.document.status)
        ? res.body.document
        : undefined;
    },
    `document ${documentId} to finish ingesting`,
    timeoutMs,
  );
}

export async function addText(app: TestApp, token: string, collectionId: string, title: string, text: string) {
  const res = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
    token,
    body: { title, text },
  });
  if (res.status !== 202) throw new Error(`add text: ${res.status} ${JSON.stringify(res.body)}`);
  return settled(app, token, res.body.document.id);
}

export async function chunksOf(app: TestApp, token: string, documentId: string) {
  const res = await request(app.url, 'GET', `/api/documents/${documentId}/chunks?limit=500`, { token });
  return res.body.items as { text: string; page: number | null; headings: string[]; ord: number; kind: string }[];
}

export async function search(app: TestApp, token: string, query: string, extra: Record<string, unknown> = {}) {
  const res = await request(app.url, 'POST', '/api/search', { token, body: { query, ...extra } });
  if (res.status !== 200) throw new Error(`search: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.hits as {
    documentId: string;
    chunkId: string;
    title: string;
    text: string;
    score: number;
    page: number | null;
    kind: string;
    vectorRank: number | null;
    textRank: number | null;
  }[];
}

/** Every file under `dir` (none when it does not exist): what a refused request must leave unchanged. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
}
