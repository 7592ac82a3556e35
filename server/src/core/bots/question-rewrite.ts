import { z } from 'zod';
import { estimateTokens, type ChatModel, type ChatResult } from '../llm/chat-model.ts';
import type { Logger } from '../logger.ts';
import { transcriptOf, type Turn } from './conversation-memory.ts';
import { languageName, type Language } from './language.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';

/** What retrieval and the answer work from, once the latest message is read in its conversation. */
export interface Rewrite {
  /** The latest message as a standalone question, in the asker's language. */
  query: string;
  /** The message asks to rework the previous answer (shorten, explain, translate) rather than to learn something new. */
  followUp: boolean;
  /** The standalone question in the documents' language, when the asker wrote in another one. */
  translatedQuery: string | null;
  /** The model's count of the rewrite prompt against our estimate of it (see modelTokenCounter). */
  measured?: { reported: number; estimated: number };
}

const rewriteReply = z.object({
  query: z.string().trim().min(1).max(2000),
  followUp: z.boolean().default(false),
  queryInCollectionLanguage: z.string().trim().max(2000).nullish(),
});

/** An offline follow-up shorter than this borrows the previous question's terms. */
const SHORT_FOLLOW_UP = 24;

/**
 * Reads the rewrite prompt's JSON reply. A reply with no JSON at all comes from a bot's own prompt
 * written for the older plain-text contract: the text is the standalone question, as before. JSON
 * that does not parse or fit is ignored: searching with a broken reply would find nothing useful.
 */
export function parseRewrite(text: string, question: string): Omit<Rewrite, 'measured'> {
  const reply = text.trim();
  const start = reply.indexOf('{');
  if (start < 0) return { query: reply || question, followUp: false, translatedQuery: null };
  let json: unknown;
  try {
    json = JSON.parse(reply.slice(start, reply.lastIndexOf('}') + 1));
  } catch {
    json = undefined;
  }
  const parsed = rewriteReply.safeParse(json);
  if (!parsed.success) return { query: question, followUp: false, translatedQuery: null };
  const { query, followUp, queryInCollectionLanguage: translated } = parsed.data;
  return { query, followUp, translatedQuery: translated && translated !== query ? translated : null };
}

/**
 * The latest message made ready for retrieval. With a model, one call (the `rewrite` prompt) turns
 * a follow-up into a standalone question, says whether it only reworks the previous answer, and
 * translates it when the documents are in another language (`alsoSearchIn`). Without a model, a
 * short follow-up ("and for part-timers?") borrows the previous question's terms.
 */
export async function rewriteQuestion(
  input: { question: string; history: Turn[]; alsoSearchIn: Language | null; questionLanguage: Language },
  deps: {
    model: ChatModel | undefined;
    prompts: PromptSet;
    overrides: Record<string, unknown>;
    logger: Logger;
    /** Records the call's usage. */
    record: (result: ChatResult, started: number) => Promise<void>;
  },
): Promise<Rewrite> {
  const { question, history, alsoSearchIn } = input;
  const asked: Rewrite = { query: question, followUp: false, translatedQuery: null };
  const earlier = history.filter((t) => t.role === 'user');
  if (!deps.model) {
    const previous = earlier[earlier.length - 1];
    return previous && question.length < SHORT_FOLLOW_UP
      ? { ...asked, query: `${previous.content} ${question}` }
      : asked;
  }
  if (!earlier.length && !alsoSearchIn) return asked;
  const prompt = renderPrompt(
    deps.prompts,
    'rewrite',
    {
      history: history.length ? transcriptOf(history) : '(none)',
      question,
      documentLanguage: languageName(alsoSearchIn ?? input.questionLanguage),
    },
    deps.overrides,
  );
  const started = Date.now();
  try {
    const result = await deps.model.stream(
      { messages: [{ role: 'user', content: prompt }], temperature: 0, maxTokens: 400 },
      () => {},
    );
    await deps.record(result, started);
    return {
      ...parseRewrite(result.text, question),
      measured: { reported: result.promptTokens, estimated: estimateTokens(prompt) },
    };
  } catch (error) {
    deps.logger.warn({ err: error }, 'question rewrite failed; searching with the question as asked');
    return asked;
  }
}
