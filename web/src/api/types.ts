/** JSON shapes of the Enclave API (server presenters), as the web app uses them. */
export type Role = 'employee' | 'agent' | 'admin';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  groups?: { id: string; name: string }[] | string[];
  skills?: string[];
  capacity?: number;
  sso: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface Group {
  id: string;
  name: string;
  description: string | null;
  memberCount: number;
  createdAt: string;
}

export type ConversationKind = 'bot' | 'support' | 'direct' | 'group';
export type ConversationStatus = 'bot' | 'queued' | 'assigned' | 'resolved' | null;

export interface ConversationMember {
  id: string;
  name: string;
  role: string;
}

export interface Conversation {
  id: string;
  kind: ConversationKind;
  botId: string | null;
  title: string | null;
  status: ConversationStatus;
  assigneeId: string | null;
  team: string | null;
  priority: number | null;
  handoffReason: string | null;
  createdBy: string;
  createdAt: string;
  lastMessageAt: string;
  queuedAt: string | null;
  claimedAt: string | null;
  firstResponseAt: string | null;
  resolvedAt: string | null;
  members?: ConversationMember[];
  unreadCount?: number;
  lastReadMessageId?: number;
  queuePosition?: number;
  estimatedWaitSeconds?: number;
}

export interface Citation {
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  page?: number | null;
  snippet?: string;
}

export interface Attachment {
  id: string;
  filename: string;
  mime: string;
  size: number;
}

export type SenderType = 'user' | 'bot' | 'agent' | 'system';

export interface Message {
  id: number;
  conversationId: string;
  senderType: SenderType;
  senderId: string | null;
  senderName: string | null;
  body: string;
  citations: Citation[];
  attachments: Attachment[];
  /** `sending` and `failed-send` exist only in the browser, before the server has the message. */
  status: 'streaming' | 'complete' | 'failed' | 'sending' | 'failed-send';
  clientId: string | null;
  internal: boolean;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface Bot {
  id: string;
  slug: string;
  name: string;
  description?: string;
  greeting?: string;
}

export interface Collection {
  id: string;
  name: string;
  description: string | null;
  groups: string[];
  documentCount: number;
  createdAt: string;
  updatedAt: string;
}

export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed' | 'disabled';

export interface KnowledgeDocument {
  id: string;
  collectionId: string;
  title: string;
  source: string;
  sourceUrl: string | null;
  mime: string | null;
  sizeBytes: number;
  status: DocumentStatus;
  progress: number;
  error: string | null;
  chunkCount: number;
  pageCount: number | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** One item of `POST /api/collections/:id/documents/bulk`, in the order sent. */
export interface BulkDocumentResult {
  document: KnowledgeDocument;
  /** The collection already had this content: `document` is the existing one, unchanged. */
  duplicate: boolean;
}

export interface Chunk {
  id: string;
  documentId: string;
  ord: number;
  text: string;
  tokenCount: number;
  kind: string;
  page: number | null;
  headings: string[];
}

export interface SearchHit {
  documentId: string;
  collectionId: string;
  chunkId: string;
  title: string;
  text: string;
  score: number;
  page: number | null;
  kind: string;
  vectorRank: number | null;
  textRank: number | null;
  vectorScore: number | null;
  textScore: number | null;
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

export interface Page<T> {
  items: T[];
  next: string | null;
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

export interface Gap {
  question: string;
  count: number;
  reasons: Record<'no_answer' | 'declined' | 'negative_feedback', number>;
  lastAskedAt: string;
  botIds: string[];
  examples: { conversationId: string; messageId: number; question: string; askedAt: string; comment: string | null }[];
}

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
  tokensPerBot: { botId: string | null; name: string | null; promptTokens: number; completionTokens: number; requests: number }[];
  tokensPerGroup: { groupId: string | null; name: string | null; tokens: number }[];
}
