/** What a parser extracts: sections of plain text with where they came from. */
export interface ParsedSection {
  text: string;
  /** 1-based page (PDF) or slide (PowerPoint). */
  page?: number;
  /** Heading path above this section ("Guide > Install"). */
  headings?: string[];
}

export interface ParsedDocument {
  title?: string;
  sections: ParsedSection[];
  pageCount?: number;
}

export const PARSEABLE_MIMES = [
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'text/markdown',
  'text/html',
  'text/csv',
  'text/plain',
] as const;
export type ParseableMime = (typeof PARSEABLE_MIMES)[number];

/** Thrown for content that can never parse (corrupt, empty, encrypted): the job is not retried. */
export class UnparseableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnparseableError';
  }
}
