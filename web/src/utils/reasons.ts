import { translate, type MessageKey } from '../i18n';

const REASONS: Record<string, MessageKey> = {
  user_request: 'reason.user_request',
  keyword: 'reason.keyword',
  low_confidence: 'reason.low_confidence',
  model_declined: 'reason.model_declined',
  repeated_question: 'reason.repeated_question',
  negative_feedback: 'reason.negative_feedback',
  frustration: 'reason.frustration',
  complaint: 'reason.complaint',
  agent_claim: 'reason.agent_claim',
  auto_assign: 'reason.auto_assign',
  agent_transfer: 'reason.agent_transfer',
  agent_resolved: 'reason.agent_resolved',
  agent_returned: 'reason.agent_returned',
  new_message: 'reason.new_message',
};

/** A handoff or routing reason in the current language. */
export function reasonLabel(reason: string | null | undefined): string {
  if (!reason) return translate('reason.none');
  const key = REASONS[reason];
  return key ? translate(key) : reason;
}
