import { createAnalyticsService } from './core/analytics/analytics.service.ts';
import { createAuditService } from './core/audit/audit.service.ts';
import { createAuthService } from './core/auth/auth.service.ts';
import { createOidcService } from './core/auth/oidc.service.ts';
import { createConfiguredAnswerer } from './core/bots/bots.module.ts';
import { createBotService } from './core/bots/bot.service.ts';
import { createCompletionsService } from './core/bots/completions.service.ts';
import { createCopilotService } from './core/bots/copilot.service.ts';
import { createFeedbackService } from './core/bots/feedback.service.ts';
import { createAttachmentService } from './core/conversations/attachment.service.ts';
import { createConversationPublisher } from './core/conversations/conversation-publisher.ts';
import { createConversationService } from './core/conversations/conversation.service.ts';
import { createRoutingService } from './core/conversations/routing.service.ts';
import { createFileStorage } from './core/knowledge/knowledge.module.ts';
import { createKnowledgeService } from './core/knowledge/knowledge.service.ts';
import { createRetrievalService } from './core/knowledge/retrieval.service.ts';
import { createEmbedder } from './core/llm/create-embedder.ts';
import { createPeopleService } from './core/users/people.service.ts';
import { createUserService } from './core/users/user.service.ts';
import type { Services } from './services.ts';

/** Domain services built once over the process's infrastructure; shared by HTTP, WebSocket and jobs. */
export function createDomain(services: Services) {
  const auth = createAuthService({
    db: services.db,
    bus: services.bus,
    secret: services.secret,
    sessionTtlMs: services.config.sessionTtlMs,
    authCacheMs: services.config.authCacheMs,
  });
  const users = createUserService({ db: services.db, auth });
  const oidc = services.config.oidc
    ? createOidcService({ settings: services.config.oidc, db: services.db, auth, secret: services.secret })
    : undefined;
  const publisher = createConversationPublisher(services.db, services.bus);
  const routing = createRoutingService({ db: services.db, publisher, assignmentMode: services.config.assignmentMode });
  const conversations = createConversationService({
    db: services.db,
    publisher,
    routing,
    // The bot answers in a job: the user's 201 never waits for a model.
    onBotTurn: async (_conversation, message) => {
      await services.jobs.enqueue('answer', { messageId: message.id });
    },
  });
  const knowledge = createKnowledgeService({
    db: services.db,
    jobs: services.jobs,
    storage: createFileStorage(services.config),
    bus: services.bus,
    maxUploadBytes: services.config.knowledge.maxUploadBytes,
  });
  const retrieval = createRetrievalService({ db: services.db, embedder: createEmbedder(services.config) });
  const bots = createBotService({ db: services.db });
  const answerer = createConfiguredAnswerer(services);
  const feedback = createFeedbackService({ db: services.db, routing });
  const copilot = createCopilotService({ db: services.db, answerer, conversations, prompts: services.prompts });
  const completions = createCompletionsService({ db: services.db, answerer });
  const attachments = createAttachmentService({
    db: services.db,
    storage: createFileStorage(services.config),
    conversations,
    maxBytes: services.config.attachmentMaxBytes,
  });
  const people = createPeopleService({ db: services.db });
  const audit = createAuditService({ db: services.db });
  const analytics = createAnalyticsService({ db: services.db });
  return {
    auth,
    users,
    people,
    audit,
    analytics,
    oidc,
    routing,
    conversations,
    attachments,
    knowledge,
    retrieval,
    bots,
    feedback,
    copilot,
    completions,
  };
}

export type Domain = ReturnType<typeof createDomain>;
