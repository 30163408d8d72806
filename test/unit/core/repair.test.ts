/**
 * Repair's decisions (src/core/repair.ts): what a verification's result does to the remembered
 * difference, when a repair starts by itself (once per difference), what an operator may ask, the plan,
 * and the shadow sink job's rendering (the same operators as the pipeline's sink, another schema and name).
 */
import { RepairRecord, decideLossRepair, decideRepair, differenceSentence, foldVerification, planRepair, repairNames, repairRefusal, verifiedDifference } from '../../../src/core/repair';
import { parseSpec } from '../../../src/core/spec';
import { renderJob } from '../../../src/warehouse/render';
import { parseConnectionUrl } from '../../../src/config';
import { testSpec } from '../../workflows/doubles';

const spec = parseSpec(testSpec());
const run = (rows: number, at = 1_000, compared = true) => ({ runId: `v${at}`, at, summary: `${rows} rows`, difference: { compared, rows, tables: rows ? ['dws_region_stats'] : [] } });
const record = (over: Partial<RepairRecord>): RepairRecord => ({
  id: 'r1',
  trigger: 'auto',
  from: 'ads',
  dryRun: false,
  reason: 'x',
  startedAt: 2_000,
  finishedAt: 3_000,
  outcome: 'failed',
  note: null,
  readersFrozenMs: null,
  plan: planRepair(spec, 'ads'),
  ...over,
});

describe('foldVerification', () => {
  test('a difference starts at its first run and keeps that start; an equal comparison ends it and is the last proof', () => {
    const first = foldVerification(null, 500, run(2, 1_000));
    expect(first.difference).toMatchObject({ since: 1_000, rows: 2, tables: ['dws_region_stats'] });
    expect(first.lastEqualAt).toBe(500);
    const again = foldVerification(first.difference, 500, run(3, 2_000));
    expect(again.difference).toMatchObject({ since: 1_000, rows: 3, runId: 'v2000' });
    const cleared = foldVerification(again.difference, 500, run(0, 3_000));
    expect(cleared).toEqual({ difference: null, lastEqualAt: 3_000 });
  });

  test('a run that could not compare (or one from before this field) changes nothing', () => {
    const d = foldVerification(null, null, run(2)).difference;
    expect(foldVerification(d, 7, run(0, 5_000, false))).toEqual({ difference: d, lastEqualAt: 7 });
    expect(foldVerification(d, 7, { runId: 'old', at: 9, summary: 'FAIL' })).toEqual({ difference: d, lastEqualAt: 7 });
  });

  test('verifiedDifference counts rows (stale ones too) of the tables that differ, and says whether it compared', () => {
    const t = (table: string, m: number, e: number, d: number, s = 0) => ({ table, ok: m + e + d + s === 0, missing: { count: m }, extra: { count: e }, different: { count: d }, stale: { count: s } });
    expect(verifiedDifference({ error: null, attempts: 2, tables: [t('a', 1, 0, 2), t('b', 0, 0, 0), t('c', 0, 0, 0, 1)] })).toEqual({ compared: true, rows: 4, tables: ['a', 'c'] });
    expect(verifiedDifference({ error: 'source down', attempts: 1, tables: [] }).compared).toBe(false);
  });
});

describe('decideRepair', () => {
  const d = foldVerification(null, null, run(2, 1_000)).difference;
  const base = { policy: 'auto' as const, state: 'DEGRADED' as const, difference: d, last: null, busy: false, flussLostData: false };
  test('auto starts once per difference; ask names the command; off and no difference do nothing', () => {
    expect(decideRepair(base)).toMatchObject({ kind: 'start', from: 'ads' });
    expect(decideRepair({ ...base, policy: 'ask' })).toMatchObject({ kind: 'ask', why: expect.stringMatching(/gridflow repair/) });
    expect(decideRepair({ ...base, policy: 'off' })).toBeNull();
    expect(decideRepair({ ...base, difference: null })).toBeNull();
    // A repair that ran since this difference began (and did not make it equal): not again by itself.
    expect(decideRepair({ ...base, last: record({ startedAt: 2_000 }) })).toBeNull();
    // One from before this difference began, or a dry run, does not count.
    expect(decideRepair({ ...base, last: record({ startedAt: 500 }) })?.kind).toBe('start');
    expect(decideRepair({ ...base, last: record({ startedAt: 2_000, dryRun: true, outcome: 'planned' }) })?.kind).toBe('start');
    expect(decideRepair({ ...base, last: record({ outcome: 'running', startedAt: 500 }) })).toBeNull();
  });
  test('from the source when Fluss lost data, or once after a rebuild from Fluss did not make it equal; never a third', () => {
    expect(decideRepair({ ...base, flussLostData: true })).toMatchObject({ kind: 'start', from: 'source', why: expect.stringMatching(/Fluss lost data/) });
    expect(decideRepair({ ...base, last: record({ from: 'ads', outcome: 'not-equal', startedAt: 2_000 }) })).toMatchObject({ kind: 'start', from: 'source' });
    expect(decideRepair({ ...base, last: record({ from: 'source', outcome: 'not-equal', startedAt: 3_000 }) })).toBeNull();
    expect(decideRepair({ ...base, last: record({ from: 'source', outcome: 'failed', startedAt: 3_000 }) })).toBeNull();
    expect(decideRepair({ ...base, policy: 'ask', flussLostData: true })).toMatchObject({ kind: 'ask', why: expect.stringMatching(/--from source/) });
  });
  test('never while the pipeline cannot rebuild: paused, deploying, another change under way', () => {
    for (const state of ['PAUSED', 'DEPLOYING', 'DECOMMISSIONING', 'BLOCKED'] as const) expect(decideRepair({ ...base, state })).toBeNull();
    expect(decideRepair({ ...base, busy: true })).toBeNull();
  });
});

describe('decideLossRepair', () => {
  const base = { policy: 'auto' as const, state: 'DEGRADED' as const, lostAt: 1_000, last: null, busy: false };
  test('a read past what Fluss had: from the source once under auto; not under ask or off, nor again for the same loss', () => {
    expect(decideLossRepair(base)).toMatchObject({ from: 'source', why: expect.stringMatching(/Fluss lost data/) });
    expect(decideLossRepair({ ...base, lostAt: null })).toBeNull();
    expect(decideLossRepair({ ...base, policy: 'ask' })).toBeNull();
    expect(decideLossRepair({ ...base, last: record({ from: 'source', startedAt: 2_000 }) })).toBeNull();
    expect(decideLossRepair({ ...base, last: record({ from: 'ads', startedAt: 2_000 }) })).not.toBeNull();
    expect(decideLossRepair({ ...base, state: 'PAUSED' })).toBeNull();
  });
});

describe('repairRefusal', () => {
  const ok = { state: 'RUNNING' as const, busy: false, running: null };
  test('an unknown layer, a layer not built yet, a repair running, a paused pipeline: each refused with the reason', () => {
    expect(repairRefusal(ok, {})).toBeNull();
    expect(repairRefusal(ok, { from: 'ads' })).toBeNull();
    expect(repairRefusal(ok, { from: 'fluss' })).toMatch(/from must be one of ads, dws, dwd, source, got "fluss"/);
    expect(repairRefusal(ok, { from: 'dwd' })).toMatch(/not available in this version/);
    expect(repairRefusal(ok, { from: 'source' })).toBeNull();
    expect(repairRefusal({ ...ok, running: record({ outcome: 'running' }) }, {})).toMatch(/repair r1 is running/);
    expect(repairRefusal({ ...ok, state: 'PAUSED' }, {})).toMatch(/PAUSED/);
    expect(repairRefusal({ ...ok, busy: true }, {})).toMatch(/another change/);
  });
});

describe('the plan and its sentences', () => {
  test('ten forward steps: nothing readers see changes before the shadow is proven equal', () => {
    const plan = planRepair(spec, 'ads');
    const forward = plan.steps.filter((s) => !s.rollback).map((s) => s.kind);
    expect(forward.indexOf('shadow-equal')).toBeLessThan(forward.indexOf('live-stop'));
    expect(forward.indexOf('live-stop')).toBeLessThan(forward.indexOf('switch'));
    expect(forward.indexOf('switch')).toBeLessThan(forward.indexOf('live-start'));
    expect(plan.steps.filter((s) => s.rollback).map((s) => s.kind)).toEqual(['cancel-shadow', 'restart-live', 'drop-shadow']);
    expect(plan.steps.every((s) => s.status === 'pending')).toBe(true);
  });
  test('from the source: every job stops first, Fluss is rebuilt from a new snapshot, the shadow is switched in the same way', () => {
    const forward = planRepair(spec, 'source').steps.filter((s) => !s.rollback).map((s) => s.kind);
    expect(forward).toEqual(['claim-shadow', 'shadow-tables', 'stop-all', 'reset-source', 'prepare-source', 'tables', 'submit-upstream', 'shadow-submit', 'shadow-equal', 'shadow-stop', 'switch', 'live-start', 'prove', 'cleanup']);
  });
  test('the reason says how much, where, since when and the last proof', () => {
    const d = foldVerification(null, null, run(1, Date.UTC(2026, 11, 7, 18, 0))).difference!;
    expect(differenceSentence(d, null)).toBe('sink differs from the contract: 1 row in 1 table (dws_region_stats) since 2026-12-07T18:00:00.000Z; never proven equal yet');
    expect(differenceSentence(d, Date.UTC(2026, 11, 7, 17, 55))).toMatch(/last proven equal 2026-12-07T17:55:00.000Z$/);
  });
});

describe('the shadow sink job', () => {
  const conns = {
    sourceCdc: parseConnectionUrl('source_cdc', 'postgres://cdc:pw@127.0.0.1:5432/sgcc_source'),
    sink: parseConnectionUrl('sink', 'postgres://writer:pw@127.0.0.1:5432/sgcc_dw'),
    flussBootstrap: '127.0.0.1:9123',
  };
  test('the same statements as the pipeline sink, writing the shadow schema under its own Flink and probe names', () => {
    const names = repairNames(spec);
    const live = renderJob(spec, 'sink', conns);
    const shadow = renderJob(spec, 'sink', conns, undefined, names);
    expect(shadow.flinkName).toBe('gridflow/wf/sink-repair');
    expect(shadow.executionConfig['pipeline.name']).toBe('gridflow/wf/sink-repair');
    expect(shadow.dml).not.toMatch(/'wf'/);
    expect(shadow.dml).toMatch(/'wf_repair'/);
    // Unqualified table names, found first in the shadow schema (src/core/versions.ts).
    expect(shadow.setup.join('\n')).toMatch(/'table-name' = 'ads_grid_dashboard'/);
    expect(shadow.setup.join('\n')).toMatch(/currentSchema=dw_wf_repair_v0%2Cdw_wf_repair%2Cgridflow'/);
    expect(shadow.setup.join('\n')).not.toMatch(/currentSchema=dw_wf_v0/);
    // Statement for statement the same shape: only names and literals differ, so the savepoint restores.
    const shape = (sql: string) => sql.replace(/'[^']*'/g, "''");
    expect(shape(shadow.dml)).toBe(shape(live.dml));
    expect(shadow.setup.map(shape)).toEqual(live.setup.map(shape));
    expect(() => renderJob(spec, 'ads', conns, undefined, names)).toThrow(/only the sink job/);
  });
});
