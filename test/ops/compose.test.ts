import { readFile, readdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { ENV_VARIABLES } from '../../server/src/config.ts';
import { ROOT } from '../support/spawn.ts';
import { installed, requires, tool } from '../support/requires-tool.ts';
import { run } from './support/tools.ts';

/* The compose stack, its reverse proxy and its monitoring files: parsed and cross-checked here, and
   handed to `docker compose config` (or Debian's docker-compose 1.29) and `nginx -t` — no Docker
   engine runs on the CI machines, so nothing is started. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const docker = (file: string) => path.join(ROOT, 'docker', file);
const yamlFile = async (file: string): Promise<Any> => {
  const doc = parseDocument(await readFile(file, 'utf8'), { merge: true });
  expect(doc.errors, file).toEqual([]);
  return doc.toJS({ maxAliasCount: 100 });
};

const compose = await yamlFile(docker('compose.yaml'));
const services = compose.services as Record<string, Any>;
const appEnv = (name: string) => services[name].environment as Record<string, string>;

describe('docker/compose.yaml', () => {
  it('has the full stack: pinned pgvector Postgres, Redis, migrate, server, worker, proxy, and the optional profiles', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'grafana',
        'migrate',
        'ollama',
        'ollama-pull',
        'postgres',
        'prometheus',
        'proxy',
        'redis',
        'server',
        'worker',
      ].sort(),
    );
    // Every image is pinned to a version (no bare or :latest tags) except our own build.
    for (const [name, service] of Object.entries(services)) {
      if (['migrate', 'server', 'worker'].includes(name)) continue;
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:[\w.-]*\d[\w.-]*$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
    expect(services.postgres.image).toMatch(/^pgvector\/pgvector:0\.8\.\d+-pg1[5-9]$/);
    expect(services.ollama.profiles).toEqual(['local-model']);
    expect(services['ollama-pull'].profiles).toEqual(['local-model']);
    expect(services.prometheus.profiles).toEqual(['monitoring']);
    expect(services.grafana.profiles).toEqual(['monitoring']);
    for (const core of ['postgres', 'redis', 'migrate', 'server', 'worker', 'proxy'])
      expect(services[core].profiles, core).toBeUndefined();
  });

  it('runs Redis with AOF and noeviction, and health-checks Postgres and Redis', () => {
    const command = (services.redis.command as string[]).join(' ');
    expect(command).toMatch(/^redis-server /);
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(services.redis.volumes).toContain('redis:/data');
    expect(services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('gives each role of the one image its command (ENTRYPOINT is node --import tsx)', async () => {
    const dockerfile = await readFile(docker('Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:24[\w.-]* AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24[\w.-]*$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--import", "tsx"]');
    expect(dockerfile).toContain('CMD ["server/src/main.ts", "server"]');

    expect(services.migrate.command).toEqual(['server/src/cli/migrate.ts']);
    expect(services.migrate.restart).toBe('no');
    expect(services.server.command).toEqual(['server/src/main.ts', 'server']);
    expect(services.worker.command).toEqual(['workers/src/main.ts']);
    for (const file of ['server/src/cli/migrate.ts', 'server/src/main.ts', 'workers/src/main.ts']) {
      await expect(readFile(path.join(ROOT, file))).resolves.toBeTruthy();
    }
    // One image for all three roles, sharing the stored-files volume.
    for (const role of ['migrate', 'server', 'worker']) {
      expect(services[role].image, role).toBe(services.server.image);
      expect(services[role].volumes, role).toEqual(['files:/data']);
    }
    expect(services.server.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(services.worker.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(services.migrate.depends_on.postgres.condition).toBe('service_healthy');
    // The worker has no API; its health endpoint is the metrics server's.
    expect(services.worker.healthcheck.test.join(' ')).toContain('http://127.0.0.1:9464/healthz');
  });

  it('agrees on the port: PORT, the server health check, the proxy upstream and the Prometheus target', async () => {
    const port = Number(appEnv('server').PORT);
    expect(port).toBe(3000);
    expect(services.server.expose).toEqual([String(port)]);
    // Scalable: no fixed host port on the server, only on the proxy.
    expect(services.server.ports).toBeUndefined();
    expect(services.server.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    const nginx = await readFile(docker('nginx.conf'), 'utf8');
    expect(nginx).toContain(`http://server:${port}`);
    const listen = /^\s*listen (\d+);/m.exec(nginx)![1];
    expect(services.proxy.ports).toEqual([`\${HTTP_PORT:-8080}:${listen}`]);
    expect(services.proxy.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${listen}/healthz`);
    const prometheus = await yamlFile(docker('prometheus.yml'));
    const job = prometheus.scrape_configs.find((j: Any) => j.job_name === 'enclave-server');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.dns_sd_configs[0]).toMatchObject({ names: ['server'], type: 'A', port });
  });

  it('proxies WebSocket upgrades on /ws and keeps /metrics internal', async () => {
    const nginx = await readFile(docker('nginx.conf'), 'utf8');
    const ws = /location \/ws \{([^}]*)\}/.exec(nginx)![1]!;
    expect(ws).toContain('proxy_http_version 1.1;');
    expect(ws).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(ws).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(ws).toMatch(/proxy_read_timeout \d{4,}s;/);
    expect(nginx).toMatch(/location = \/metrics \{ return 404; \}/);
    // Docker's DNS, re-resolved, so scaled replicas are all used.
    expect(nginx).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
  });

  it('wires the local model profile through OPENAI_BASE_URL and passes only variables Enclave reads', () => {
    const env = appEnv('server');
    expect(env.OPENAI_BASE_URL).toBe('${OPENAI_BASE_URL:-}');
    expect(services.ollama.expose).toEqual(['11434']);
    expect(services['ollama-pull'].environment.OLLAMA_HOST).toBe('http://ollama:11434');
    const known = new Set(ENV_VARIABLES);
    for (const name of Object.keys(env))
      expect(known.has(name), `${name} is not read by server/src/config.ts`).toBe(true);
    // The worker and migration get exactly the server's environment (the worker also serves its metrics).
    expect(appEnv('worker')).toEqual({ ...env, WORKER_METRICS_PORT: '9464' });
    expect(appEnv('migrate')).toEqual(env);
    expect(env.SESSION_SECRET).toMatch(/:\?/);
  });

  it('is accepted by `docker compose config` (or Debian docker-compose 1.29 when the plugin is absent)', (ctx) => {
    const plugin = installed('docker', ['compose', 'version']);
    const what = 'the docker compose plugin or docker-compose (apt-get install docker-compose)';
    requires(ctx, [{ what, present: plugin || installed('docker-compose', ['version']) }]);
    const env = { ...process.env, POSTGRES_PASSWORD: 'compose-test', SESSION_SECRET: 'x'.repeat(48) };
    let command: string[];
    let file = docker('compose.yaml');
    if (plugin) {
      command = ['docker', 'compose'];
    } else {
      // .ci/run installs Debian's docker-compose; 1.29 predates the top-level `name`, the only
      // key it does not know, so it checks the file without that line.
      command = ['docker-compose'];
      const dir = mkdtempSync(path.join(os.tmpdir(), 'enclave-compose-'));
      file = path.join(dir, 'compose.yaml');
      writeFileSync(file, rewriteForV1(docker('compose.yaml')));
    }
    const ok = run(
      command[0]!,
      [...command.slice(1), '-f', file, '--profile', 'local-model', '--profile', 'monitoring', 'config'],
      {
        cwd: path.dirname(file),
        env,
      },
    );
    expect(ok.status, ok.stderr).toBe(0);
    const rendered = parse(ok.stdout);
    expect(Object.keys(rendered.services)).toContain('ollama');
    expect(rendered.services.server.environment.DATABASE_URL).toBe(
      'postgres://enclave:compose-test@postgres:5432/enclave',
    );

    // The required secrets are enforced by compose itself.
    const missing = run(command[0]!, [...command.slice(1), '-f', file, 'config'], {
      cwd: path.dirname(file),
      env: { ...process.env, POSTGRES_PASSWORD: '', SESSION_SECRET: '' },
    });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/POSTGRES_PASSWORD|SESSION_SECRET/);
  });

  it('has an nginx configuration that `nginx -t` accepts', (ctx) => {
    requires(ctx, [tool('nginx', ['-v'], 'nginx (apt-get install nginx-light)')]);
    // Output goes to a file: nginx opens /dev/stdout and /dev/stderr for its logs, which a pipe or socket refuses.
    const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'enclave-nginx-')), 'nginx-t.log');
    const fd = openSync(log, 'w');
    const r = spawnSync('nginx', ['-t', '-c', docker('nginx.conf'), '-p', os.tmpdir()], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const output = readFileSync(log, 'utf8');
    expect(r.status, output).toBe(0);
    expect(output).toContain('syntax is ok');
  });
});

/** The compose file for docker-compose 1.29: without the top-level `name`, relative paths kept. */
function rewriteForV1(file: string): string {
  const text = readFileSync(file, 'utf8');
  return text
    .replace(/^name: .*$/m, '')
    .replaceAll('./nginx.conf', path.join(path.dirname(file), 'nginx.conf'))
    .replaceAll('./prometheus.yml', path.join(path.dirname(file), 'prometheus.yml'))
    .replaceAll('./grafana/', `${path.join(path.dirname(file), 'grafana')}/`)
    .replace('context: ..', `context: ${path.dirname(path.dirname(file))}`);
}

describe('docker/ monitoring files', () => {
  it('provisions the Prometheus data source and the dashboard folder for Grafana', async () => {
    const datasources = await yamlFile(docker('grafana/provisioning/datasources/prometheus.yaml'));
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const providers = await yamlFile(docker('grafana/provisioning/dashboards/enclave.yaml'));
    expect(providers.providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    expect(services.grafana.volumes).toContain('./grafana/dashboards:/var/lib/grafana/dashboards:ro');
    const files = await readdir(docker('grafana/dashboards'));
    expect(files).toContain('enclave.json');
    const dashboard = JSON.parse(await readFile(docker('grafana/dashboards/enclave.json'), 'utf8'));
    expect(dashboard.uid).toBe('enclave-overview');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(datasources.datasources[0].uid);
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
  });
});

describe('.env.example', () => {
  it('documents every variable config.ts reads and every variable compose interpolates', async () => {
    const text = await readFile(path.join(ROOT, '.env.example'), 'utf8');
    const documented = new Set([...text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    expect(ENV_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
    const interpolated = new Set(
      [...(await readFile(docker('compose.yaml'), 'utf8')).matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!),
    );
    expect([...interpolated].filter((name) => !documented.has(name))).toEqual([]);
    // Documented variables are real ones (no typos, nothing stale).
    const composeOnly = new Set([
      'POSTGRES_PASSWORD',
      'HTTP_PORT',
      'ENCLAVE_IMAGE',
      'GRAFANA_PORT',
      'GRAFANA_ADMIN_PASSWORD',
    ]);
    expect([...documented].filter((name) => !ENV_VARIABLES.includes(name) && !composeOnly.has(name))).toEqual([]);
  });
});
