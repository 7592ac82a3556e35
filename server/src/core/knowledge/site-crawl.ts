import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { storageKeyOf, type DocumentRepository, type DocumentRow } from './document.repository.ts';
import { fetchUrl, isSitemap, sitemapLocations, sniffByContentType, type FetchLimits } from './fetch-url.ts';
import { htmlLinks, htmlTitle } from './parsing/html-to-text.ts';
import { fetchRobots } from './sources/robots.ts';
import { webMarker } from './sources/web-connectors.ts';

/** A URL import's `crawl` option: how many links away from the start page, and how many pages in all. */
export interface CrawlSettings {
  depth: number;
  maxPages: number;
}

/** The crawl a document asks for: only a URL import with room for more than its own page. */
export function crawlSettingsOf(doc: DocumentRow): CrawlSettings | undefined {
  const settings = doc.metadata.crawl as CrawlSettings | undefined;
  return doc.source === 'url' && settings && settings.depth > 0 && settings.maxPages > 1 ? settings : undefined;
}

/**
 * The crawl after a URL import's start page is indexed: breadth-first, same site only, where
 * robots.txt allows, up to `maxPages` pages (the start page included) and `depth` links away. Each new page becomes a child
 * document of the start page and is indexed at once; a page already imported is skipped. Progress
 * moves the start page from 0.5 towards 1.
 */
export function createSiteCrawler(deps: {
  documents: DocumentRepository;
  storage: BlobStorage;
  fetchLimits: FetchLimits;
  logger: Logger;
  publish: (row: DocumentRow | undefined) => Promise<void>;
  /** Indexes a crawled page's new document (its first version). */
  indexPage: (documentId: string) => Promise<unknown>;
}) {
  const { documents, storage, fetchLimits, logger, publish, indexPage } = deps;
  return async function crawl(root: DocumentRow, html: string | undefined, settings: CrawlSettings, bytes: Buffer) {
    const origin = new URL(root.source_url!).origin;
    const start = isSitemap(bytes)
      ? sitemapLocations(bytes.toString('utf8'))
      : html
        ? htmlLinks(html, root.source_url!)
        : [];
    const queue: { url: string; depth: number }[] = start.map((url) => ({ url, depth: 1 }));
    const seen = new Set<string>([normalizeUrl(root.source_url!)]);
    const allowed = await fetchRobots(origin, fetchLimits);
    let pages = 1;
    while (queue.length && pages < settings.maxPages) {
      const { url, depth } = queue.shift()!;
      const key = normalizeUrl(url);
      if (seen.has(key) || depth > settings.depth) continue;
      seen.add(key);
      const target = new URL(url);
      if (target.origin !== origin || !allowed(`${target.pathname}${target.search}`)) continue;
      let fetched;
      try {
        fetched = await fetchUrl(url, fetchLimits);
      } catch (error) {
        logger.warn({ url, error: (error as Error).message }, 'crawl: page skipped');
        continue;
      }
      if (new URL(fetched.url).origin !== origin) continue; // redirected off-site
      const mime = sniffByContentType(fetched.bytes, fetched.contentType, fetched.url);
      if (!mime) continue;
      pages += 1;
      await publish(
        await documents.updateProgress(root.id, root.version, { progress: 0.5 + (0.49 * pages) / settings.maxPages }),
      );
      const pageHtml = mime === 'text/html' ? fetched.bytes.toString('utf8') : undefined;
      // Its readers as they are now: an admin may have narrowed the start page while the crawl ran.
      const current = await documents.findById(root.id);
      if (!current) return; // the start page was deleted: so is what it would have crawled
      const id = randomUUID();
      const key2 = storageKeyOf(id);
      const stored = await storage.put(key2, fetched.bytes, { maxBytes: fetchLimits.maxBytes });
      const created = await documents.insertUnlessDuplicate({
        id,
        collectionId: root.collection_id,
        title: (pageHtml && htmlTitle(pageHtml)) || fetched.url,
        source: 'url',
        sourceUrl: fetched.url,
        mime,
        sizeBytes: stored.size,
        sha256: createHash('sha256').update(fetched.bytes).digest('hex'),
        storageKey: key2,
        metadata: { crawledFrom: root.id },
        // Kept in step with the site by its refreshes: known there by its address.
        sourceId: root.source_id,
        sourceKey: root.source_id ? fetched.url : null,
        sourceMarker: webMarker(fetched),
        createdBy: root.created_by,
        parentId: root.id,
        // A page is read by whoever may read the page it was crawled from.
        groups: current.readers === 'groups' ? current.groups.map((g) => g.id) : undefined,
      });
      if (!created.created) {
        await storage.delete(key2);
      } else {
        await publish(created.document);
        await indexPage(id).catch((error: unknown) =>
          logger.warn({ url, error: (error as Error).message }, 'crawl: page failed to index'),
        );
      }
      if (pageHtml && depth < settings.depth) {
        for (const link of htmlLinks(pageHtml, fetched.url))
          if (!seen.has(normalizeUrl(link))) queue.push({ url: link, depth: depth + 1 });
      }
    }
  };
}

function normalizeUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.toString().replace(/\/$/, '');
}
