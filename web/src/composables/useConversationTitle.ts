import type { Conversation } from '../api/types';
import { useI18n } from '../i18n';
import { useAuthStore } from '../stores/auth';
import { useBotsStore } from '../stores/bots';

/** A readable name for a conversation in either language, whatever it carries. */
export function useConversationTitle() {
  const { t } = useI18n();
  const auth = useAuthStore();
  const bots = useBotsStore();

  return function title(conversation: Pick<Conversation, 'title' | 'kind' | 'botId' | 'members'> | undefined): string {
    if (!conversation) return '';
    if (conversation.title) return conversation.title;
    switch (conversation.kind) {
      case 'bot':
        return bots.byId(conversation.botId)?.name ?? t('chat.kind.bot');
      case 'support':
        return t('chat.kind.support');
      case 'direct': {
        const other = conversation.members?.find((m) => m.id !== auth.user?.id);
        return other?.name ?? t('chat.kind.direct');
      }
      case 'group':
        return t('chat.kind.group');
    }
  };
}
