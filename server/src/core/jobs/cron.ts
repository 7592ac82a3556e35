/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week, in UTC): `*`, numbers,
 * ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`. The subset BullMQ's job schedulers read the
 * same way, so the in-process runner fires on the ticks BullMQ would.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Standard cron: when both day fields are restricted, a day matching either runs. */
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

export class CronError extends Error {}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronError(`"${part}" is not a valid ${field.name}`);
    const [, all, from, to, step] = match;
    const start = all === '*' ? field.min : Number(from);
    const end = all === '*' ? field.max : to !== undefined ? Number(to) : step !== undefined ? field.max : start;
    const by = step !== undefined ? Number(step) : 1;
    if (start < field.min || end > field.max || start > end || by < 1)
      throw new CronError(`"${part}" is out of range for the ${field.name} (${field.min}–${field.max})`);
    for (let v = start; v <= end; v += by) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new CronError('A cron expression has five fields: minute hour day-of-month month day-of-week');
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  return {
    minutes: minutes!,
    hours: hours!,
    days: days!,
    months: months!,
    weekdays: weekdays!,
    daysRestricted: parts[2] !== '*',
    weekdaysRestricted: parts[4] !== '*',
  };
}

function dayMatches(s: CronSchedule, date: Date): boolean {
  const day = s.days.has(date.getUTCDate());
  const weekday = s.weekdays.has(date.getUTCDay());
  if (s.daysRestricted && s.weekdaysRestricted) return day || weekday;
  return day && weekday;
}

/** The first tick strictly after `after` (whole minutes, UTC); undefined if none within about four years. */
export function nextCronTick(schedule: CronSchedule, after: Date): Date | undefined {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 4 * 366 * 24 * 3_600_000;
  while (t.getTime() <= limit) {
    if (!s(schedule.months, t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!s(schedule.hours, t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!s(schedule.minutes, t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else {
      return t;
    }
  }
  return undefined;
}

const s = (set: Set<number>, value: number) => set.has(value);
