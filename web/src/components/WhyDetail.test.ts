import { describe, expect, it } from 'vitest';
import { daysOf } from './WhyDetail';

describe('daysOf', () => {
  it('turns the pipeline’s columns into one row per day of the window', () => {
    const rows = daysOf({
      windowStart: '2026-11-26',
      days: { met: [true, false, true], cpu: [90, null, 85.5], unjudged: [{ date: '2026-11-27', resource: 'cpu', why: 'zero_capacity' }] },
    } as never);
    expect(rows).toEqual([
      { date: '2026-11-26', met: true, snapshot: true, rates: { cpu: 90 }, unjudged: {} },
      { date: '2026-11-27', met: false, snapshot: true, rates: { cpu: null }, unjudged: { cpu: 'zero_capacity' } },
      { date: '2026-11-28', met: true, snapshot: true, rates: { cpu: 85.5 }, unjudged: {} },
    ]);
  });
  it('a day without a rate or an unjudged entry had no snapshot', () => {
    expect(daysOf({ windowStart: '2026-11-26', days: { met: [false], cpu: [null] } } as never)[0].snapshot).toBe(false);
  });
});
