/** What kind of file a document is, for its icon: a short label and a colour family. */
export interface DocumentType {
  /** Upper-case, at most four letters: "PDF", "DOCX", "FAQ". */
  label: string;
  family: 'pdf' | 'word' | 'sheet' | 'slides' | 'web' | 'faq' | 'text';
}

const BY_MIME: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'text/html': 'html',
  'text/markdown': 'md',
  'text/csv': 'csv',
  'text/plain': 'txt',
};

const FAMILIES: Record<string, DocumentType['family']> = {
  pdf: 'pdf',
  doc: 'word',
  docx: 'word',
  xls: 'sheet',
  xlsx: 'sheet',
  csv: 'sheet',
  ppt: 'slides',
  pptx: 'slides',
  html: 'web',
  htm: 'web',
};

/** The extension of a file name, lower-case, or '' when it has none. */
export function extensionOf(filename: string | null | undefined): string {
  const match = /\.([a-z0-9]{1,5})$/i.exec(filename ?? '');
  return match ? match[1]!.toLowerCase() : '';
}

/**
 * The type an admin recognises: an upload by its own extension (what they uploaded), a pasted text
 * as text, an FAQ entry as FAQ, an imported page as a web page, anything else by its content type.
 */
export function documentType(d: { source: string; mime: string; filename?: string | null }): DocumentType {
  if (d.source === 'faq') return { label: 'FAQ', family: 'faq' };
  if (d.source === 'text') return { label: 'TXT', family: 'text' };
  const ext = extensionOf(d.filename) || BY_MIME[d.mime] || (d.mime.startsWith('text/') ? 'txt' : '');
  if (!ext) return { label: 'FILE', family: 'text' };
  return { label: ext.toUpperCase().slice(0, 4), family: FAMILIES[ext] ?? 'text' };
}
