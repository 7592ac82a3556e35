/** Files people may attach to messages, identified from their bytes (the claimed type is ignored). */
export type AttachmentMime =
  | 'image/png'
  | 'image/jpeg'
  | 'image/gif'
  | 'image/webp'
  | 'application/pdf'
  | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
  | 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
  | 'application/vnd.openxmlformats-officedocument.presentationml.presentation'
  | 'text/plain';

/** Images render in the chat; everything else is offered as a download. */
export const INLINE_MIMES: ReadonlySet<AttachmentMime> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
]);

/** A message carries at most this many files. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** How each type is usually named: the web app's file picker offers these and checks a file against them before uploading. */
const EXTENSIONS: Record<AttachmentMime, readonly string[]> = {
  'image/png': ['.png'],
  'image/jpeg': ['.jpg', '.jpeg'],
  'image/gif': ['.gif'],
  'image/webp': ['.webp'],
  'application/pdf': ['.pdf'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['.docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['.xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['.pptx'],
  // Any UTF-8 text passes the byte check; these are the names text files usually have.
  'text/plain': ['.txt', '.md', '.csv', '.log', '.json'],
};

/** What a client may attach (GET /api/auth/config): one source for the server's checks and the web app's. */
export function attachmentRules(maxBytes: number) {
  return {
    maxBytes,
    maxPerMessage: MAX_ATTACHMENTS_PER_MESSAGE,
    types: Object.entries(EXTENSIONS).map(([mime, extensions]) => ({ mime, extensions: [...extensions] })),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function sniffAttachment(head: Buffer): AttachmentMime | undefined {
  const hex = head.subarray(0, 12).toString('hex');
  if (hex.startsWith('89504e470d0a1a0a')) return 'image/png';
  if (hex.startsWith('ffd8ff')) return 'image/jpeg';
  if (
    head
      .subarray(0, 6)
      .toString('latin1')
      .match(/^GIF8[79]a$/)
  )
    return 'image/gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'image/webp';
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (hex.startsWith('504b0304')) {
    const names = head.toString('latin1');
    if (names.includes('word/')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    if (names.includes('xl/')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    if (names.includes('ppt/')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
    return undefined;
  }
  // Text: valid UTF-8 (allowing a character cut at the end of the sample) without control bytes.
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    try {
      const text = utf8.decode(head.subarray(0, head.length - cut));
      return /[\u0000-\u0008\u000e-\u001a]/.test(text) ? undefined : 'text/plain';
    } catch {
      // a shorter prefix may decode
    }
  }
  return undefined;
}
