import { describeError, healthy, safeCheck, statusWord, unhealthy, waitHealthy } from '../../../src/stack/health';

/** A fake clock so the waiting logic is tested without waiting. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('waitHealthy', () => {
  test('returns healthy as soon as a check passes', async () => {
    const c = clock();
    let calls = 0;
    const outcome = await waitHealthy(async () => (++calls < 3 ? unhealthy('starting') : healthy('up')), {
      timeoutMs: 10_000,
      intervalMs: 500,
      ...c,
    });
    expect(outcome).toEqual({ kind: 'healthy', health: healthy('up'), elapsedMs: 1000 });
    expect(calls).toBe(3);
  });

  test('gives up at the timeout with the last failure', async () => {
    const c = clock();
    const outcome = await waitHealthy(async () => unhealthy('connection refused'), { timeoutMs: 2000, intervalMs: 500, ...c });
    expect(outcome.kind).toBe('timeout');
    expect(outcome.health.detail).toBe('connection refused');
    expect(outcome.elapsedMs).toBe(2000);
  });

  test('stops waiting when the process has exited', async () => {
    const c = clock();
    let alive = true;
    const outcome = await waitHealthy(
      async () => {
        alive = false;
        return unhealthy('refused');
      },
      { timeoutMs: 60_000, processAlive: () => alive, ...c },
    );
    expect(outcome.kind).toBe('exited');
  });

  test('a throwing check counts as unhealthy, not a crash', async () => {
    const c = clock();
    let n = 0;
    const outcome = await waitHealthy(
      async () => {
        if (++n === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' });
        return healthy('ok');
      },
      { timeoutMs: 5000, ...c },
    );
    expect(outcome.kind).toBe('healthy');
  });

  test('reports progress between attempts', async () => {
    const c = clock();
    const seen: number[] = [];
    await waitHealthy(async () => unhealthy('x'), { timeoutMs: 1500, intervalMs: 500, onAttempt: (_h, e) => seen.push(e), ...c });
    expect(seen).toEqual([0, 500, 1000]);
  });
});

describe('health helpers', () => {
  test('safeCheck turns errors into unhealthy with the message', async () => {
    expect(await safeCheck(async () => Promise.reject(new Error('boom')))).toEqual(unhealthy('boom'));
  });

  test('describeError uses the first error of an AggregateError (Node happy-eyeballs)', () => {
    const err = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:8081'), { code: 'ECONNREFUSED' })]);
    expect(describeError(err)).toBe('connect ECONNREFUSED ::1:8081');
    expect(describeError(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).toBe('ETIMEDOUT');
  });

  test('statusWord distinguishes ours, stopped and someone else serving the address', () => {
    expect(statusWord(true, healthy('x'))).toBe('healthy');
    expect(statusWord(true, unhealthy('x'))).toBe('unhealthy');
    expect(statusWord(false, unhealthy('x'))).toBe('stopped');
    expect(statusWord(false, healthy('x'))).toBe('external');
  });
});
