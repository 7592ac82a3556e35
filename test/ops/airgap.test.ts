import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, killAllChildren, spawnProcess } from '../support/spawn.ts';
import { requires, tool, type Requirement } from '../support/requires-tool.ts';
import { run } from './support/tools.ts';

/* Air-gapped by default: the whole journey runs in a network namespace whose only interface is
   loopback (`unshare -n`, as root), with a recorder of every non-loopback connection attempt
   preloaded into the server. Passing proves no outbound connection is needed — or tried. */

const NAMESPACE: Requirement[] = [
  tool('unshare', ['--version'], 'unshare (util-linux)'),
  tool('ip', ['-V'], 'ip (iproute2)'),
  { what: 'root, to make a network namespace', present: process.getuid?.() === 0 },
];

const dirs: string[] = [];
afterAll(async () => {
  await killAllChildren();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('air-gapped embedded deployment', () => {
  it('runs sign-in, users, ingestion, search, a bot answer, handoff, claim and resolve with only loopback', async (ctx) => {
    requires(ctx, NAMESPACE);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-airgap-'));
    dirs.push(dataDir);
    const connectLog = path.join(dataDir, 'outbound.jsonl');
    const proc = spawnProcess(
      'unshare',
      [
        '--net',
        '--',
        'sh',
        '-c',
        `ip link set lo up && exec "${process.execPath}" --import tsx test/ops/support/airgap-journey.ts`,
      ],
      childEnv({ DATA_DIR: dataDir, PORT: '0', ENCLAVE_CONNECT_LOG: connectLog }),
    );
    const exit = await proc.waitForExit(170_000);
    const last = proc.stdout().trim().split('\n').at(-1) ?? '';
    expect(exit.code, `${proc.stdout()}\n${proc.stderr()}`).toBe(0);
    const result = JSON.parse(last);
    expect(result.ok).toBe(true);
    expect(result.interfaces).toEqual(['lo']);
    expect(result.steps).toEqual([
      'admin signed in',
      'users created',
      'document ingested',
      'search found the document',
      'bot answered from the document',
      'handed off',
      'agent claimed, replied and resolved',
    ]);
    expect(result.answer).toContain('25');
    expect(result.exitCode).toBe(0);
    expect(result.outbound).toEqual([]);
  }, 180_000);

  it('the connection recorder does see an outbound attempt (control)', async (ctx) => {
    requires(ctx, NAMESPACE);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-airgap-control-'));
    dirs.push(dataDir);
    const connectLog = path.join(dataDir, 'outbound.jsonl');
    const script =
      "fetch('http://192.0.2.1:8443/').catch(() => {}).finally(() => require('node:dns').lookup('models.example.com', () => {}))";
    const r = run(
      'unshare',
      [
        '--net',
        '--',
        'sh',
        '-c',
        `ip link set lo up && exec "${process.execPath}" --import ./test/ops/support/connection-recorder.mjs -e "${script}"`,
      ],
      { env: { ...process.env, ENCLAVE_CONNECT_LOG: connectLog } },
    );
    expect(r.status, r.stderr).toBe(0);
    const attempts = (await readFile(connectLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(attempts).toEqual([
      expect.objectContaining({ kind: 'tcp', host: '192.0.2.1', port: '8443' }),
      expect.objectContaining({ kind: 'dns', host: 'models.example.com' }),
    ]);
  });
});
