import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process role (not the global one), so several servers can live in one test process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'enclave_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'enclave_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'enclave_jobs_total',
      help: 'Jobs by name and outcome (completed, failed, retrying)',
      labelNames: ['name', 'outcome'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'enclave_job_duration_seconds',
      help: 'Job run time by name',
      labelNames: ['name'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: 'enclave_ws_connections',
      help: 'Open WebSocket connections on this server',
      registers: [registry],
    }),
    wsFrames: new Counter({
      name: 'enclave_ws_frames_total',
      help: 'WebSocket frames by direction (in, out) and type',
      labelNames: ['direction', 'type'] as const,
      registers: [registry],
    }),
    wsDropped: new Counter({
      name: 'enclave_ws_dropped_total',
      help: 'WebSocket connections closed by the server, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    modelTokens: new Counter({
      name: 'enclave_model_tokens_total',
      help: 'Tokens sent to and received from chat models, by use (answer, rewrite, intent, summary, suggestion, v1) and direction',
      labelNames: ['kind', 'direction'] as const,
      registers: [registry],
    }),
    piiRedactions: new Counter({
      name: 'enclave_pii_redactions_total',
      help: 'Personal data values replaced by placeholders before a remote model call, by kind and endpoint (chat, embedding, rerank)',
      labelNames: ['kind', 'endpoint'] as const,
      registers: [registry],
    }),
    modelLatency: new Histogram({
      name: 'enclave_model_request_duration_seconds',
      help: 'Chat model requests from first byte sent to last token, by use',
      labelNames: ['kind'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'enclave_queue_jobs',
      help: 'Jobs per queue and state at scrape time',
      labelNames: ['name', 'state'] as const,
      registers: [registry],
    }),
    // Read from the database at scrape time (see scrape-time.ts): the same figure from every server.
    ingestionPending: new Gauge({
      name: 'enclave_ingestion_pending_documents',
      help: 'Documents waiting to be indexed, by status (queued, processing), at scrape time',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    ingestionLag: new Gauge({
      name: 'enclave_ingestion_lag_seconds',
      help: 'Age of the oldest document not yet indexed (since it was queued or started); 0 when none',
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'enclave_outbox_pending',
      help: 'Jobs committed in the outbox and not yet handed to the job runner (Redis away, or a backlog), at scrape time',
      registers: [registry],
    }),
    handoffWaiting: new Gauge({
      name: 'enclave_handoff_waiting_conversations',
      help: 'Conversations waiting in the human queue at scrape time',
      registers: [registry],
    }),
    handoffWait: new Gauge({
      name: 'enclave_handoff_oldest_wait_seconds',
      help: 'How long the longest-waiting queued conversation has waited for an agent; 0 when none',
      registers: [registry],
    }),
    conversationTransitions: new Counter({
      name: 'enclave_conversation_transitions_total',
      help: 'Routing transitions (handoff, claim, transfer, resolve …) by the status entered and the reason',
      labelNames: ['transition', 'to', 'reason'] as const,
      registers: [registry],
    }),
    messages: new Counter({
      name: 'enclave_messages_total',
      help: 'Messages posted, by sender type (user, agent, bot, system)',
      labelNames: ['sender'] as const,
      registers: [registry],
    }),
    botAnswers: new Counter({
      name: 'enclave_bot_answers_total',
      help: 'Bot answers finished, by outcome (answered, declined, failed …)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    scrapeErrors: new Counter({
      name: 'enclave_metrics_collect_errors_total',
      help: 'Scrape-time collections that failed, by source (database, queue)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    buildInfo: new Gauge({
      name: 'enclave_build_info',
      help: 'Always 1; labels name the Enclave version and Node.js version of this process',
      labelNames: ['version', 'node'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
