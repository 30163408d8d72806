import { DEFAULT_RESTART_POLICY, describeSupervision, emptyRecord, onExit, onRestarted } from '../../../src/core/supervise';

const policy = { initialBackoffMs: 1000, maxBackoffMs: 8000, maxRestarts: 3, windowMs: 60_000 };

test('each exit within the window doubles the backoff, capped', () => {
  let rec = emptyRecord();
  const delays: number[] = [];
  for (const t of [0, 1, 2]) {
    const { decision, record } = onExit(rec, t * 1000, { ...policy, maxRestarts: 10 });
    expect(decision.action).toBe('restart');
    if (decision.action === 'restart') delays.push(decision.delayMs);
    rec = onRestarted(record, t * 1000 + 500);
  }
  expect(delays).toEqual([1000, 2000, 4000]);
  let capped = rec;
  for (let t = 3; t < 8; t++) capped = onRestarted(onExit(capped, t * 1000, { ...policy, maxRestarts: 10 }).record, t * 1000);
  const last = onExit(capped, 9000, { ...policy, maxRestarts: 20 }).decision;
  expect(last).toMatchObject({ action: 'restart', delayMs: 8000 });
  expect(capped.restarts).toBe(8);
});

test('exits outside the window are forgotten: a component that died once a day is never given up on', () => {
  let rec = emptyRecord();
  for (let day = 0; day < 10; day++) {
    const { decision, record } = onExit(rec, day * 86_400_000, policy);
    expect(decision).toMatchObject({ action: 'restart', delayMs: 1000 });
    rec = onRestarted(record, day * 86_400_000 + 2000);
  }
  expect(rec.restarts).toBe(10);
});

test('more exits than allowed within the window: given up, with the reason, and no restart due', () => {
  let rec = emptyRecord();
  for (let i = 0; i < 3; i++) rec = onRestarted(onExit(rec, i * 1000, policy).record, i * 1000 + 100);
  const { decision, record } = onExit(rec, 3500, policy);
  expect(decision.action).toBe('give-up');
  expect(record.gaveUp?.reason).toMatch(/exited 4 times within 1 min; not restarted again \(run `gridflow stack up` after fixing the cause\)/);
  expect(record.restartDueAt).toBeUndefined();
  expect(describeSupervision(record, 4000)).toMatch(/^gave up: exited 4 times/);
});

test('what stack status says', () => {
  expect(describeSupervision(undefined, 0)).toBe('');
  expect(describeSupervision(emptyRecord(), 0)).toBe('');
  const due = onExit(emptyRecord(), 10_000, DEFAULT_RESTART_POLICY).record;
  expect(describeSupervision(due, 10_200)).toBe('exited; restart in 1 s');
  expect(describeSupervision(onRestarted(due, 12_000), 72_000)).toBe('1 restart, last 60 s ago');
  expect(describeSupervision(onRestarted(onRestarted(due, 12_000), 12_000), 12_000 + 600_000)).toBe('2 restarts, last 10 min ago');
});
