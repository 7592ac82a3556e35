import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { ParsedSection } from '../parsing/parsed-document.ts';
import { countTokens } from './tokenize.ts';

export interface SplitOptions {
  /** Chunk size in (approximate) model tokens. */
  chunkTokens: number;
  overlapTokens: number;
}

export const DEFAULT_SPLIT: SplitOptions = { chunkTokens: 512, overlapTokens: 48 };

export interface Piece {
  text: string;
  tokenCount: number;
  metadata: { page?: number; headings?: string[] };
}

// LangChain's splitter with Chinese separators puts the 。 at the start of the next chunk, so a
// line break is put after each sentence end first and the splitter cuts at lines.
const SENTENCE_END = /([。！？；!?]+["”’」』）)]*)(?!\n)/g;
const ENGLISH_SENTENCE_END = /([a-z0-9][.!?]["”’)]*) (?=[A-Z"“‘(])/g;

function markSentences(text: string): string {
  return text.replace(SENTENCE_END, '$1\n').replace(ENGLISH_SENTENCE_END, '$1\n');
}

/**
 * Sections → chunks: each section (a page, a heading's text) is split on its own, so every chunk
 * has one page and one heading path. Paragraphs first, then lines (sentences), then clauses.
 */
export async function splitSections(
  sections: ParsedSection[],
  options: SplitOptions = DEFAULT_SPLIT,
): Promise<Piece[]> {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: options.chunkTokens,
    chunkOverlap: options.overlapTokens,
    lengthFunction: countTokens,
    separators: ['\n\n', '\n', '，', '、', ', ', ' ', ''],
    keepSeparator: false,
  });
  const pieces: Piece[] = [];
  for (const section of sections) {
    const texts = await splitter.splitText(markSentences(section.text));
    for (const raw of texts) {
      const text = raw
        .replace(/([。！？；]["”’」』）)]*)\n/g, '$1')
        .replace(/([a-z0-9][.!?]["”’)]*)\n(?=[A-Z"“‘(])/g, '$1 ')
        .trim();
      if (!text) continue;
      const metadata: Piece['metadata'] = {};
      if (section.page !== undefined) metadata.page = section.page;
      if (section.headings?.length) metadata.headings = section.headings;
      pieces.push({ text, tokenCount: countTokens(text), metadata });
    }
  }
  return pieces;
}
