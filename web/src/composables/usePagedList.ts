import { ref, type Ref } from 'vue';
import type { Page } from '../api/types';
import { useErrorMessage } from './useErrorMessage';

/**
 * A list the server hands out a page at a time: `load()` reads the first page afresh, `load(true)`
 * appends the next one while `next` says there is one.
 */
export function usePagedList<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  const errorMessage = useErrorMessage();
  const items: Ref<T[]> = ref([]);
  const next = ref<string | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load(more = false) {
    loading.value = true;
    error.value = null;
    try {
      const page = await fetchPage((more && next.value) || undefined);
      items.value = more ? [...items.value, ...page.items] : page.items;
      next.value = page.next;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  return { items, next, loading, error, load };
}
