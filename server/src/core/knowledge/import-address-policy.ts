import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { BlockList, isIP } from 'node:net';
import { hostOf, literalAddress, unmapIpv4 } from '../net/ip-address.ts';

/** One address a name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name → addresses; injectable so tests can play a DNS server whose answer changes. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Never reachable, whatever the allow-list says: link-local (cloud and hypervisor metadata services
 * such as 169.254.169.254 hand out credentials there) and the unspecified address.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');

/** The `private` preset of URL_IMPORT_ALLOW_PRIVATE: the ranges an intranet lives on. */
const PRIVATE_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
];
const LOOPBACK_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
];

/** Addresses that are not on the internet: importing from them needs the allow-list's consent. */
const NON_PUBLIC = new BlockList();
for (const [network, bits, type] of [...PRIVATE_RANGES, ...LOOPBACK_RANGES]) NON_PUBLIC.addSubnet(network, bits, type);

const LOOPBACK = new BlockList();
for (const [network, bits, type] of LOOPBACK_RANGES) LOOPBACK.addSubnet(network, bits, type);

/** `::ffff:10.0.0.1` (or `::ffff:a00:1`) is 10.0.0.1: check the IPv4 address it wraps. */
function normalise({ address, family }: ResolvedAddress): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = family === 6 ? unmapIpv4(address) : undefined;
  return mapped ? { address: mapped, type: 'ipv4' } : { address, type: family === 6 ? 'ipv6' : 'ipv4' };
}

/** Where this deployment of Enclave itself answers: imports must never call back into it. */
export interface OwnEndpoints {
  /** Ports Enclave listens on (configured, and those actually bound, e.g. an ephemeral port). */
  ports(): ReadonlySet<number>;
  /** PUBLIC_URL's host name (lower case, no trailing dot) and port. */
  publicHost?: string;
  publicPort?: number;
  /** Records a port a server of this process has bound. */
  listening(port: number): void;
}

function publicEndpoint(url: URL): { publicHost: string; publicPort: number } {
  return { publicHost: hostOf(url), publicPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}

export function createOwnEndpoints(config: {
  port: number;
  workerMetricsPort: number;
  metrics?: { port: number };
  publicUrl?: string | undefined;
}): OwnEndpoints {
  const ports = new Set([config.port, config.workerMetricsPort, config.metrics?.port ?? 0].filter((p) => p > 0));
  return {
    ports: () => ports,
    ...(config.publicUrl ? publicEndpoint(new URL(config.publicUrl)) : {}),
    listening: (port) => void ports.add(port),
  };
}

/** True if the address is this machine: loopback or one of its interfaces (unspecified is refused before). */
function isLocal(address: string, type: 'ipv4' | 'ipv6'): boolean {
  if (LOOPBACK.check(address, type)) return true;
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some(
      (i) => normalise({ address: i.address, family: i.family === 'IPv6' ? 6 : 4 }).address === address,
    ),
  );
}

export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

export interface ImportAddressPolicy {
  /**
   * Resolves the URL's host once and decides; the returned address is the one to connect to, so a
   * DNS answer that changes afterwards cannot lead the connection anywhere unchecked.
   * Throws AddressRefused.
   */
  check(url: URL): Promise<ResolvedAddress>;
}

/**
 * Which addresses URL imports may reach. Public addresses: yes. Link-local and unspecified: never.
 * Enclave's own ports on this machine and PUBLIC_URL's host: never (an import of /metrics or /api
 * would read Enclave as whoever it is). Private and loopback addresses: only as the allow-list says
 * (`private`, `loopback`, CIDR ranges, addresses, host names — a name admits itself and its subdomains).
 */
export function createImportAddressPolicy(options: {
  allowPrivate: readonly string[];
  own: OwnEndpoints;
  resolve?: Resolver;
}): ImportAddressPolicy {
  const resolve = options.resolve ?? systemResolver;
  const allowed = new BlockList();
  const allowedHosts: string[] = [];
  for (const entry of options.allowPrivate) {
    if (entry === 'private' || entry === 'loopback') {
      for (const [network, bits, type] of entry === 'private' ? PRIVATE_RANGES : LOOPBACK_RANGES)
        allowed.addSubnet(network, bits, type);
      continue;
    }
    const [address, bits] = entry.split('/');
    const family = isIP(address!);
    if (family === 0) allowedHosts.push(entry.toLowerCase());
    else if (bits === undefined) allowed.addAddress(address!, family === 6 ? 'ipv6' : 'ipv4');
    else allowed.addSubnet(address!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }
  const hostAllowed = (host: string) => allowedHosts.some((h) => host === h || host.endsWith(`.${h}`));
  // PUBLIC_URL's host resolving nowhere just means nothing is refused on its account.
  const publicAddressesOf = async (host: string): Promise<ResolvedAddress[]> => {
    const literal = literalAddress(host);
    return literal ? [literal] : resolve(host).catch(() => []);
  };

  return {
    async check(url) {
      const host = hostOf(url);
      const { publicHost, publicPort } = options.own;
      if (publicHost === host) throw new AddressRefused(`${url.host} is Enclave itself`);
      const literal = literalAddress(host);
      const addresses: ResolvedAddress[] = literal
        ? [literal]
        : await resolve(host).catch((error: Error) => {
            // Not a refusal: DNS may answer on a retry.
            throw new Error(`${url.host} could not be resolved: ${error.message}`, { cause: error });
          });
      if (!addresses.length) throw new Error(`${url.host} could not be resolved`);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      // Another name (or the address) of PUBLIC_URL's host, on its port, is Enclave too.
      const publicAddresses =
        publicHost && port === publicPort
          ? new Set((await publicAddressesOf(publicHost)).map((a) => normalise(a).address))
          : new Set<string>();
      for (const resolved of addresses) {
        const { address, type } = normalise(resolved);
        if (FORBIDDEN.check(address, type))
          throw new AddressRefused(`${url.host} is a link-local or unspecified address; imports may not reach it`);
        if ((options.own.ports().has(port) && isLocal(address, type)) || publicAddresses.has(address))
          throw new AddressRefused(`${url.host} is Enclave itself`);
        if (NON_PUBLIC.check(address, type) && !allowed.check(address, type) && !hostAllowed(host))
          throw new AddressRefused(
            `${url.host} is a private address (${address}) not in URL_IMPORT_ALLOW_PRIVATE; an administrator can allow it`,
          );
      }
      return addresses[0]!;
    },
  };
}
