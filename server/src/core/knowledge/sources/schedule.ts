import { CronError, nextCronTick, parseCron } from '../../jobs/cron.ts';
import type { Repeat } from '../../jobs/job-types.ts';

/** The named schedules an admin picks from (UTC), besides a cron expression of their own. */
const PRESETS: Record<string, string> = {
  hourly: '0 * * * *',
  daily: '0 3 * * *',
  weekly: '0 3 * * 1',
};

/** A source's schedule as the job runner takes it; throws CronError (with what is wrong) for a bad one. */
export function repeatOf(schedule: string): Repeat {
  const cron = PRESETS[schedule] ?? schedule;
  parseCron(cron);
  return { cron };
}

/** When a schedule runs next after `now`. */
export function nextRun(schedule: string | null, now = new Date()): Date | null {
  if (!schedule) return null;
  try {
    return nextCronTick(parseCron(PRESETS[schedule] ?? schedule), now) ?? null;
  } catch (error) {
    if (error instanceof CronError) return null;
    throw error;
  }
}

/** The job scheduler of a source's refresh. */
export const schedulerIdOf = (sourceId: string) => `source-${sourceId}`;
