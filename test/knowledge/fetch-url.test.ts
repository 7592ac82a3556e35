import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchUrl } from '../../server/src/core/knowledge/fetch-url.ts';
import {
  createImportAddressPolicy,
  createOwnEndpoints,
  type Resolver,
} from '../../server/src/core/knowledge/import-address-policy.ts';

/** A loopback web server answering every path with `body`, counting what it was asked. */
async function serve(host: string, port: number, body: string) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { hits, server, port: (server.address() as AddressInfo).port };
}

const noSelf = createOwnEndpoints({ port: 0, workerMetricsPort: 0 });
const limits = (allowPrivate: string[], resolve?: Resolver) => ({
  timeoutMs: 2000,
  maxBytes: 1024 * 1024,
  addresses: createImportAddressPolicy({ allowPrivate, own: noSelf, ...(resolve ? { resolve } : {}) }),
});

describe('fetching a URL for import', () => {
  let checked: Awaited<ReturnType<typeof serve>>;
  let unchecked: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    // The same port on two loopback addresses: the allow-list admits only the first.
    checked = await serve('127.0.0.1', 0, 'the page that was checked');
    unchecked = await serve('127.0.0.2', checked.port, 'an internal service nobody allowed');
  });
  afterAll(async () => {
    for (const s of [checked, unchecked]) await new Promise((resolve) => s?.server.close(resolve));
  });

  it('connects to the address it checked, whatever DNS answers next (rebinding)', async () => {
    let lookups = 0;
    const rebinding: Resolver = async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    for (let i = 0; i < 3; i++) {
      lookups = 0;
      const page = await fetchUrl(`http://wiki.rebind.test:${checked.port}/page`, limits(['127.0.0.1'], rebinding));
      expect(page.bytes.toString()).toBe('the page that was checked');
    }
    expect(unchecked.hits).toEqual([]);
  });

  it('refuses a name that resolves to an address outside the allow-list', async () => {
    const resolveTo: Resolver = async () => [{ address: '127.0.0.2', family: 4 }];
    await expect(
      fetchUrl(`http://wiki.rebind.test:${checked.port}/`, limits(['127.0.0.1'], resolveTo)),
    ).rejects.toThrow(/not in URL_IMPORT_ALLOW_PRIVATE/);
    expect(unchecked.hits).toEqual([]);
  });

  it('by default admits the intranet ranges but not loopback; a listed host name admits itself', async () => {
    await expect(fetchUrl(`http://127.0.0.1:${checked.port}/`, limits(['private']))).rejects.toThrow(
      /private address \(127\.0\.0\.1\) not in URL_IMPORT_ALLOW_PRIVATE/,
    );
    const intranet: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const page = await fetchUrl(
      `http://docs.intranet.example:${checked.port}/`,
      limits(['private', 'intranet.example'], intranet),
    );
    expect(page.bytes.toString()).toBe('the page that was checked');
  });

  it("refuses this process's own port on loopback and on its interfaces", async () => {
    const own = createOwnEndpoints({ port: 0, workerMetricsPort: 0 });
    own.listening(checked.port);
    const addresses = createImportAddressPolicy({ allowPrivate: ['loopback', 'private'], own });
    for (const url of [
      `http://127.0.0.1:${checked.port}/metrics`,
      `http://localhost:${checked.port}/api/users`,
      // The same address spelled as IPv6 (the URL parser writes it ::ffff:7f00:1).
      `http://[::ffff:127.0.0.1]:${checked.port}/metrics`,
    ]) {
      await expect(fetchUrl(url, { timeoutMs: 2000, maxBytes: 1024, addresses })).rejects.toThrow(/Enclave itself/);
    }
    const publicHost = createImportAddressPolicy({
      allowPrivate: [],
      own: createOwnEndpoints({ port: 0, workerMetricsPort: 0, publicUrl: 'https://enclave.corp.example/' }),
    });
    // Spelled with the root dot, or another name for the same address on the same port: still Enclave.
    const proxy: Resolver = async () => [{ address: '10.1.2.3', family: 4 }];
    const publicByAddress = createImportAddressPolicy({
      allowPrivate: ['private'],
      own: createOwnEndpoints({ port: 0, workerMetricsPort: 0, publicUrl: 'https://enclave.corp.example/' }),
      resolve: proxy,
    });
    for (const url of [
      'https://ENCLAVE.corp.example/metrics',
      'https://enclave.corp.example./metrics',
      'https://chat.corp.example/api/users',
      'https://10.1.2.3/metrics',
    ]) {
      await expect(
        fetchUrl(url, {
          timeoutMs: 2000,
          maxBytes: 1024,
          addresses: url.includes('ENCLAVE') ? publicHost : publicByAddress,
        }),
      ).rejects.toThrow(/Enclave itself/);
    }
    // Another site on that address but another port is not Enclave.
    await expect(publicByAddress.check(new URL('http://wiki.corp.example:8080/'))).resolves.toEqual({
      address: '10.1.2.3',
      family: 4,
    });
  });
});
