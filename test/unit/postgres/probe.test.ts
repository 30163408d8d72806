/** The freshness probe's pure parts (src/postgres/probe.ts): its number, and how far behind the sink is by the probes. */
import { PROBE_EPOCH_S } from '../../../src/constants';
import { judgeProbeLag, probeSentAt } from '../../../src/postgres/probe';

test("a probe's number is the second it was sent, after 2020-01-01, to the millisecond", () => {
  expect(probeSentAt('0.000')).toBe(PROBE_EPOCH_S * 1000);
  expect(probeSentAt('218298759.390')).toBe(Date.UTC(2026, 11, 1, 14, 32, 39, 390));
});

describe('judgeProbeLag', () => {
  const p = (sentAt: number, arrivedAt: number | null) => ({ value: String(sentAt), sentAt, arrivedAt });

  test('no probe yet: unknown', () => {
    expect(judgeProbeLag([], 1000)).toEqual({ lagMs: null, newestArrived: null, oldestPending: null });
  });

  test('every probe out: the newest one\'s travel time', () => {
    const lag = judgeProbeLag([p(0, 800), p(10_000, 11_200)], 20_000);
    expect(lag.lagMs).toBe(1200);
    expect(lag.newestArrived).toEqual({ value: '10000', sentAt: 10_000, latencyMs: 1200 });
    expect(lag.oldestPending).toBeNull();
  });

  test('an older probe still travelling: at least as far behind as it has travelled', () => {
    const lag = judgeProbeLag([p(0, 800), p(10_000, null), p(20_000, null)], 45_000);
    expect(lag.lagMs).toBe(35_000);
    expect(lag.oldestPending).toEqual({ value: '10000', sentAt: 10_000 });
  });

  test('a newer probe out means the older ones are too (only the newest is kept on the path)', () => {
    const lag = judgeProbeLag([p(0, null), p(10_000, 11_500)], 12_000);
    expect(lag.lagMs).toBe(1500);
    expect(lag.oldestPending).toBeNull();
  });

  test('just sent, not yet out: the last travel time still counts', () => {
    expect(judgeProbeLag([p(0, 900), p(10_000, null)], 10_050).lagMs).toBe(900);
  });

  test('clocks a little apart never give a negative figure', () => {
    expect(judgeProbeLag([p(1000, 900)], 2000).lagMs).toBe(0);
  });
});
