import {
  AlertObservation,
  AlertRules,
  AlertState,
  EVENT_LOOKBACK_MS,
  MAX_LISTED,
  Notification,
  PipelineObservation,
  WarehouseObservation,
  conditionsOf,
  decideAlerts,
  deliveriesFor,
  emptyAlertState,
  enqueue,
  rulesOf,
  testNotification,
} from '../../../src/core/alerts';
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

const T0 = 1_750_000_000_000;
const rules: AlertRules = { overload: true, equipmentAlarm: true, alarmCountAbove: 10, pipeline: true, maxFreshnessMs: 30_000 };

const quietWarehouse = (): WarehouseObservation => ({ overloaded: [], alarming: [], alarmCount: 0 });
const runningPipeline = (): PipelineObservation => ({ state: 'RUNNING', reason: null, lagMs: 800, lastVerification: null, events: [] });
const obs = (at: number, w: Partial<WarehouseObservation> | { error: string } = {}, p: Partial<PipelineObservation> | { error: string } = {}): AlertObservation => ({
  at,
  warehouse: 'error' in w ? (w as { error: string }) : { ...quietWarehouse(), ...w },
  pipeline: 'error' in p ? (p as { error: string }) : { ...runningPipeline(), ...p },
});
const region = (name: string, utilization = '0.9312') => ({ region: name, utilization, currentLoadMw: '931.20', installedCapacityMw: '1000.00' });
const equipment = (id: string) => ({ equipmentId: id, name: `机组 ${id}`, region: '华北', healthScore: 40 });

/** Run a sequence of observations; returns every round's notifications and the last state. */
function run(rounds: AlertObservation[], r = rules, start: AlertState = emptyAlertState()) {
  let state = start;
  const sent: Notification[][] = [];
  for (const o of rounds) {
    const d = decideAlerts(state, o, r, 'sgcc');
    state = d.state;
    sent.push(d.notifications);
  }
  return { state, sent };
}
const brief = (ns: Notification[]) => ns.map((n) => `${n.kind} ${n.keys.join(',')}`);

describe('alert rules', () => {
  test('nothing holds on a quiet warehouse and a RUNNING pipeline', () => {
    expect(conditionsOf(obs(T0), rules)).toEqual([]);
  });

  test('a region with overload_alert true is a critical condition naming its utilization', () => {
    const [c] = conditionsOf(obs(T0, { overloaded: [region('华北')] }), rules);
    expect(c).toMatchObject({ key: 'overload:华北', rule: 'overload', severity: 'critical' });
    expect(c.summary).toContain('0.9312');
  });

  test('each equipment in 告警 is its own condition', () => {
    const keys = conditionsOf(obs(T0, { alarming: [equipment('GEN-0001'), equipment('TRF-0042')] }), rules).map((c) => c.key);
    expect(keys).toEqual(['equipment-alarm:GEN-0001', 'equipment-alarm:TRF-0042']);
  });

  test('alarm count: above the threshold only (equal is not above), off without a threshold, no dashboard row is not zero', () => {
    expect(conditionsOf(obs(T0, { alarmCount: 10 }), rules)).toEqual([]);
    expect(conditionsOf(obs(T0, { alarmCount: 11 }), rules).map((c) => c.key)).toEqual(['alarm-count']);
    expect(conditionsOf(obs(T0, { alarmCount: 500 }), { ...rules, alarmCountAbove: null })).toEqual([]);
    expect(conditionsOf(obs(T0, { alarmCount: null }), { ...rules, alarmCountAbove: 0 })).toEqual([]);
  });

  test('pipeline DEGRADED and BLOCKED carry the reason', () => {
    const [d] = conditionsOf(obs(T0, {}, { state: 'DEGRADED', reason: 'sink restarted 6 times in 10min' }), rules);
    expect(d).toMatchObject({ key: 'pipeline:DEGRADED', rule: 'pipeline-degraded' });
    expect(d.summary).toContain('sink restarted 6 times');
    const [b] = conditionsOf(obs(T0, {}, { state: 'BLOCKED', reason: 'source not ready: wal_level is replica' }), rules);
    expect(b).toMatchObject({ key: 'pipeline:BLOCKED', rule: 'pipeline-blocked' });
  });

  test('falling behind: lag above maxFreshness, not at it, and not while paused', () => {
    expect(conditionsOf(obs(T0, {}, { lagMs: 30_000 }), rules)).toEqual([]);
    expect(conditionsOf(obs(T0, {}, { lagMs: 45_000 }), rules).map((c) => c.key)).toEqual(['falling-behind']);
    expect(conditionsOf(obs(T0, {}, { lagMs: 45_000, state: 'PAUSED' }), rules)).toEqual([]);
  });

  test('verification failed holds until a verification passes; a paused pipeline is expected to fail it', () => {
    const failed = { runId: 'r1', ok: false, at: T0, summary: 'dws_region_stats: 1 differing row' };
    expect(conditionsOf(obs(T0, {}, { lastVerification: failed }), rules).map((c) => c.key)).toEqual(['verification-failed']);
    expect(conditionsOf(obs(T0, {}, { lastVerification: { ...failed, ok: true } }), rules)).toEqual([]);
    expect(conditionsOf(obs(T0, {}, { lastVerification: failed, state: 'PAUSED' }), rules)).toEqual([]);
  });

  test('rules switched off in the spec raise nothing', () => {
    const off = { ...rules, overload: false, equipmentAlarm: false, pipeline: false, alarmCountAbove: null };
    const o = obs(T0, { overloaded: [region('华北')], alarming: [equipment('A')], alarmCount: 99 }, { state: 'DEGRADED', lagMs: 99_000 });
    expect(conditionsOf(o, off)).toEqual([]);
  });

  test('a source that could not be read raises nothing from it', () => {
    expect(conditionsOf(obs(T0, { error: 'connection refused' }, { state: 'DEGRADED' }), rules).map((c) => c.key)).toEqual(['pipeline:DEGRADED']);
    expect(conditionsOf(obs(T0, { overloaded: [region('华东')] }, { error: 'no workflow' }), rules).map((c) => c.key)).toEqual(['overload:华东']);
  });

  test('rulesOf reads the spec field and its defaults', () => {
    const spec = parseSpec(testSpec({ alerts: { webhooks: [{ name: 'ops', format: 'dingtalk' }], alarmCountAbove: 10 } }));
    expect(rulesOf(spec.alerts!, 30_000)).toEqual({ overload: true, equipmentAlarm: true, alarmCountAbove: 10, pipeline: true, maxFreshnessMs: 30_000 });
  });
});

describe('alert transitions', () => {
  test('firing once when a condition starts, nothing while it holds, resolved once when it clears', () => {
    const { sent, state } = run([
      obs(T0),
      obs(T0 + 30_000, { overloaded: [region('华北')] }),
      obs(T0 + 60_000, { overloaded: [region('华北', '0.9500')] }),
      obs(T0 + 90_000, { overloaded: [region('华北', '0.9700')] }),
      obs(T0 + 120_000),
      obs(T0 + 150_000),
    ]);
    expect(sent.map(brief)).toEqual([[], ['firing overload:华北'], [], [], ['resolved overload:华北'], []]);
    const resolved = sent[4][0];
    expect(resolved).toMatchObject({ kind: 'resolved', severity: 'info', since: T0 + 30_000, at: T0 + 120_000 });
    expect(resolved.lines.join(' ')).toContain('held for 90 s');
    expect(state.active).toEqual([]);
  });

  test('a held condition keeps its start and shows its newest summary', () => {
    const { state } = run([obs(T0, { overloaded: [region('华北', '0.9000')] }), obs(T0 + 1000, { overloaded: [region('华北', '0.9900')] })]);
    expect(state.active).toHaveLength(1);
    expect(state.active[0].since).toBe(T0);
    expect(state.active[0].summary).toContain('0.9900');
  });

  test('firing again after it cleared is a new notification with a new id', () => {
    const { sent } = run([obs(T0, { overloaded: [region('华北')] }), obs(T0 + 1), obs(T0 + 2, { overloaded: [region('华北')] })]);
    const ids = sent.flat().map((n) => n.id);
    expect(new Set(ids).size).toBe(3);
    expect(sent.map(brief)).toEqual([['firing overload:华北'], ['resolved overload:华北'], ['firing overload:华北']]);
  });

  test('an unreadable source resolves nothing: its conditions hold until it is read again', () => {
    const { sent, state } = run([
      obs(T0, { overloaded: [region('华北')] }, { state: 'DEGRADED', reason: 'x' }),
      obs(T0 + 1, { error: 'sink down' }, { error: 'temporal down' }),
      obs(T0 + 2, { overloaded: [region('华北')] }, { state: 'DEGRADED', reason: 'x' }),
      obs(T0 + 3, { error: 'sink down' }, {}),
      obs(T0 + 4, {}, {}),
    ]);
    expect(sent.map(brief)).toEqual([
      ['firing overload:华北', 'firing pipeline:DEGRADED'],
      [],
      [],
      ['resolved pipeline:DEGRADED'],
      ['resolved overload:华北'],
    ]);
    expect(state.active).toEqual([]);
  });

  test('equipment entering 告警 in one round are one message; leaving, one message; held ones are quiet', () => {
    const { sent } = run([
      obs(T0, { alarming: [equipment('A'), equipment('B'), equipment('C')] }),
      obs(T0 + 1, { alarming: [equipment('A'), equipment('B'), equipment('C'), equipment('D')] }),
      obs(T0 + 2, { alarming: [equipment('D')] }),
    ]);
    expect(sent[0]).toHaveLength(1);
    expect(sent[0][0]).toMatchObject({ kind: 'firing', rule: 'equipment-alarm', title: '3 equipment entered 告警', keys: ['equipment-alarm:A', 'equipment-alarm:B', 'equipment-alarm:C'] });
    expect(brief(sent[1])).toEqual(['firing equipment-alarm:D']);
    expect(sent[2]).toHaveLength(1);
    expect(sent[2][0]).toMatchObject({ kind: 'resolved', title: 'resolved: 3 equipment left 告警' });
  });

  test('a storm lists at most MAX_LISTED equipment and counts the rest', () => {
    const many = Array.from({ length: MAX_LISTED + 7 }, (_, i) => equipment(`E-${String(i).padStart(3, '0')}`));
    const [n] = decideAlerts(emptyAlertState(), obs(T0, { alarming: many }), rules, 'sgcc').notifications;
    expect(n.keys).toHaveLength(MAX_LISTED + 7);
    expect(n.lines).toHaveLength(MAX_LISTED + 1);
    expect(n.lines[MAX_LISTED]).toBe('… and 7 more');
  });

  test('the alarm-count condition fires above the threshold and resolves at or below it', () => {
    const { sent } = run([obs(T0, { alarmCount: 12 }), obs(T0 + 1, { alarmCount: 15 }), obs(T0 + 2, { alarmCount: 10 })]);
    expect(sent.map(brief)).toEqual([['firing alarm-count'], [], ['resolved alarm-count']]);
  });

  test('DEGRADED → RUNNING resolves; DEGRADED → BLOCKED resolves one and fires the other', () => {
    const { sent } = run([
      obs(T0, {}, { state: 'DEGRADED', reason: 'a' }),
      obs(T0 + 1, {}, { state: 'BLOCKED', reason: 'b' }),
      obs(T0 + 2, {}, { state: 'RUNNING' }),
    ]);
    expect(sent.map(brief)).toEqual([['firing pipeline:DEGRADED'], ['resolved pipeline:DEGRADED', 'firing pipeline:BLOCKED'], ['resolved pipeline:BLOCKED']]);
  });

  test('falling behind and verification failed fire and resolve', () => {
    const bad = { runId: 'r1', ok: false, at: T0, summary: 'late' };
    const { sent } = run([
      obs(T0, {}, { lagMs: 60_000, lastVerification: bad }),
      obs(T0 + 1, {}, { lagMs: 2_000, lastVerification: bad }),
      obs(T0 + 2, {}, { lagMs: 2_000, lastVerification: { ...bad, runId: 'r2', ok: true } }),
    ]);
    expect(sent.map(brief)).toEqual([['firing falling-behind', 'firing verification-failed'], ['resolved falling-behind'], ['resolved verification-failed']]);
  });

  test('pipeline events (rolled back, stateless start) are sent once each; old ones and other kinds are not', () => {
    const rolledBack = { at: T0 + 5_000, kind: 'redeploy-rolled-back', message: 'ads did not reach RUNNING in 3min: rolled back to v1' };
    const stateless = { at: T0 + 6_000, kind: 'stateless-start', message: 'dws starts without state' };
    const ancient = { at: T0 - EVENT_LOOKBACK_MS - 1, kind: 'stateless-start', message: 'long ago' };
    const other = { at: T0 + 5_500, kind: 'verification-failed', message: 'shown as a condition instead' };
    const { sent } = run([
      obs(T0, {}, { events: [ancient] }),
      obs(T0 + 10_000, {}, { events: [stateless, other, rolledBack, ancient] }),
      obs(T0 + 20_000, {}, { events: [stateless, other, rolledBack, ancient] }),
    ]);
    expect(sent[0]).toEqual([]);
    expect(sent[1].map((n) => [n.kind, n.rule, n.lines[0]])).toEqual([
      ['event', 'redeploy-rolled-back', rolledBack.message],
      ['event', 'stateless-start', stateless.message],
    ]);
    expect(sent[2]).toEqual([]);
  });

  test('events seen on the first evaluation: recent ones are sent, older than the lookback are not', () => {
    const recent = { at: T0 - 60_000, kind: 'redeploy-rolled-back', message: 'recent' };
    const old = { at: T0 - EVENT_LOOKBACK_MS - 1000, kind: 'redeploy-rolled-back', message: 'old' };
    const [first] = run([obs(T0, {}, { events: [recent, old] })]).sent;
    expect(first.map((n) => n.lines[0])).toEqual(['recent']);
  });

  test('events are not lost while the pipeline cannot be read', () => {
    const e = { at: T0 + 1500, kind: 'stateless-start', message: 'ingest starts without state' };
    const { sent } = run([obs(T0), obs(T0 + 1000, {}, { error: 'down' }), obs(T0 + 2000, {}, { events: [e] })]);
    expect(sent[2].map((n) => n.lines[0])).toEqual([e.message]);
  });
});

describe('outbox', () => {
  const n = (id: string): Notification => ({ ...testNotification('sgcc', T0, id), id });
  const hooks = [
    { name: 'ops', format: 'dingtalk' as const },
    { name: 'oncall', format: 'generic' as const },
  ];

  test('one delivery per notification and webhook, with ids naming both', () => {
    expect(deliveriesFor([n('a'), n('b')], hooks).map((d) => d.id)).toEqual(['a>ops', 'a>oncall', 'b>ops', 'b>oncall']);
  });

  test('an id already waiting is not added twice', () => {
    const first = enqueue([], deliveriesFor([n('a')], hooks)).outbox;
    expect(enqueue(first, deliveriesFor([n('a'), n('b')], hooks)).outbox.map((d) => d.id)).toEqual(['a>ops', 'a>oncall', 'b>ops', 'b>oncall']);
  });

  test('beyond the bound the oldest are dropped and returned', () => {
    const r = enqueue(deliveriesFor([n('a'), n('b')], hooks), deliveriesFor([n('c')], hooks), 4);
    expect(r.outbox.map((d) => d.id)).toEqual(['b>ops', 'b>oncall', 'c>ops', 'c>oncall']);
    expect(r.dropped.map((d) => d.id)).toEqual(['a>ops', 'a>oncall']);
  });
});
