import { createServer } from 'node:net';
import { spawnProcess, type SpawnedProcess } from './spawn.ts';
import { tool, type Requirement } from './requires-tool.ts';

/**
 * A Redis server of the test's own, a child process on a free port, so a test can stop and start
 * it (an outage) without touching the shared one other tests use. No persistence, like CI's: a
 * restart comes back empty, as a Redis whose disk was lost would.
 */
export interface OwnRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export const redisServer: Requirement = tool('redis-server', ['--version'], 'redis-server (apt install redis-server)');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let proc: SpawnedProcess | undefined;
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawnProcess(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        process.env,
      );
      await proc.waitForOutput(/Ready to accept connections/, 15_000);
    },
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
  };
  await own.start();
  return own;
}
