import type { ParseableMime } from '../parsing/parsed-document.ts';

/**
 * The seam between refresh (refresh.service.ts) and the places documents come from: a connector
 * lists what a source holds now, each item with a change marker, and fetches one item. Refresh
 * decides the rest — which items are new, changed (by marker, then by content hash), unchanged or
 * gone — and writes documents, versions, retirements and indexing jobs. See docs/connectors.md.
 */
export interface Connector {
  /** The items the source holds now. `failures`: items seen but not readable (with the reason). */
  list(): Promise<{ items: SourceItem[]; failures: { key: string; reason: string }[] }>;
  /**
   * One item's content. `known`: what the last refresh saw of it, so the connector may ask the origin
   * only for a change (a conditional request) and answer `unchanged`.
   */
  fetch(key: string, known: { marker: string | null } | undefined): Promise<ItemContent>;
}

export interface SourceItem {
  /** Stable across versions: the page's URL, the file's path under the folder. */
  key: string;
  /** Changes when the item does (a file's size and time); null: the connector cannot tell without fetching. */
  marker: string | null;
}

/** Why a document was retired, as a code the web app words: the page answered 404 / 410, the file was removed or now leads outside its folder. */
export type RetiredReason = 'http_404' | 'http_410' | 'removed' | 'outside_folder';

export type ItemContent =
  | { state: 'unchanged'; marker: string | null }
  /** The origin says it is no more: its document is retired with `reason`. */
  | { state: 'gone'; reason: RetiredReason }
  | {
      state: 'content';
      bytes: Buffer;
      /** Undefined: a type that cannot be indexed. */
      mime: ParseableMime | undefined;
      title: string | undefined;
      marker: string | null;
    };
