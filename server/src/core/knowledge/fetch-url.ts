import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { AppError } from '../errors.ts';
import { AddressRefused, type ImportAddressPolicy, type ResolvedAddress } from './import-address-policy.ts';
import type { ParseableMime } from './parsing/parsed-document.ts';
import { sniffMime } from './parsing/sniff.ts';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  userAgent?: string;
  /** Which addresses may be reached (checked on every hop). */
  addresses: ImportAddressPolicy;
}

export interface Fetched {
  url: string;
  bytes: Buffer;
  contentType: string;
  /** 304: the page has not changed since the validators sent (`bytes` is empty). */
  notModified: boolean;
  /** The validators a later conditional request sends back. */
  etag: string | null;
  lastModified: string | null;
}

/** A conditional request's validators, from the last fetch of the same page. */
export interface Validators {
  etag?: string | null | undefined;
  lastModified?: string | null | undefined;
}

const isHttp = (url: URL) => url.protocol === 'http:' || url.protocol === 'https:';

/**
 * One GET to the address the policy checked, never to a fresh DNS answer: the URL's host still goes
 * in the Host header and, for https, in the TLS server name (so certificates are verified as usual).
 */
function get(
  url: URL,
  to: ResolvedAddress,
  limits: FetchLimits,
  signal: AbortSignal,
  validators: Validators,
): Promise<IncomingMessage> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const options = {
    host: to.address,
    family: to.family,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    signal,
    headers: {
      host: url.host,
      'user-agent': limits.userAgent ?? 'EnclaveBot/1.0 (knowledge import)',
      accept: 'text/html,text/plain,application/pdf,*/*;q=0.5',
      ...(validators.etag ? { 'if-none-match': validators.etag } : {}),
      ...(validators.lastModified ? { 'if-modified-since': validators.lastModified } : {}),
    },
  };
  return new Promise((resolve, reject) => {
    const req =
      url.protocol === 'https:'
        ? httpsRequest({ ...options, ...(isIP(hostname) ? {} : { servername: hostname }) }, resolve)
        : httpRequest(options, resolve);
    req.once('error', reject).end();
  });
}

/**
 * GETs one page for import or crawling: http(s) only, a whole-request timeout, at most
 * `maxBytes` read (the body is streamed and cut, not buffered first), at most 5 redirects. Every hop
 * is checked again — its scheme, and its address by the policy, which resolves the name once; the
 * connection goes to that checked address.
 */
export async function fetchUrl(url: string, limits: FetchLimits, validators: Validators = {}): Promise<Fetched> {
  const parsed = new URL(url);
  if (!isHttp(parsed)) throw new AppError(400, 'bad_url', 'Only http and https URLs can be imported');
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let current = parsed;
  for (let redirects = 0; ; redirects++) {
    let res: IncomingMessage;
    try {
      const to = await limits.addresses.check(current);
      res = await get(current, to, limits, signal, validators);
    } catch (error) {
      if (error instanceof AddressRefused) throw new FetchError(error.message, true);
      const timedOut = (error as Error).name === 'TimeoutError' || signal.aborted;
      const message = timedOut
        ? `Fetching ${current} timed out after ${limits.timeoutMs} ms`
        : `Fetching ${current} failed: ${(error as Error).message}`;
      throw new Error(message, { cause: error });
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.destroy();
      if (redirects >= 5) throw new FetchError(`Too many redirects from ${url}`, true);
      current = new URL(res.headers.location, current);
      if (!isHttp(current))
        throw new FetchError(
          `${url} redirects to a ${current.protocol} URL; only http and https can be imported`,
          true,
        );
      continue;
    }
    const etag = header(res, 'etag');
    const lastModified = header(res, 'last-modified');
    if (status === 304) {
      res.destroy();
      return {
        url: current.toString(),
        bytes: Buffer.alloc(0),
        contentType: '',
        notModified: true,
        etag,
        lastModified,
      };
    }
    if (status < 200 || status >= 300) {
      res.destroy();
      // 4xx will not get better by retrying; 5xx and 429 might.
      throw new FetchError(
        `${current} answered HTTP ${status}`,
        status >= 400 && status < 500 && status !== 429,
        status,
      );
    }
    const declared = Number(res.headers['content-length'] ?? '0');
    if (declared > limits.maxBytes) {
      res.destroy();
      throw new FetchError(`${current} is larger than the limit of ${limits.maxBytes} bytes`, true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limits.maxBytes) {
          res.destroy();
          throw new FetchError(`${current} is larger than the limit of ${limits.maxBytes} bytes`, true);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof FetchError) throw error;
      const timedOut = signal.aborted;
      const message = timedOut
        ? `Fetching ${current} timed out after ${limits.timeoutMs} ms`
        : `Fetching ${current} failed: ${(error as Error).message}`;
      throw new Error(message, { cause: error });
    }
    return {
      url: current.toString(),
      bytes: Buffer.concat(chunks),
      contentType: res.headers['content-type'] ?? '',
      notModified: false,
      etag,
      lastModified,
    };
  }
}

function header(res: IncomingMessage, name: string): string | null {
  const value = res.headers[name];
  return typeof value === 'string' && value ? value : null;
}

/** `permanent`: retrying cannot help (404, too large, too many redirects); `status`: the page's HTTP answer, when it gave one. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status?: number,
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
