import { ref } from 'vue';
import {
  createCannedReply,
  deleteCannedReply,
  listCannedReplies,
  updateCannedReply,
  type CannedReply,
  type CannedReplyInput,
} from '../api/agent-console';

// One list for the page: the composer's menu shows at once what the manage dialog just saved.
const replies = ref<CannedReply[]>([]);
const loaded = ref(false);
let loading: Promise<void> | null = null;

const byShortcut = (a: CannedReply, b: CannedReply) =>
  a.shortcut.localeCompare(b.shortcut) || Number(b.shared) - Number(a.shared);

/** The agent's canned replies (shared and their own), loaded once, kept in step with their edits. */
export function useCannedReplies() {
  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve();
    loading ??= listCannedReplies()
      .then((items) => {
        replies.value = items;
        loaded.value = true;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  async function create(input: CannedReplyInput) {
    const made = await createCannedReply(input);
    replies.value = [...replies.value, made].sort(byShortcut);
  }

  async function update(id: string, patch: Omit<CannedReplyInput, 'shared'>) {
    const changed = await updateCannedReply(id, patch);
    replies.value = replies.value.map((r) => (r.id === id ? changed : r)).sort(byShortcut);
  }

  async function remove(id: string) {
    await deleteCannedReply(id);
    replies.value = replies.value.filter((r) => r.id !== id);
  }

  return { replies, loaded, load, create, update, remove };
}

/** A reply's text with its variables filled: `{name}` → values.name; unknown ones stay as written. */
export function fillVariables(body: string, values: Record<string, string>): string {
  return body.replace(/\{(\w+)\}/g, (match, key: string) => values[key] ?? match);
}
