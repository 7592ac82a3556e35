import { api } from './client';
import type { ReadableDocument } from './types';

/** A cited document as its reader may read it (404 when they may not). */
export async function fetchReadableDocument(documentId: string): Promise<ReadableDocument> {
  return (await api<{ document: ReadableDocument }>(`/api/documents/${documentId}/passages`)).document;
}
