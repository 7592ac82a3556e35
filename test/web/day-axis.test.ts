import { describe, expect, it } from 'vitest';
import { utcDaysSince } from '../../web/src/utils/day-axis.ts';

describe('the analytics time axis', () => {
  it('lists every UTC day of the period, the empty ones too, across month ends', () => {
    const days = utcDaysSince('2026-02-26T15:00:00.000Z', new Date('2026-03-02T01:00:00.000Z'));
    expect(days).toEqual(['2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
  });

  it('gives thirty-one days for "the last 30 days" and nothing for a missing start', () => {
    const now = new Date('2026-12-03T18:00:00.000Z');
    expect(utcDaysSince(new Date(now.getTime() - 30 * 86_400_000).toISOString(), now)).toHaveLength(31);
    expect(utcDaysSince('', now)).toEqual([]);
  });
});
