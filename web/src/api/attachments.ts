import { apiBlob, upload } from './client';
import type { Attachment } from './types';

/** Where the browser downloads an attachment (same origin: the session cookie authenticates it). */
export function attachmentUrl(id: string): string {
  return `/api/attachments/${encodeURIComponent(id)}`;
}

/** Uploads a file for the sender's next message in the conversation, reporting progress. */
export async function uploadAttachment(
  conversationId: string,
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Attachment> {
  const path = `/api/conversations/${encodeURIComponent(conversationId)}/attachments`;
  return (await upload<{ attachment: Attachment }>(path, file, onProgress, signal)).attachment;
}

/** An attachment's bytes, for showing an image inline. */
export function fetchAttachment(id: string, signal?: AbortSignal): Promise<Blob> {
  return apiBlob(attachmentUrl(id), signal);
}
