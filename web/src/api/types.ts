/**
 * JSON shapes of the Enclave API as the web app uses them. Where the server has a presenter, the
 * shape is the presenter's own output type, imported type-only (no server code enters the
 * bundle), so the two cannot drift apart.
 */
import type { Gap as ServerGap } from '../../../server/src/core/bots/feedback.service.ts';
import type { Citation as ServerCitation } from '../../../server/src/core/bots/grounding.ts';
import type {
  PresentedConversation,
  PresentedMessage,
} from '../../../server/src/core/conversations/conversation.presenter.ts';
import type {
  PresentedChunk,
  PresentedCollection,
  PresentedDocument,
} from '../../../server/src/core/knowledge/knowledge.presenter.ts';
import type { SearchHit as ServerSearchHit } from '../../../server/src/core/knowledge/retrieval.service.ts';
import type { DocumentUpdate as ServerDocumentUpdate } from '../../../server/src/core/realtime/frames.ts';
import type { PresentedUser } from '../../../server/src/core/users/user.presenter.ts';

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

/**
 * What `JSON.stringify` makes of a server value: dates become ISO strings, and a field that may be
 * undefined may be missing.
 */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in Exclude<keyof T, OptionalKeys<T>>]: Json<T[K]> } & {
          [K in OptionalKeys<T>]?: Json<Exclude<T[K], undefined>>;
        }
      : T;

export type User = Json<PresentedUser>;
export type Role = User['role'];

export type Conversation = Json<PresentedConversation>;
export type ConversationKind = Conversation['kind'];

export type Citation = Json<ServerCitation>;
export type Attachment = Json<PresentedMessage['attachments'][number]>;

/** `sending` and `failed-send` exist only in the browser, before the server has the message. */
export type Message = Omit<Json<PresentedMessage>, 'status'> & {
  status: PresentedMessage['status'] | 'sending' | 'failed-send';
};

export type Collection = Json<PresentedCollection>;
export type KnowledgeDocument = Json<PresentedDocument>;
/** A document's new state, as answers and `document.updated` frames bring it (the latter also `deleted`). */
export type DocumentUpdate = Json<ServerDocumentUpdate>;
export type Chunk = Json<PresentedChunk>;
export type SearchHit = Json<ServerSearchHit>;

/** One item of `POST /api/collections/:id/documents/bulk`, in the order sent. */
export interface BulkDocumentResult {
  document: KnowledgeDocument;
  /** The collection already had this content: `document` is the existing one, unchanged. */
  duplicate: boolean;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

// The shapes below are presented inside their route or service modules (http/routes/*.routes.ts,
// core/analytics, core/bots); they are kept here until those presenters move to core presenter files.

export interface Group {
  id: string;
  name: string;
  description: string | null;
  memberCount: number;
  createdAt: string;
}

export interface Bot {
  id: string;
  slug: string;
  name: string;
  description?: string;
  greeting?: string;
}

export interface AuditEntry {
  id: number | string;
  at: string;
  actor: { id: string; email: string | null } | null;
  action: string;
  target: { type: string; id: string | null } | null;
  ip: string | null;
  details: unknown;
}

export interface ConversationEvent {
  id: string;
  type: string;
  from: string | null;
  to: string | null;
  actorId: string | null;
  reason: string | null;
  createdAt: string;
}

/** The agent copilot's context packet: summary, handoff reason, a drafted reply, what the bot cited. */
export interface Suggestion {
  summary?: string;
  reason?: string | null;
  reply?: { body: string; citations: Citation[] } | string;
  botCitations?: Citation[];
  model?: string;
}

export interface BotHandoffSettings {
  enabled: boolean;
  minScore: number;
  auto: boolean;
  onNegativeFeedback: boolean;
  onRepeatedQuestion: boolean;
  triggerWords: string[];
  team: string | null;
}

/** A bot as admins see it (employees get only id, slug, name, description, greeting, language). */
export interface BotDetail extends Bot {
  language: 'auto' | 'zh' | 'en';
  collectionIds: string[];
  prompts: Partial<Record<'answer.system' | 'answer.user' | 'rewrite' | 'summary' | 'suggestion', string>>;
  model: { baseUrl?: string; model?: string; temperature?: number; maxTokens?: number };
  handoff: BotHandoffSettings;
  enabled: boolean;
}

/** A question the bots could not answer well, with how often and why (the admin's gaps report). */
export type Gap = Json<ServerGap>;

export interface Analytics {
  since: string;
  days: number;
  conversationsPerDay: { day: string; kind: string; count: number }[];
  botConversations: number;
  deflectionRate: number | null;
  handoffRate: number | null;
  handoffReasons: { reason: string; count: number }[];
  medianWaitSeconds: number | null;
  medianResolveSeconds: number | null;
  feedback: { positive: number; negative: number; positiveRate: number | null };
  tokensPerBot: {
    botId: string | null;
    name: string | null;
    promptTokens: number;
    completionTokens: number;
    requests: number;
  }[];
  tokensPerGroup: { groupId: string | null; name: string | null; tokens: number }[];
}
