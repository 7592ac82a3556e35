import type { JobMap } from '../../jobs/job-map.ts';
import type { Processors } from '../../jobs/job-types.ts';
import type { RefreshService } from './refresh.service.ts';

/** `refresh-source`: one run of a source's refresh; a scheduled job's tick makes that tick's run happen once. */
export function refreshJobs({
  refresh,
}: {
  refresh: Pick<RefreshService, 'refresh'>;
}): Pick<Processors<JobMap>, 'refresh-source'> {
  return {
    'refresh-source': async ({ sourceId, trigger, requestedBy, documentId }, context) => {
      await refresh.refresh(sourceId, { trigger, tick: context.tick, requestedBy, documentId });
    },
  };
}
