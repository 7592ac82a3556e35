import type { ConversationEvent } from '../api/types';
import { translate, type MessageKey } from '../i18n';
import { reasonLabel } from './reasons';

// Why a conversation went to the queue, as the end of a sentence ("… to the queue (asked for a person)").
const WHY: Record<string, MessageKey> = {
  user_request: 'agent.history.why.user_request',
  keyword: 'agent.history.why.keyword',
  low_confidence: 'agent.history.why.low_confidence',
  model_declined: 'agent.history.why.model_declined',
  repeated_question: 'agent.history.why.repeated_question',
  negative_feedback: 'agent.history.why.negative_feedback',
  frustration: 'agent.history.why.frustration',
  complaint: 'agent.history.why.complaint',
};

/** One step of a conversation's routing history as a sentence in the current language. */
export function eventSentence(e: ConversationEvent): string {
  const who = e.actorName ?? translate('agent.history.someone');
  const assignee = e.assigneeName ?? translate('agent.history.someone');
  switch (e.type) {
    case 'handoff': {
      const why = e.reason && WHY[e.reason] ? translate(WHY[e.reason]!) : reasonLabel(e.reason);
      return e.actorId
        ? translate('agent.history.handoff', { who, why })
        : translate('agent.history.handoffByAssistant', { why });
    }
    case 'claim':
      return e.actorId
        ? translate('agent.history.claim', { who })
        : translate('agent.history.autoAssign', { assignee });
    case 'transfer':
      return translate('agent.history.transfer', { who, assignee });
    case 'requeue': {
      const team = typeof e.details.team === 'string' && e.details.team ? e.details.team : null;
      return team ? translate('agent.history.requeueTeam', { who, team }) : translate('agent.history.requeue', { who });
    }
    case 'resolve':
      return translate('agent.history.resolve', { who });
    case 'return_to_bot':
      return translate('agent.history.returnToBot', { who });
    case 'reopen':
      return translate('agent.history.reopen', { who });
    default:
      return reasonLabel(e.reason);
  }
}
