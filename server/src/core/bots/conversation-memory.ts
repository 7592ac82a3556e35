import { estimateTokens } from '../llm/chat-model.ts';

/** One earlier message of a conversation, as the pipeline sees it. */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** How many tokens a text costs the model. */
export type TokenCounter = (text: string) => number;

/** What a chat format adds around each message (role and separators), roughly. */
const TOKENS_PER_TURN = 4;

/** Bounds on the measured ratio, so an endpoint reporting nonsense cannot blow or starve the budget. */
const MIN_RATIO = 0.5;
const MAX_RATIO = 3;

/**
 * Tokens as the model counts them, where the model has told us: the endpoint reports how many
 * tokens an earlier prompt of this request took (`reported`) and we know our estimate of it, so the
 * estimate is scaled by the model's own tokens-per-estimated-token. Without a measurement: the
 * estimate (~4 characters or 1 CJK character per token).
 */
export function modelTokenCounter(measured?: { reported: number; estimated: number }): TokenCounter {
  if (!measured || measured.reported <= 0 || measured.estimated <= 0) return estimateTokens;
  const ratio = Math.min(MAX_RATIO, Math.max(MIN_RATIO, measured.reported / measured.estimated));
  return (text) => Math.ceil(estimateTokens(text) * ratio);
}

/**
 * An earlier answer's [n] markers point at passages of *its* context, not the one the model sees
 * now; left in, the model would cite those stale numbers.
 */
export function withoutCitationMarkers(text: string): string {
  return text.replace(/[ \t]*\[\d{1,2}\]/g, '');
}

/** The start of a turn too long for the budget by itself, marked as cut. */
function cut(text: string, budget: number, count: TokenCounter): string {
  const chars = [...text];
  let n = Math.floor((chars.length * budget) / Math.max(1, count(text)));
  while (n > 0 && count(`${chars.slice(0, n).join('')}…`) > budget) n = Math.floor(n * 0.9);
  return n > 0 ? `${chars.slice(0, n).join('')}…` : '';
}

/**
 * The earlier turns an answer carries: the most recent ones whose tokens fit `budget`, oldest
 * first, without citation markers. The oldest turns go first and a turn is never cut, except the
 * most recent one when it alone exceeds the budget (a pasted document, a long answer to shorten).
 */
export function recentTurns(history: Turn[], budget: number, count: TokenCounter = estimateTokens): Turn[] {
  const kept: Turn[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const turn = history[i]!;
    const content = turn.role === 'assistant' ? withoutCitationMarkers(turn.content) : turn.content;
    const cost = count(content) + TOKENS_PER_TURN;
    if (used + cost <= budget) {
      kept.unshift({ role: turn.role, content });
      used += cost;
      continue;
    }
    if (!kept.length) {
      const start = cut(content, budget - TOKENS_PER_TURN, count);
      if (start) kept.unshift({ role: turn.role, content: start });
    }
    break;
  }
  return kept;
}

/** The turns as a plain transcript, for prompts that take the conversation as one text. */
export function transcriptOf(turns: Turn[]): string {
  return turns.map((t) => `${t.role === 'user' ? 'User' : 'Assistant'}: ${t.content}`).join('\n');
}
