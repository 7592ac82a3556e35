import { createAnswerService } from '../../../server/src/core/bots/answer.service.ts';
import { createConfiguredAnswerer } from '../../../server/src/core/bots/bots.module.ts';
import { createConversationPublisher } from '../../../server/src/core/conversations/conversation-publisher.ts';
import { createRoutingService } from '../../../server/src/core/conversations/routing.service.ts';
import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import type { Processor } from '../../../server/src/core/jobs/job-types.ts';
import type { Services } from '../../../server/src/services.ts';

/** The bot's turn for one user message (see answer.service.ts). */
export function answerMessage(services: Omit<Services, 'jobs'>): Processor<JobMap['answer']> {
  const publisher = createConversationPublisher(services.db, services.bus);
  const answers = createAnswerService({
    db: services.db,
    bus: services.bus,
    publisher,
    routing: createRoutingService({ db: services.db, publisher, assignmentMode: services.config.assignmentMode }),
    answerer: createConfiguredAnswerer(services),
    logger: services.logger.child({ job: 'answer' }),
  });
  return ({ messageId }) => answers.answer(messageId);
}
