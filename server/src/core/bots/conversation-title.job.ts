import type { JobMap } from '../jobs/job-map.ts';
import type { Processor } from '../jobs/job-types.ts';
import type { ConversationTitler } from './conversation-titler.ts';

/** `title-conversation`: a model-written short title after a bot conversation's first answer. */
export function conversationTitleJob({
  titler,
}: {
  titler: Pick<ConversationTitler, 'title'>;
}): Processor<JobMap['title-conversation']> {
  return ({ conversationId }) => titler.title(conversationId);
}
