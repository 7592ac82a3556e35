/**
 * Routing of a bot or support conversation between the bot and the human team, as an explicit
 * state machine. Every transition is recorded as a conversation event with who, when and why.
 */
export type RoutingStatus = 'bot' | 'queued' | 'assigned' | 'resolved';

export type TransitionType = 'handoff' | 'claim' | 'transfer' | 'requeue' | 'resolve' | 'return_to_bot' | 'reopen';

export const REASONS = [
  'user_request',
  'keyword',
  'low_confidence',
  'model_declined',
  'repeated_question',
  'negative_feedback',
  'frustration',
  'complaint',
  'agent_claim',
  'auto_assign',
  'agent_transfer',
  'agent_resolved',
  'agent_returned',
  'new_message',
] as const;
export type Reason = (typeof REASONS)[number];

const TRANSITIONS: Record<TransitionType, { from: RoutingStatus[]; to: RoutingStatus | 'same' }> = {
  handoff: { from: ['bot'], to: 'queued' },
  claim: { from: ['queued'], to: 'assigned' },
  transfer: { from: ['assigned'], to: 'same' }, // to another agent
  requeue: { from: ['assigned'], to: 'queued' }, // back to the team
  resolve: { from: ['assigned'], to: 'resolved' },
  return_to_bot: { from: ['assigned'], to: 'bot' },
  reopen: { from: ['resolved'], to: 'same' }, // to bot or queued, decided by the kind
};

export class TransitionError extends Error {
  constructor(
    readonly type: TransitionType,
    readonly from: RoutingStatus | null,
  ) {
    super(`A conversation that is ${from ?? 'not routed'} cannot ${type.replace(/_/g, ' ')}`);
    this.name = 'TransitionError';
  }
}

/** The status a transition leads to, or a TransitionError when it is not allowed from `from`. */
export function nextStatus(type: TransitionType, from: RoutingStatus | null, reopenTo?: RoutingStatus): RoutingStatus {
  const rule = TRANSITIONS[type];
  if (!from || !rule.from.includes(from)) throw new TransitionError(type, from);
  if (type === 'reopen') return reopenTo ?? 'bot';
  return rule.to === 'same' ? from : rule.to;
}
