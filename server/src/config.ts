import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * The whole environment contract of Enclave (documented in README.md "Environment" and .env.example).
 * This module is the only reader of `process.env`; everything else receives a frozen `Config`.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const optionalUrl = (protocols: string[]) =>
  optionalString.pipe(
    z
      .string()
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      )
      .optional(),
  );

const intFrom = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim();
      if (!value) return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const redactPatternsSchema = z.record(
  z.string().regex(/^[A-Z][A-Z0-9_]{0,30}$/),
  z
    .string()
    .min(1)
    .refine((source) => {
      try {
        return !new RegExp(source).test('');
      } catch {
        return false;
      }
    }),
);

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: optionalString.default('0.0.0.0'),
  PORT: intFrom(0, 65535, 3000),
  PUBLIC_URL: optionalUrl(['http:', 'https:']),
  DATA_DIR: optionalString.default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  REDIS_PREFIX: optionalString.pipe(
    z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/i, 'letters, digits, - and _ only')
      .default('enclave'),
  ),

  OPENAI_BASE_URL: optionalUrl(['http:', 'https:']),
  OPENAI_API_KEY: optionalString,
  CHAT_MODEL: optionalString,
  EMBEDDING_BASE_URL: optionalUrl(['http:', 'https:']),
  EMBEDDING_API_KEY: optionalString,
  EMBEDDING_MODEL: optionalString,
  EMBEDDING_DIMENSIONS: intFrom(8, 2000, 0), // pgvector HNSW indexes at most 2,000 dimensions,
  RERANK_BASE_URL: optionalUrl(['http:', 'https:']),
  RERANK_API_KEY: optionalString,
  RERANK_MODEL: optionalString,
  RERANK_TIMEOUT_MS: intFrom(100, 60_000, 5000),
  // Personal data replaced by placeholders before chat, embedding and rerank calls (auto: endpoints off this network).
  REDACT_PII: z.enum(['auto', 'on', 'off']).default('auto'),
  // More kinds to redact, as JSON: {"EMPLOYEE_ID": "\\bE\\d{6}\\b"} (placeholder name → regular expression).
  REDACT_PII_PATTERNS: optionalString.pipe(
    z
      .string()
      .transform((raw, ctx) => {
        const parsed = redactPatternsSchema.safeParse(parseJson(raw));
        if (parsed.success) return Object.entries(parsed.data).map(([name, source]) => ({ name, source }));
        ctx.addIssue({
          code: 'custom',
          message: 'must be a JSON object of NAME: "regular expression" (names in capitals, digits and _)',
        });
        return z.NEVER;
      })
      .optional(),
  ),

  ADMIN_EMAIL: optionalString.pipe(z.email('must be an email address').optional()),
  ADMIN_PASSWORD: optionalString.pipe(z.string().min(12, 'must be at least 12 characters').optional()),
  SESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),

  OIDC_ISSUER: optionalUrl(['http:', 'https:']),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_SCOPES: optionalString.default('openid email profile'),
  OIDC_GROUPS_CLAIM: optionalString.default('groups'),
  OIDC_ADMIN_GROUPS: optionalString,
  OIDC_AGENT_GROUPS: optionalString,

  SESSION_TTL_HOURS: intFrom(1, 24 * 90, 24 * 7),
  // How long a server instance may remember who a session or API token belongs to. Revocations and
  // changes are published to every instance and forgotten at once; this bounds a lost event. 0: off.
  AUTH_CACHE_SECONDS: intFrom(0, 300, 60),
  // Which direct peers are reverse proxies whose X-Forwarded-For names the client (sign-in
  // throttling and the audit log key on that address). Only loopback by default: in a private
  // deployment ordinary clients sit on private addresses and must not choose their own.
  TRUST_PROXY: optionalString.default('loopback').pipe(
    z.string().refine(
      (v) =>
        v === 'none' ||
        v.split(',').every((item) => {
          const [address, bits, extra] = item.trim().split('/');
          const presets = ['loopback', 'linklocal', 'uniquelocal'];
          if (extra !== undefined || !address) return false;
          if (bits === undefined) return presets.includes(address) || isIP(address) !== 0;
          return isIP(address) !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128);
        }),
      'must be "none" or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal',
    ),
  ),
  AUDIT_RETENTION_DAYS: intFrom(180, 36_500, 365),
  // Retention of conversation messages and of message attachments (their stored files too); 0 = keep forever.
  MESSAGE_RETENTION_DAYS: intFrom(0, 36_500, 0),
  FILE_RETENTION_DAYS: intFrom(0, 36_500, 0),

  ASSIGNMENT_MODE: z.enum(['manual', 'auto']).default('manual'),
  JOB_CONCURRENCY: intFrom(1, 256, 4),
  WORKER_METRICS_PORT: intFrom(0, 65535, 0),
  // /metrics on a port of its own (the main port then answers 404 there), and a bearer token scrapers must send.
  METRICS_PORT: intFrom(0, 65535, 0),
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  SHUTDOWN_TIMEOUT_MS: intFrom(100, 600_000, 10_000),
  BODY_LIMIT_KB: intFrom(1, 102_400, 1024),

  MAX_UPLOAD_MB: intFrom(1, 10_240, 50),
  ATTACHMENT_MAX_MB: intFrom(1, 1024, 20),
  MODEL_TIMEOUT_MS: intFrom(1000, 600_000, 60_000),
  MODEL_IDLE_TIMEOUT_MS: intFrom(1000, 600_000, 30_000),
  MODEL_ATTEMPTS: intFrom(1, 10, 3),
  CHAT_HISTORY_TOKENS: intFrom(0, 100_000, 2000),
  V1_RATE_PER_MINUTE: intFrom(1, 100_000, 60),
  WS_MAX_SOCKETS_PER_USER: intFrom(1, 10_000, 20),
  FETCH_TIMEOUT_MS: intFrom(500, 600_000, 15_000),
  // OCR of scanned PDF pages: the tesseract binary, and its language data in the order tried
  // (those not installed are left out; `npm run doctor` says which are).
  TESSERACT_PATH: optionalString.default('tesseract'),
  OCR_LANGUAGES: optionalString
    .default('chi_sim+chi_tra+eng')
    .pipe(z.string().regex(/^[a-z_]+(\+[a-z_]+)*$/i, 'must be tesseract language codes joined by +, e.g. chi_sim+eng')),
  OCR_PAGE_TIMEOUT_MS: intFrom(1000, 600_000, 60_000),
  // Domains links in answers may point to (with their subdomains), besides each cited source's own URL.
  ANSWER_LINK_ALLOWED_DOMAINS: optionalString.pipe(
    z
      .string()
      .refine(
        (v) =>
          v
            .split(',')
            .map((d) => d.trim())
            .filter(Boolean)
            .every((d) => /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(d)),
        'must be a comma-separated list of domain names (example.com, wiki.corp.example)',
      )
      .optional(),
  ),
  // Directories on this server a folder source may sync (comma-separated absolute paths, each with
  // everything under it); none: folder sync is off. Paths are compared after resolving symlinks.
  SYNC_ALLOWED_ROOTS: optionalString.pipe(
    z
      .string()
      .refine((v) => v.split(',').every((p) => path.isAbsolute(p.trim())), 'must be absolute paths, comma-separated')
      .optional(),
  ),
  // Which non-public addresses URL imports may reach. `private` (the default) is the intranet:
  // 10/8, 172.16/12, 192.168/16, 100.64/10 and fc00::/7; loopback (this host's own services) only
  // when listed. Link-local (cloud metadata) and Enclave's own addresses are refused whatever it says.
  URL_IMPORT_ALLOW_PRIVATE: optionalString.default('private').pipe(
    z.string().refine(
      (v) =>
        v === 'none' ||
        v.split(',').every((item) => {
          const [address, bits, extra] = item.trim().split('/');
          if (extra !== undefined || !address) return false;
          if (bits !== undefined)
            return isIP(address) !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128);
          return (
            ['private', 'loopback'].includes(address) ||
            isIP(address) !== 0 ||
            /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(address)
          );
        }),
      'must be "none" or a comma-separated list of private, loopback, addresses, CIDR ranges or host names',
    ),
  ),
});

/** Every environment variable Enclave reads (.env.example and the deployment manifests are checked against it). */
export const ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema.shape));

/** The dimension the built-in offline embedder produces when no embedding model is configured. */
export const OFFLINE_EMBEDDING_DIMENSIONS = 512;
export const OFFLINE_EMBEDDING_MODEL = 'enclave-offline-lexical-v1';

export type Config = Readonly<ReturnType<typeof buildConfig>>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function buildConfig(env: z.infer<typeof envSchema>) {
  const embeddingModel = env.EMBEDDING_MODEL ?? OFFLINE_EMBEDDING_MODEL;
  const offlineEmbedder = env.EMBEDDING_MODEL === undefined;
  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL,
    dataDir: path.resolve(env.DATA_DIR),
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    /** Namespaces queue keys and the pub/sub channel, so several deployments can share one Redis. */
    redisPrefix: env.REDIS_PREFIX,
    chat: {
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.CHAT_MODEL,
      /** Before the first token / between two chunks; attempts before the first token (429, 5xx, timeouts). */
      timeouts: {
        firstTokenTimeoutMs: env.MODEL_TIMEOUT_MS,
        idleTimeoutMs: env.MODEL_IDLE_TIMEOUT_MS,
        attempts: env.MODEL_ATTEMPTS,
        backoffMs: 500,
      },
      /** Tokens of earlier conversation turns an answer call carries (a bot's `model.historyTokens` wins). */
      historyTokens: env.CHAT_HISTORY_TOKENS,
    },
    /** Links in answers survive only to a cited source's own URL or these domains (and their subdomains). */
    answerLinks: { allowedDomains: list(env.ANSWER_LINK_ALLOWED_DOMAINS).map((d) => d.toLowerCase()) },
    /** Requests per minute per personal API token on /v1. */
    v1RatePerMinute: env.V1_RATE_PER_MINUTE,
    /** WebSockets one user may hold on one server; a further one closes their oldest (close code 4008). */
    wsMaxSocketsPerUser: env.WS_MAX_SOCKETS_PER_USER,
    embedding: {
      offline: offlineEmbedder,
      baseUrl: env.EMBEDDING_BASE_URL ?? env.OPENAI_BASE_URL,
      apiKey: env.EMBEDDING_API_KEY ?? env.OPENAI_API_KEY,
      model: embeddingModel,
      dimensions: env.EMBEDDING_DIMENSIONS || OFFLINE_EMBEDDING_DIMENSIONS,
    },
    /** The optional remote reranker (`/rerank` of TEI, vLLM, Xinference, Jina); undefined: the offline one ranks. */
    rerank:
      env.RERANK_BASE_URL && env.RERANK_MODEL
        ? {
            baseUrl: env.RERANK_BASE_URL,
            apiKey:
              env.RERANK_API_KEY ??
              (sameOrigin(env.RERANK_BASE_URL, env.OPENAI_BASE_URL) ? env.OPENAI_API_KEY : undefined),
            model: env.RERANK_MODEL,
            timeoutMs: env.RERANK_TIMEOUT_MS,
          }
        : undefined,
    /** Personal data kept from model endpoints (a bot's `model.redactPii` wins over `mode`). */
    redaction: { mode: env.REDACT_PII, patterns: env.REDACT_PII_PATTERNS ?? [] },
    admin: { email: env.ADMIN_EMAIL ?? 'admin@enclave.local', password: env.ADMIN_PASSWORD },
    sessionSecret: env.SESSION_SECRET,
    oidc:
      env.OIDC_ISSUER && env.OIDC_CLIENT_ID
        ? {
            issuer: env.OIDC_ISSUER,
            clientId: env.OIDC_CLIENT_ID,
            clientSecret: env.OIDC_CLIENT_SECRET,
            scopes: env.OIDC_SCOPES,
            groupsClaim: env.OIDC_GROUPS_CLAIM,
            adminGroups: list(env.OIDC_ADMIN_GROUPS),
            agentGroups: list(env.OIDC_AGENT_GROUPS),
          }
        : undefined,
    sessionTtlMs: env.SESSION_TTL_HOURS * 3_600_000,
    authCacheMs: env.AUTH_CACHE_SECONDS * 1000,
    /** Express "trust proxy": `false` (the peer is the client) or the list of proxy addresses. */
    trustProxy: env.TRUST_PROXY === 'none' ? false : env.TRUST_PROXY.split(',').map((v) => v.trim()),
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    /** Days to keep messages and message attachments; 0 keeps them forever (the daily `retention` job applies them). */
    messageRetentionDays: env.MESSAGE_RETENTION_DAYS,
    fileRetentionDays: env.FILE_RETENTION_DAYS,
    assignmentMode: env.ASSIGNMENT_MODE,
    jobConcurrency: env.JOB_CONCURRENCY,
    /** `npm run worker` serves /metrics and /healthz here for Prometheus; 0 turns it off. */
    workerMetricsPort: env.WORKER_METRICS_PORT,
    metrics: {
      /** `npm start`/`npm run server` serve /metrics only here when set (0: on the main port). */
      port: env.METRICS_PORT,
      /** Scrapers must send `Authorization: Bearer <token>` (server and worker) when set. */
      token: env.METRICS_TOKEN,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: env.BODY_LIMIT_KB * 1024,
    /** Files attached to chat messages larger than this are refused (413). */
    attachmentMaxBytes: env.ATTACHMENT_MAX_MB * 1024 * 1024,
    knowledge: {
      /** Uploads and fetched pages larger than this are refused (413 / a failed import). */
      maxUploadBytes: env.MAX_UPLOAD_MB * 1024 * 1024,
      fetchTimeoutMs: env.FETCH_TIMEOUT_MS,
      /** SYNC_ALLOWED_ROOTS as a list (empty: folder sync is off). */
      syncAllowedRoots: Object.freeze(
        (env.SYNC_ALLOWED_ROOTS ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ),
      /** How the parser threads read scanned PDF pages. */
      ocr: {
        tesseractPath: env.TESSERACT_PATH,
        languages: env.OCR_LANGUAGES.split('+'),
        pageTimeoutMs: env.OCR_PAGE_TIMEOUT_MS,
      },
      /** URL_IMPORT_ALLOW_PRIVATE as entries (`none`: no entry). */
      allowPrivate: Object.freeze(
        env.URL_IMPORT_ALLOW_PRIVATE === 'none' ? [] : env.URL_IMPORT_ALLOW_PRIVATE.split(',').map((e) => e.trim()),
      ),
    },
  };
}

/**
 * OPENAI_API_KEY is only sent to a reranker on the chat endpoint's own server (vLLM or a gateway
 * serving both): a separate rerank server, TEI on another host, must not receive the model key.
 */
function sameOrigin(a: string, b: string | undefined): boolean {
  return b !== undefined && new URL(a).origin === new URL(b).origin;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses an environment (default: `process.env`) into a frozen Config, or throws ConfigError naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const got = source[name];
        return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(redact(name, got))})`}`;
      }),
    );
  }
  const problems: string[] = [];
  const env = parsed.data;
  if (env.EMBEDDING_MODEL && !env.EMBEDDING_DIMENSIONS) {
    problems.push('EMBEDDING_DIMENSIONS: required when EMBEDDING_MODEL is set (the vector size the model returns)');
  }
  if (env.EMBEDDING_MODEL && !(env.EMBEDDING_BASE_URL ?? env.OPENAI_BASE_URL)) {
    problems.push('EMBEDDING_BASE_URL: required when EMBEDDING_MODEL is set (or set OPENAI_BASE_URL)');
  }
  if (env.OPENAI_BASE_URL && !env.CHAT_MODEL) {
    problems.push('CHAT_MODEL: required when OPENAI_BASE_URL is set (the model name the endpoint serves)');
  }
  if (env.RERANK_BASE_URL && !env.RERANK_MODEL) {
    problems.push('RERANK_MODEL: required when RERANK_BASE_URL is set (the reranking model the endpoint serves)');
  }
  if (env.RERANK_MODEL && !env.RERANK_BASE_URL) {
    problems.push('RERANK_BASE_URL: required when RERANK_MODEL is set (the URL its /rerank endpoint is under)');
  }
  if ((env.OIDC_ISSUER || env.OIDC_CLIENT_ID) && !(env.OIDC_ISSUER && env.OIDC_CLIENT_ID)) {
    problems.push('OIDC_ISSUER, OIDC_CLIENT_ID: set both to enable single sign-on, or neither');
  }
  if (env.METRICS_PORT && env.METRICS_PORT === env.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (0 serves /metrics on the main port)');
  }
  if (env.NODE_ENV === 'production' && !env.SESSION_SECRET) {
    problems.push('SESSION_SECRET: required when NODE_ENV=production (at least 32 random characters)');
  }
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(buildConfig(env));
}

function redact(name: string, value: string): string {
  if (/PASSWORD|SECRET|KEY|TOKEN/.test(name)) return '***';
  // A rejected URL may carry credentials (postgres://user:password@host): keep the rest, hide those.
  return value.replace(/(\/\/[^/:@]*:)[^/]*@/, '$1***@');
}
