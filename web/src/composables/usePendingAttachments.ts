import { computed, onBeforeUnmount, ref, watch } from 'vue';
import { uploadAttachment } from '../api/attachments';
import { ApiError } from '../api/client';
import type { Attachment } from '../api/types';
import { translate, useI18n, type MessageKey } from '../i18n';
import { useAuthStore } from '../stores/auth';
import { attachmentProblem, formatFileSize } from '../utils/attachments';

export interface PendingAttachment {
  key: number;
  name: string;
  /** The type the browser claims, for the icon until the server has typed the bytes. */
  mime: string;
  size: number;
  /** An object URL of the file itself, for an image's thumbnail before it is sent. */
  preview: string | null;
  /** 0–1 while uploading. */
  progress: number;
  state: 'uploading' | 'ready' | 'failed';
  attachment?: Attachment;
  /** Why the server refused it, in the current language (read when shown: the language may change). */
  error?: () => string;
  abort: AbortController;
}

/**
 * The files waiting to go with the next message in a conversation: checked against the server's
 * rules before any upload, uploaded at once with progress, removable until sent. Changing the
 * conversation drops them (an upload belongs to one conversation).
 */
export function usePendingAttachments(conversationId: () => string | undefined) {
  // Read when a file comes (not at setup): a composer without a conversation needs no store.
  const currentRules = () => useAuthStore().attachmentRules;
  const { locale } = useI18n();
  const items = ref<PendingAttachment[]>([]);
  /** Files refused before upload, as sentences in the current language (cleared by the next pick or a send). */
  const refused = ref<(() => string)[]>([]);
  let nextKey = 1;

  const uploading = computed(() => items.value.some((i) => i.state === 'uploading'));
  const ready = computed(() => items.value.flatMap((i) => (i.state === 'ready' && i.attachment ? [i.attachment] : [])));

  function refusal(file: File, problem: 'empty' | 'tooLarge' | 'type' | 'tooMany'): () => string {
    const rules = currentRules();
    const name = file.name || translate('attachments.unnamed');
    if (problem === 'tooLarge')
      return () =>
        translate('attachments.tooLarge', {
          name,
          size: formatFileSize(file.size, locale.value),
          max: formatFileSize(rules?.maxBytes ?? 0, locale.value),
        });
    if (problem === 'tooMany') return () => translate('attachments.tooMany', { name, max: rules?.maxPerMessage ?? 0 });
    if (problem === 'empty') return () => translate('attachments.empty', { name });
    const types = rules?.types.flatMap((t) => t.extensions).join(', ') ?? '';
    return () => translate('attachments.wrongType', { name, types });
  }

  /** What the server answered, in the reader's language (its own message is English). */
  function serverRefusal(error: unknown): () => string {
    const status = error instanceof ApiError ? error.status : -1;
    const key: MessageKey =
      status === 413
        ? 'attachments.serverTooLarge'
        : status === 415
          ? 'attachments.serverWrongType'
          : status === 403 || status === 404
            ? 'attachments.notAllowed'
            : status === 0
              ? 'error.network'
              : 'attachments.uploadFailed';
    return () => translate(key);
  }

  async function start(item: PendingAttachment, file: File, id: string) {
    try {
      const attachment = await uploadAttachment(
        id,
        file,
        (fraction) => {
          item.progress = fraction;
        },
        item.abort.signal,
      );
      const current = items.value.find((i) => i.key === item.key);
      if (!current) return;
      current.attachment = attachment;
      current.progress = 1;
      current.state = 'ready';
    } catch (error) {
      const current = items.value.find((i) => i.key === item.key);
      if (!current || (error as Error).name === 'AbortError') return;
      current.state = 'failed';
      current.error = serverRefusal(error);
    }
  }

  function add(files: Iterable<File>) {
    const id = conversationId();
    if (!id) return;
    refused.value = [];
    const rules = currentRules();
    const max = rules?.maxPerMessage ?? Infinity;
    for (const file of files) {
      const problem = items.value.length >= max ? 'tooMany' : attachmentProblem(file, rules);
      if (problem) {
        refused.value.push(refusal(file, problem));
        continue;
      }
      const item: PendingAttachment = {
        key: nextKey++,
        name: file.name || translate('attachments.unnamed'),
        mime: file.type,
        size: file.size,
        preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null,
        progress: 0,
        state: 'uploading',
        abort: new AbortController(),
      };
      items.value.push(item);
      void start(items.value[items.value.length - 1]!, file, id);
    }
  }

  function forget(item: PendingAttachment) {
    item.abort.abort();
    if (item.preview) URL.revokeObjectURL(item.preview);
  }

  function remove(key: number) {
    const item = items.value.find((i) => i.key === key);
    if (item) forget(item);
    items.value = items.value.filter((i) => i.key !== key);
  }

  /** After a send (the files went with the message) or when leaving the conversation. */
  function clear() {
    items.value.forEach(forget);
    items.value = [];
    refused.value = [];
  }

  watch(conversationId, clear);
  onBeforeUnmount(clear);

  return { items, refused, uploading, ready, add, remove, clear };
}

export type PendingAttachments = ReturnType<typeof usePendingAttachments>;
