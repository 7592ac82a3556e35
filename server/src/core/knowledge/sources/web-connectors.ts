import {
  fetchUrl,
  FetchError,
  isSitemap,
  sitemapLocations,
  sniffByContentType,
  type Fetched,
  type FetchLimits,
} from '../fetch-url.ts';
import { htmlLinks, htmlTitle } from '../parsing/html-to-text.ts';
import type { Connector, ItemContent } from './connector.ts';
import { fetchRobots } from './robots.ts';

/** A site refresh stops listing after this long (the pages found so far are refreshed). */
const SITE_LIST_BUDGET_MS = 5 * 60_000;

/** A page's change marker: the validators its server sent (ETag, Last-Modified), as JSON; null when it sent none. */
export function webMarker(fetched: Pick<Fetched, 'etag' | 'lastModified'>): string | null {
  return fetched.etag || fetched.lastModified
    ? JSON.stringify({ etag: fetched.etag, lastModified: fetched.lastModified })
    : null;
}

function validatorsOf(marker: string | null | undefined): { etag?: string | null; lastModified?: string | null } {
  if (!marker) return {};
  try {
    return JSON.parse(marker) as { etag?: string | null; lastModified?: string | null };
  } catch {
    return {};
  }
}

function contentOf(fetched: Fetched): ItemContent {
  const mime = sniffByContentType(fetched.bytes, fetched.contentType, fetched.url);
  return {
    state: 'content',
    bytes: fetched.bytes,
    mime,
    title: (mime === 'text/html' && htmlTitle(fetched.bytes.toString('utf8'))) || undefined,
    marker: webMarker(fetched),
  };
}

/**
 * One page: a conditional GET with the validators of the last fetch (304: unchanged), through the
 * URL-import rules of fetch-url.ts (checked address on every hop, size and time limits).
 */
async function fetchPage(url: string, limits: FetchLimits, marker: string | null | undefined): Promise<ItemContent> {
  try {
    const fetched = await fetchUrl(url, limits, validatorsOf(marker));
    return fetched.notModified
      ? { state: 'unchanged', marker: webMarker(fetched) ?? marker ?? null }
      : contentOf(fetched);
  } catch (error) {
    if (error instanceof FetchError && (error.status === 404 || error.status === 410))
      return { state: 'gone', reason: `http_${error.status}` };
    throw error;
  }
}

/** A URL import's one page. */
export function urlConnector(url: string, limits: FetchLimits): Connector {
  return {
    async list() {
      return { items: [{ key: url, marker: null }], failures: [] };
    },
    fetch: (key, known) => fetchPage(key, limits, known?.marker),
  };
}

export function normalizeUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.toString().replace(/\/$/, '');
}

/**
 * A crawled site: listing crawls it again from the start page (or sitemap) — same origin only,
 * breadth-first within the import's depth and page count, only where robots.txt allows, within
 * SITE_LIST_BUDGET_MS. The pages fetched while listing are kept for `fetch`, which fetches (with
 * the last validators) only a page the listing did not reach, to tell whether it is gone.
 */
export function siteConnector(
  root: string,
  settings: { depth: number; maxPages: number },
  limits: FetchLimits,
  budgetMs = SITE_LIST_BUDGET_MS,
): Connector {
  const origin = new URL(root).origin;
  const fetchedPages = new Map<string, ItemContent>();

  return {
    async list() {
      const allowed = await fetchRobots(origin, limits);
      const deadline = Date.now() + budgetMs;
      const items: { key: string; marker: string | null }[] = [];
      const failures: { key: string; reason: string }[] = [];
      const queue: { url: string; depth: number }[] = [{ url: root, depth: 0 }];
      const seen = new Set<string>();
      while (queue.length && items.length < settings.maxPages) {
        if (Date.now() > deadline) {
          failures.push({ key: root, reason: `Stopped listing after ${Math.round(budgetMs / 1000)} s` });
          break;
        }
        const { url, depth } = queue.shift()!;
        const key = normalizeUrl(url);
        if (seen.has(key) || depth > settings.depth) continue;
        seen.add(key);
        const target = new URL(url);
        if (target.origin !== origin) continue;
        if (!allowed(`${target.pathname}${target.search}`)) continue;
        let fetched: Fetched;
        try {
          fetched = await fetchUrl(url, limits);
        } catch (error) {
          // A vanished page is found gone when refresh asks for it; other failures are reported.
          if (!(error instanceof FetchError && (error.status === 404 || error.status === 410)))
            failures.push({ key: url, reason: (error as Error).message });
          continue;
        }
        if (new URL(fetched.url).origin !== origin) continue; // redirected off-site
        // The start page keeps the address it was imported under (its document's key).
        const pageKey = url === root ? root : fetched.url;
        const content = contentOf(fetched);
        fetchedPages.set(pageKey, content);
        items.push({ key: pageKey, marker: null });
        const links = isSitemap(fetched.bytes)
          ? sitemapLocations(fetched.bytes.toString('utf8'))
          : content.state === 'content' && content.mime === 'text/html'
            ? htmlLinks(fetched.bytes.toString('utf8'), fetched.url)
            : [];
        // A sitemap's entries count as one link away, as at import.
        for (const link of links) if (!seen.has(normalizeUrl(link))) queue.push({ url: link, depth: depth + 1 });
      }
      return { items, failures };
    },
    async fetch(key, known) {
      return fetchedPages.get(key) ?? fetchPage(key, limits, known?.marker);
    },
  };
}
