/**
 * JSON shapes of the Enclave API as the web app uses them. Where the server has a presenter, the
 * shape is the presenter's own output type, imported type-only (no server code enters the
 * bundle), so the two cannot drift apart.
 */
import type { Analytics as ServerAnalytics } from '../../../server/src/core/analytics/analytics.service.ts';
import type { PresentedAudit } from '../../../server/src/core/audit/audit.presenter.ts';
import type { PresentedOrganisation } from '../../../server/src/core/organisation/organisation.presenter.ts';
import type { PresentedBotDetail, PresentedBotSummary } from '../../../server/src/core/bots/bot.presenter.ts';
import type { Suggestion as ServerSuggestion } from '../../../server/src/core/bots/copilot.service.ts';
import type { Citation as ServerCitation } from '../../../server/src/core/bots/grounding.ts';
import type { Gap as ServerGap, presentFaqDraft } from '../../../server/src/core/gaps/gap.service.ts';
import type {
  PresentedConversation,
  PresentedConversationEvent,
  PresentedConversationRating,
  PresentedMessage,
} from '../../../server/src/core/conversations/conversation.presenter.ts';
import type {
  PresentedChunk,
  PresentedCollection,
  PresentedDocument,
  ReadableDocument as ServerReadableDocument,
} from '../../../server/src/core/knowledge/knowledge.presenter.ts';
import type { SearchHit as ServerSearchHit } from '../../../server/src/core/knowledge/retrieval.service.ts';
import type { DocumentUpdate as ServerDocumentUpdate } from '../../../server/src/core/realtime/frames.ts';
import type { PresentedGroup } from '../../../server/src/core/users/group.presenter.ts';
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
export type CollectionReaders = Collection['readers'];
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

export type Group = Json<PresentedGroup>;

/** A bot as employees see it: enough to pick it and be greeted. */
export type Bot = Json<PresentedBotSummary>;
/** A bot as admins see it, with every setting. */
export type BotDetail = Json<PresentedBotDetail>;
/** Stored handoff settings may predate a field; the server fills the defaults when it reads them. */
export type BotHandoffSettings = BotDetail['handoff'];

export type AuditEntry = Json<PresentedAudit>;
export type Organisation = Json<PresentedOrganisation>;
export type ConversationEvent = Json<PresentedConversationEvent>;
export type Suggestion = Json<ServerSuggestion>;

/** A question the bots could not answer well, with how often and why (the admin's gaps report). */
export type Gap = Json<ServerGap>;

/** An agent's reply proposed as an FAQ entry, waiting for an admin's review. */
export type FaqDraft = Json<ReturnType<typeof presentFaqDraft>>;

export type Analytics = Json<ServerAnalytics>;

/** An employee's 1–5 satisfaction rating of a conversation a person resolved. */
export type ConversationRating = Json<PresentedConversationRating>;
/** A document opened from a citation: the passages its reader may read, in order. */
export type ReadableDocument = Json<ServerReadableDocument>;
