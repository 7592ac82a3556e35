/**
 * Every UTC calendar day from `sinceIso`'s day to `now`'s, as YYYY-MM-DD (the server groups by UTC
 * day): a chart's time axis shows days with nothing on them too, so one busy day is one bar among thirty.
 */
export function utcDaysSince(sinceIso: string, now: Date = new Date()): string[] {
  const start = new Date(sinceIso);
  if (Number.isNaN(start.getTime())) return [];
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  const last = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days: string[] = [];
  for (; day.getTime() <= last; day.setUTCDate(day.getUTCDate() + 1)) days.push(day.toISOString().slice(0, 10));
  return days;
}
