import { computed, onBeforeUnmount, ref, toValue, watch, type MaybeRefOrGetter } from 'vue';
import { ApiError } from '../api/client';
import type { Conversation } from '../api/types';
import { useI18n } from '../i18n';
import { useConversationsStore } from '../stores/conversations';

/**
 * The conversation a pane shows: made the store's active one (so its messages count as seen and a
 * reconnect refetches it), loaded, marked read, and marked read again as messages arrive while
 * `readsNewMessages` holds. `error` is writable so the pane can report its own failures there too.
 */
export function useOpenConversation(
  conversationId: MaybeRefOrGetter<string>,
  options: { readsNewMessages?: (conversation: Conversation | undefined) => boolean } = {},
) {
  const conversations = useConversationsStore();
  const { t } = useI18n();
  const loading = ref(true);
  const error = ref<string | null>(null);

  const conversation = computed(() => conversations.get(toValue(conversationId)));
  const messages = computed(() => conversations.list(toValue(conversationId)));

  async function load(id: string) {
    loading.value = true;
    error.value = null;
    conversations.activeId = id;
    try {
      await Promise.all([conversations.fetchConversation(id), conversations.fetchMessages(id)]);
      conversations.markRead(id);
    } catch (e) {
      error.value = e instanceof ApiError && e.status === 404 ? t('chat.notFound') : t('error.generic');
    } finally {
      loading.value = false;
    }
  }

  watch(
    () => toValue(conversationId),
    (id) => void load(id),
    { immediate: true },
  );
  watch(
    () => messages.value.length,
    () => {
      if (options.readsNewMessages?.(conversation.value) ?? true) conversations.markRead(toValue(conversationId));
    },
  );
  onBeforeUnmount(() => {
    if (conversations.activeId === toValue(conversationId)) conversations.activeId = null;
  });

  return { conversation, messages, loading, error };
}
