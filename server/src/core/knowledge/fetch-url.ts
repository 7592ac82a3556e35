import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.ts';
import type { ParseableMime } from './parsing/parsed-document.ts';
import { sniffMime } from './parsing/sniff.ts';

/**
 * Addresses an import may never reach, whoever asks: link-local (cloud and hypervisor metadata
 * services such as 169.254.169.254 hand out credentials there) and the unspecified address.
 * Private ranges and loopback stay allowed on purpose: importing the intranet is the point, and
 * only admins can import.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');

async function assertReachable(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await lookup(host, { all: true }).catch(() => []);
  for (const { address, family } of addresses) {
    const mapped = family === 6 && /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped ? FORBIDDEN.check(mapped, 'ipv4') : FORBIDDEN.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw new FetchError(`${url.host} is a link-local or unspecified address; imports may not reach it`, true);
    }
  }
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  userAgent?: string;
}

export interface Fetched {
  url: string;
  bytes: Buffer;
  contentType: string;
}

/**
 * GETs one page for import or crawling: http(s) only, a whole-request timeout, at most
 * `maxBytes` read (the body is streamed and cut, not buffered first), at most 5 redirects, and no
 * hop to a forbidden address (checked on every redirect; a name that fails to resolve is left to
 * fetch to report).
 */
export async function fetchUrl(url: string, limits: FetchLimits): Promise<Fetched> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new AppError(400, 'bad_url', 'Only http and https URLs can be imported');
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let current = parsed.toString();
  for (let redirects = 0; ; redirects++) {
    await assertReachable(new URL(current));
    let res: Response;
    try {
      res = await fetch(current, {
        signal,
        redirect: 'manual',
        headers: {
          'user-agent': limits.userAgent ?? 'EnclaveBot/1.0 (knowledge import)',
          accept: 'text/html,text/plain,application/pdf,*/*;q=0.5',
        },
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || signal.aborted;
      const message = timedOut
        ? `Fetching ${current} timed out after ${limits.timeoutMs} ms`
        : `Fetching ${current} failed: ${(error as Error).message}`;
      throw new Error(message, { cause: error });
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (redirects >= 5) throw new FetchError(`Too many redirects from ${url}`, true);
      current = new URL(res.headers.get('location')!, current).toString();
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      // 4xx will not get better by retrying; 5xx and 429 might.
      throw new FetchError(
        `${current} answered HTTP ${res.status}`,
        res.status >= 400 && res.status < 500 && res.status !== 429,
      );
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > limits.maxBytes) {
      await res.body?.cancel();
      throw new FetchError(`${current} is larger than the limit of ${limits.maxBytes} bytes`, true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > limits.maxBytes) {
          await reader.cancel();
          throw new FetchError(`${current} is larger than the limit of ${limits.maxBytes} bytes`, true);
        }
        chunks.push(Buffer.from(value));
      }
    }
    return { url: current, bytes: Buffer.concat(chunks), contentType: res.headers.get('content-type') ?? '' };
  }
}

/** `permanent`: retrying cannot help (404, too large, too many redirects). */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

/** `<loc>` entries of a sitemap (or sitemap index). */
export function sitemapLocations(xml: string): string[] {
  return [...xml.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/gi)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

/** A sitemap (or sitemap index) rather than a page: its `<loc>` entries are what to crawl. */
export function isSitemap(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 2048).toString('utf8');
  return /<(urlset|sitemapindex)\b/i.test(head);
}

/** The type of fetched bytes: the server's Content-Type names it, else the URL's path does, as the sniffer confirms. */
export function sniffByContentType(bytes: Buffer, contentType: string, url: string): ParseableMime | undefined {
  const path = new URL(url).pathname;
  const name = contentType.includes('html')
    ? 'page.html'
    : contentType.includes('csv')
      ? 'page.csv'
      : contentType.includes('markdown')
        ? 'page.md'
        : path;
  return sniffMime(bytes.subarray(0, 8192), name);
}
