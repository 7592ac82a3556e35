import { createAnalyticsService } from './core/analytics/analytics.service.ts';
import { createAuditService } from './core/audit/audit.service.ts';
import { createAuthService } from './core/auth/auth.service.ts';
import { createOidcService } from './core/auth/oidc.service.ts';
import { createAnswerService } from './core/bots/answer.service.ts';
import { createBotService } from './core/bots/bot.service.ts';
import {
  createConfiguredAnswerer,
  createConfiguredIntentClassifier,
  createConfiguredTitler,
} from './core/bots/bots.module.ts';
import { createCompletionsService } from './core/bots/completions.service.ts';
import { createCopilotService } from './core/bots/copilot.service.ts';
import { countRedactions } from './core/bots/redaction-audit.ts';
import { createFeedbackService } from './core/bots/feedback.service.ts';
import { createGapService } from './core/gaps/gap.service.ts';
import { createAttachmentService } from './core/conversations/attachment.service.ts';
import { createConversationPublisher } from './core/conversations/conversation-publisher.ts';
import { createConversationService } from './core/conversations/conversation.service.ts';
import { createRoutingService } from './core/conversations/routing.service.ts';
import type { JobMap } from './core/jobs/job-map.ts';
import type { JobSchedules } from './core/jobs/job-types.ts';
import type { Outbox } from './core/jobs/outbox.ts';
import { createOwnEndpoints } from './core/knowledge/import-address-policy.ts';
import { createConfiguredKnowledgeJobs } from './core/knowledge/knowledge.module.ts';
import { createSourceService } from './core/knowledge/sources/source.service.ts';
import { createKnowledgeService } from './core/knowledge/knowledge.service.ts';
import { createParserPool } from './core/knowledge/parsing/parser-pool.ts';
import { createRetrievalService } from './core/knowledge/retrieval.service.ts';
import { createEmbedder } from './core/llm/create-embedder.ts';
import { createReranker } from './core/llm/rerank-client.ts';
import { createFileStorage } from './core/storage/stored-files.ts';
import { createPeopleService } from './core/users/people.service.ts';
import { createOrganisationService } from './core/organisation/organisation.service.ts';
import { createCannedReplyService } from './core/canned-replies/canned-reply.service.ts';
import { createCustomerCardService } from './core/conversations/customer-card.service.ts';
import { createUserService } from './core/users/user.service.ts';
import type { Infrastructure } from './services.ts';

/**
 * Every domain service, built once over the process's infrastructure and shared by HTTP, WebSocket
 * and the job processors. Jobs go through the `outbox` (written in the transaction of the change they
 * follow); the runner is built after the domain, from processors that use it (composition.ts).
 */
export function createDomain(infrastructure: Infrastructure, outbox: Outbox<JobMap>, schedules: JobSchedules<JobMap>) {
  const { config, db, bus, logger, secret } = infrastructure;
  const auth = createAuthService({
    db,
    bus,
    secret,
    sessionTtlMs: config.sessionTtlMs,
    authCacheMs: config.authCacheMs,
  });
  const users = createUserService({ db, auth });
  const oidc = config.oidc ? createOidcService({ settings: config.oidc, db, auth, secret }) : undefined;

  // One of each per process: search, bots, copilot and /v1 share the retrieval service's BM25 caches.
  const files = createFileStorage(config);
  const embedder = createEmbedder(config, countRedactions(infrastructure.metrics, 'embedding'));
  // Its threads are unref'd while idle; the composition closes it.
  const parser = createParserPool({ ocr: config.knowledge.ocr });
  // The remote reranker when RERANK_BASE_URL is set, else undefined (the offline reranker ranks).
  const reranker = createReranker(config, countRedactions(infrastructure.metrics, 'rerank'));
  const retrieval = createRetrievalService({ db, embedder, remoteReranker: reranker, logger });
  const answerer = createConfiguredAnswerer({ ...infrastructure, retrieval });

  const publisher = createConversationPublisher(db, bus);
  const routing = createRoutingService({ db, publisher, assignmentMode: config.assignmentMode });
  const conversations = createConversationService({
    db,
    config,
    publisher,
    routing,
    outbox,
    logger,
  });
  const attachments = createAttachmentService({
    db,
    storage: files,
    conversations,
    maxBytes: config.attachmentMaxBytes,
  });
  const answers = createAnswerService({
    db,
    bus,
    publisher,
    routing,
    answerer,
    outbox,
    intents: createConfiguredIntentClassifier(infrastructure),
    logger: logger.child({ job: 'answer' }),
  });

  const titler = createConfiguredTitler({ ...infrastructure, publisher, logger: logger.child({ job: 'title' }) });

  const knowledge = createKnowledgeService({
    db,
    outbox,
    storage: files,
    bus,
    maxUploadBytes: config.knowledge.maxUploadBytes,
  });
  // Ports this process binds are added once listening (main.ts, the test app).
  const ownEndpoints = createOwnEndpoints(config);
  const { ingestion, refresh } = createConfiguredKnowledgeJobs({
    config,
    db,
    bus,
    logger,
    storage: files,
    embedder,
    parser,
    own: ownEndpoints,
    outbox,
  });
  const sources = createSourceService({
    db,
    outbox,
    schedules,
    collections: knowledge,
    syncAllowedRoots: config.knowledge.syncAllowedRoots,
    logger,
  });

  const bots = createBotService({ db });
  const feedback = createFeedbackService({ db, routing });
  const gaps = createGapService({ db, knowledge, conversations });
  const copilot = createCopilotService({ db, answerer, conversations, prompts: infrastructure.prompts });
  const completions = createCompletionsService({ db, answerer });
  const people = createPeopleService({ db });
  const audit = createAuditService({ db });
  const analytics = createAnalyticsService({ db });
  const organisation = createOrganisationService({ db });
  const cannedReplies = createCannedReplyService({ db });
  const customerCards = createCustomerCardService({ db });
  return {
    cannedReplies,
    customerCards,
    organisation,
    auth,
    users,
    people,
    audit,
    analytics,
    oidc,
    files,
    parser,
    retrieval,
    reranker,
    answerer,
    routing,
    conversations,
    attachments,
    answers,
    titler,
    knowledge,
    ingestion,
    refresh,
    sources,
    ownEndpoints,
    bots,
    feedback,
    gaps,
    copilot,
    completions,
  };
}

export type Domain = ReturnType<typeof createDomain>;
