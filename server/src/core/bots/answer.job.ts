import type { JobMap } from '../jobs/job-map.ts';
import type { Processor } from '../jobs/job-types.ts';
import type { AnswerService } from './answer.service.ts';

/** `answer`: the bot's turn for one user message (see answer.service.ts). */
export function answerJob({ answers }: { answers: Pick<AnswerService, 'answer'> }): Processor<JobMap['answer']> {
  return ({ messageId }) => answers.answer(messageId);
}
