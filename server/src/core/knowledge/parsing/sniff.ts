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
    if (names.includes('ppt/')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
    if (ext === 'docx') return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    if (ext === 'xlsx') return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    if (ext === 'pptx') return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
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

export const UNSUPPORTED_TYPE =
  'This file type cannot be indexed (supported: PDF, DOCX, XLSX, PPTX, Markdown, HTML, CSV, plain text)';

/** The signature of an OLE2 compound file: Office 97–2003's .doc, .xls and .ppt. */
const OLE2 = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * Why a file Enclave does not index was refused, when a user can do something about it: a legacy
 * Office file (binary, from Office 97–2003) is saved again in the current format.
 */
export function refusalHint(head: Buffer, name = ''): string | undefined {
  if (!head.subarray(0, 8).equals(OLE2)) return undefined;
  const ext = name.toLowerCase().split('.').pop() ?? '';
  // The directory names the main stream, UTF-16: WordDocument, Workbook, PowerPoint Document.
  const names = head.toString('utf16le') + head.subarray(1).toString('utf16le');
  const kind =
    ext === 'xls' || names.includes('Workbook')
      ? ['Excel', '.xls', '.xlsx']
      : ext === 'ppt' || names.includes('PowerPoint Document')
        ? ['PowerPoint', '.ppt', '.pptx']
        : ['Word', '.doc', '.docx'];
  return `Legacy ${kind[0]} files (${kind[1]}, Office 97–2003) cannot be indexed: open it in ${kind[0]} or LibreOffice, save it as ${kind[2]} and upload that`;
}
