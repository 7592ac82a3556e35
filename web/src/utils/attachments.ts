import type { AttachmentRules } from '../api/auth';

export type AttachmentProblem = 'empty' | 'tooLarge' | 'type';

/**
 * Why the server would refuse this file, known before uploading it: its size, and a type or name
 * outside what the server accepts (which still decides from the bytes). Unknown rules: no opinion.
 */
export function attachmentProblem(file: File, rules: AttachmentRules | null): AttachmentProblem | null {
  if (!rules) return null;
  if (file.size === 0) return 'empty';
  if (file.size > rules.maxBytes) return 'tooLarge';
  const name = file.name.toLowerCase();
  const known = rules.types.some((t) => t.mime === file.type || t.extensions.some((e) => name.endsWith(e)));
  return known ? null : 'type';
}

/** The file picker's `accept`: every type and file name ending the server takes. */
export function acceptList(rules: AttachmentRules | null): string | undefined {
  return rules?.types.flatMap((t) => [t.mime, ...t.extensions]).join(',');
}

export type FileKind = 'image' | 'pdf' | 'doc' | 'sheet' | 'slides' | 'text' | 'file';

/** The family a stored type belongs to, for its icon. */
export function fileKind(mime: string): FileKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime === 'application/pdf') return 'pdf';
  if (mime.includes('wordprocessingml')) return 'doc';
  if (mime.includes('spreadsheetml')) return 'sheet';
  if (mime.includes('presentationml')) return 'slides';
  if (mime.startsWith('text/')) return 'text';
  return 'file';
}

/** "820 B", "14 kB", "3.2 MB", with the locale's digits and separators. */
export function formatFileSize(bytes: number, locale: string): string {
  // Intl's short "byte" is a word in English ("820 byte"): bytes get the symbol every language reads.
  if (bytes < 1024) return `${new Intl.NumberFormat(locale).format(bytes)} B`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'kilobyte'] : [bytes / (1024 * 1024), 'megabyte'];
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: value < 10 ? 1 : 0,
  }).format(value);
}
