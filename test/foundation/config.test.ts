import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  OFFLINE_EMBEDDING_DIMENSIONS,
  OFFLINE_EMBEDDING_MODEL,
} from '../../server/src/config.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('starts with nothing set: port 3000, a resolved data dir, the offline embedder at 512 dimensions', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.embedding).toMatchObject({ offline: true, model: OFFLINE_EMBEDDING_MODEL, dimensions: 512 });
    expect(OFFLINE_EMBEDDING_DIMENSIONS).toBe(512);
  });

  it('reads ANSWER_LINK_ALLOWED_DOMAINS as lower-case domains, none by default, and names a bad one', () => {
    expect(loadConfig({}).answerLinks.allowedDomains).toEqual([]);
    expect(loadConfig({ ANSWER_LINK_ALLOWED_DOMAINS: 'Intranet.Example, wiki.corp.example' }).answerLinks).toEqual({
      allowedDomains: ['intranet.example', 'wiki.corp.example'],
    });
    expect(configError({ ANSWER_LINK_ALLOWED_DOMAINS: 'https://evil.example/x' }).message).toContain(
      'ANSWER_LINK_ALLOWED_DOMAINS',
    );
  });

  it('resolves a relative DATA_DIR against the working directory', () => {
    expect(loadConfig({ DATA_DIR: 'var/enclave' }).dataDir).toBe(path.join(process.cwd(), 'var/enclave'));
  });

  it('is deeply frozen, so no module can change configuration at run time', () => {
    const config = loadConfig({ OIDC_ISSUER: 'https://sso.example.com', OIDC_CLIENT_ID: 'enclave' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.embedding)).toBe(true);
    expect(Object.isFrozen(config.admin)).toBe(true);
    expect(Object.isFrozen(config.oidc)).toBe(true);
    // ES modules are strict: writing to a frozen object throws rather than silently doing nothing.
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.embedding as { dimensions: number }).dimensions = 3;
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.embedding.dimensions).toBe(512);
  });

  it.each(['abc', '70000', '-1', '3000.5'])('rejects PORT=%s naming PORT', (port) => {
    const error = configError({ PORT: port });
    expect(error.message).toMatch(/^ {2}- PORT: /m);
    expect(error.issues).toHaveLength(1);
  });

  it('accepts PORT=0 (any free port)', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('rejects a DATABASE_URL that is not postgres:// naming DATABASE_URL', () => {
    const error = configError({ DATABASE_URL: 'mysql://db.internal/enclave' });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('postgres://');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db.internal/enclave' }).databaseUrl).toBe(
      'postgresql://db.internal/enclave',
    );
  });

  it('requires EMBEDDING_DIMENSIONS with EMBEDDING_MODEL', () => {
    const error = configError({
      EMBEDDING_MODEL: 'bge-m3',
      OPENAI_BASE_URL: 'http://llm.internal/v1',
      CHAT_MODEL: 'qwen',
    });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain('EMBEDDING_DIMENSIONS');
    const ok = loadConfig({
      EMBEDDING_MODEL: 'bge-m3',
      EMBEDDING_DIMENSIONS: '1024',
      OPENAI_BASE_URL: 'http://llm.internal/v1',
      CHAT_MODEL: 'qwen',
    });
    expect(ok.embedding).toMatchObject({ offline: false, model: 'bge-m3', dimensions: 1024 });
  });

  it('names a too-short ADMIN_PASSWORD or SESSION_SECRET without printing the value', () => {
    const password = 'hunter2-pw';
    const secret = 'not-so-secret-value';
    const error = configError({ ADMIN_PASSWORD: password, SESSION_SECRET: secret });
    expect(error.message).toContain('ADMIN_PASSWORD');
    expect(error.message).toContain('SESSION_SECRET');
    expect(error.message).not.toContain(password);
    expect(error.message).not.toContain(secret);
  });

  it('does not print the password embedded in a rejected DATABASE_URL or REDIS_URL', () => {
    const error = configError({
      DATABASE_URL: 'mysql://enclave:db-pass-123@db.internal/enclave',
      REDIS_URL: 'http://:redis-pass-456@cache.internal:6379',
    });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('REDIS_URL');
    expect(error.message).not.toContain('db-pass-123');
    expect(error.message).not.toContain('redis-pass-456');
    // Still recognisable enough to find the typo.
    expect(error.message).toContain('db.internal');
  });

  it('lists every bad variable at once', () => {
    const error = configError({ PORT: 'abc', DATABASE_URL: 'mysql://x/y', LOG_LEVEL: 'loud' });
    expect(error.issues.map((i) => i.split(':')[0])).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'LOG_LEVEL']),
    );
  });
});

describe('an invalid environment at process start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-config-'));
  });
  afterEach(killAllChildren);
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('`tsx server/src/main.ts all` with PORT=abc exits 1 quickly, naming PORT', async () => {
    const started = Date.now();
    const proc = spawnTs('server/src/main.ts', ['all'], {
      via: 'tsx-cli',
      env: childEnv({ PORT: 'abc', DATA_DIR: dataDir }),
    });
    const exit = await proc.waitForExit(10_000);
    expect(exit.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(proc.stderr()).toMatch(/PORT: must be a whole number/);
    expect(proc.stderr()).toContain('Enclave did not start');
    expect(proc.stdout()).not.toContain('Enclave is ready');
  });
});
