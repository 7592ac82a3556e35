import type { ParseableMime } from './parsed-document.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8Text(head: Buffer): boolean {
  // The head may end inside a multi-byte character: drop up to 3 trailing bytes before judging.
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    try {
      const text = utf8.decode(head.subarray(0, head.length - cut));
      return !/[\u0000-\u0008\u000e-\u001a]/.test(text);
    } catch {
      // try a shorter prefix
    }
  }
  return head.length === 0;
}

/**
 * The content type from the bytes, not from what the client claimed. `head` is the first few KB;
 * `name` (the uploaded file name) only chooses between text flavours (Markdown, CSV, plain).
 * Undefined: a type Enclave does not index.
 */
export function sniffMime(head: Buffer, name = ''): ParseableMime | undefined {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) {
    // A zip: Office files name their main part in the local file headers near the start.
    const names = head.toString('latin1');
    if (names.includes('word/')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    if (names.includes('xl/')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    if (ext === 'docx') return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    if (ext === 'xlsx') return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return undefined;
  }
  const bom = head.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]));
  if (!isUtf8Text(bom ? head.subarray(3) : head)) return undefined;
  const start = head
    .toString('utf8', bom ? 3 : 0, Math.min(head.length, 1024))
    .trimStart()
    .toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || ext === 'html' || ext === 'htm')
    return 'text/html';
  if (ext === 'md' || ext === 'markdown') return 'text/markdown';
  if (ext === 'csv') return 'text/csv';
  return 'text/plain';
}
