/**
 * The pipeline workflow on a verification that finds the sink different (issue 22): DEGRADED at once,
 * a repair by repair.policy — the sink rebuilt beside the tables readers use, switched once proven
 * equal — and the bounds: a failed repair leaves readers untouched, says why, and is not retried by
 * itself. Activities are the cluster model's (./doubles.ts); test/e2e/repair.test.ts runs the real thing.
 */
import { pauseUpdate, repairUpdate, statusQuery, verificationSignal } from '../../src/workflows/definitions';
import type { VerificationSummary } from '../../src/core/types';
import { ClusterModel, testSpec } from './doubles';
import { rejection, running, waitFor, withPipeline } from './harness';

const differs = (model: ClusterModel, runId: string, rows = 2): VerificationSummary => ({
  runId,
  at: model.now,
  ok: false,
  freshnessMs: 800,
  summary: `dws_region_stats: ${rows} different (running_count ${rows}); e.g. 华北`,
  difference: { compared: true, rows, tables: ['dws_region_stats'] },
});
const equal = (model: ClusterModel, runId: string): VerificationSummary => ({
  runId,
  at: model.now,
  ok: true,
  freshnessMs: 800,
  summary: 'PASS',
  difference: { compared: true, rows: 0, tables: [] },
});

describe('a sink that differs from the contract', () => {
  test('DEGRADED naming it, then repaired by itself: rebuilt beside, switched once equal, sink restarted from the shadow, RUNNING', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.differs.dw_wf = 2;
      const sinkBefore = model.live('sink')[0].jobId;
      await handle.signal(verificationSignal, differs(model, 'v1'));
      const done = await waitFor(handle, 'repaired', (s) => s.repair?.outcome === 'repaired', 60_000);
      // Every forward step ran, in the planner's order; no compensation.
      expect(done.repair!.plan.steps.filter((s) => !s.rollback).map((s) => [s.kind, s.status])).toEqual(
        ['claim-shadow', 'shadow-tables', 'shadow-submit', 'shadow-equal', 'shadow-stop', 'live-stop', 'switch', 'live-start', 'prove', 'cleanup'].map((k) => [k, 'done']),
      );
      expect(done.repair!.plan.steps.filter((s) => s.rollback).every((s) => s.status === 'skipped')).toBe(true);
      expect(done.repair).toMatchObject({ trigger: 'auto', from: 'ads' });
      expect(done.repair!.readersFrozenMs).not.toBeNull();
      // The shadow was compared before the switch, the live tables after it; the shadow job stopped with a savepoint.
      const compares = model.calls.filter((c) => c.startsWith('compareSink'));
      expect(compares[0]).toBe('compareSink dw_wf_repair');
      expect(compares[compares.length - 1]).toBe('compareSink dw_wf');
      expect(model.calls.indexOf('switchSinkTables')).toBeGreaterThan(model.calls.indexOf('compareSink dw_wf_repair'));
      expect(model.shadow?.state).toBe('FINISHED');
      // The pipeline's sink job continues from the shadow's savepoint: what the new tables hold.
      const sinkNow = model.live('sink');
      expect(sinkNow).toHaveLength(1);
      expect(sinkNow[0].jobId).not.toBe(sinkBefore);
      expect(sinkNow[0].restoredFrom).toBe(model.shadow!.savepoints[0].path);
      expect(done.sinkDifference).toBeNull();
      expect(done.lastEqualAt).not.toBeNull();
      expect(done.alerts.some((a) => a.kind === 'repaired')).toBe(true);
      const after = await waitFor(handle, 'RUNNING again', (s) => s.state === 'RUNNING');
      expect(after.reason).toBeNull();
      expect(model.events.some((e) => e.kind === 'state' && /^DEGRADED: sink differs from the contract: 2 rows in 1 table \(dws_region_stats\)/.test(e.message))).toBe(true);
    });
  });

  test('policy ask: DEGRADED and the command named, nothing rebuilt until an operator asks; a verification that finds it equal clears it', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ repair: { policy: 'ask' } }), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(verificationSignal, differs(model, 'v1'));
      const s = await waitFor(handle, 'DEGRADED', (x) => x.state === 'DEGRADED');
      expect(s.reason).toMatch(/^sink differs from the contract: 2 rows in 1 table \(dws_region_stats\) since .*; never proven equal yet/);
      expect(s.sinkDifference).toMatchObject({ rows: 2, tables: ['dws_region_stats'], runId: 'v1' });
      expect(model.calls).not.toContain('claimShadow');
      // A dry run plans, shows every step, and changes nothing.
      const planned = await handle.executeUpdate(repairUpdate, { args: [{ dryRun: true }] });
      expect(planned.outcome).toBe('planned');
      expect(planned.plan.steps.length).toBe(13);
      expect(model.calls).not.toContain('claimShadow');
      // A later verification that finds the sink equal: RUNNING, last proven equal recorded.
      const proven = equal(model, 'v2');
      await handle.signal(verificationSignal, proven);
      const ok = await waitFor(handle, 'RUNNING', (x) => x.state === 'RUNNING');
      expect(ok.sinkDifference).toBeNull();
      expect(ok.lastEqualAt).toBe(proven.at);
    });
  });

  test('a repair that fails before the switch leaves readers untouched, says why (DEGRADED, alert), and is not retried by itself', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.failShadow = 'dw_wf.ads_grid_dashboard is used by view public.wall (on dw_wf.ads_grid_dashboard)';
      const sinkBefore = model.live('sink')[0].jobId;
      await handle.signal(verificationSignal, differs(model, 'v1'));
      const s = await waitFor(handle, 'failed', (x) => x.repair?.outcome === 'failed', 60_000);
      expect(s.state).toBe('DEGRADED');
      expect(s.reason).toMatch(/failed .*readers kept the tables they had: .*view public\.wall/);
      expect(s.alerts[0]).toMatchObject({ kind: 'repair-failed' });
      expect(model.switches).toBe(0);
      expect(model.live('sink').map((j) => j.jobId)).toEqual([sinkBefore]);
      expect(s.repair!.plan.steps.find((x) => x.kind === 'drop-shadow')?.status).toBe('done');
      // The same difference seen again: no second automatic repair.
      await handle.signal(verificationSignal, differs(model, 'v2'));
      await waitFor(handle, 'v2 seen', (x) => x.lastVerification?.runId === 'v2');
      const again = await handle.query(statusQuery);
      expect(again.repair!.id).toBe(s.repair!.id);
      expect(model.calls.filter((c) => c === 'claimShadow')).toHaveLength(1);
      // An operator may ask again; a rebuild from a layer this version cannot rebuild yet is refused, naming the way out.
      const refused = await rejection(handle.executeUpdate(repairUpdate, { args: [{ from: 'dwd' }] }));
      expect(refused).toMatch(/not available in this version.*--from source rebuilds everything/);
    });
  });

  test('data wrong in Fluss: the rebuild from Fluss, caught up, still differs, so one from the source follows by itself, and that one is equal', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.flussDiffers = 2;
      model.differs.dw_wf = 2;
      const before = model.live().map((j) => j.jobId);
      await handle.signal(verificationSignal, differs(model, 'v1'));
      const done = await waitFor(handle, 'rebuilt from the source', (s) => s.repair?.from === 'source' && s.repair.outcome !== 'running', 90_000);
      expect({ outcome: done.repair!.outcome, note: done.repair!.note }).toMatchObject({ outcome: 'repaired' });
      // First the rebuild from Fluss: its shadow never became equal, nothing was switched; then the source.
      const notEqual = done.alerts.find((a) => a.kind === 'repair-not-equal');
      expect(notEqual?.message).toMatch(/from ads\) did not make the sink equal.*caught up with Fluss and still differs.*Fluss itself holds the difference/);
      expect(done.repair!.reason).toMatch(/from the source: the rebuild from Fluss \(repair .*\) did not make it equal/);
      // The rebuild from the source is a new version beside the live one: compared, then one switch.
      expect(model.calls.indexOf('claimVersion 1')).toBeGreaterThan(model.calls.indexOf('compareSink dw_wf_repair'));
      expect(model.calls.indexOf('switchVersion 0→1')).toBeGreaterThan(model.calls.lastIndexOf('compareSink dw_wf_v1'));
      expect(model.calls).not.toContain('resetSource');
      expect(model.switches).toBe(1);
      // Every job is a new instance of generation 1, without state; the version that was wrong is released at once.
      const now = model.live();
      expect(now.map((j) => j.name).sort()).toEqual(['gridflow/wf/v1/ads', 'gridflow/wf/v1/dws', 'gridflow/wf/v1/ingest', 'gridflow/wf/v1/sink']);
      expect(now.some((j) => before.includes(j.jobId))).toBe(false);
      expect(now.every((j) => j.restoredFrom === null)).toBe(true);
      expect(done.repair!.readersFrozenMs).toBe(0);
      expect(model.droppedVersions).toEqual([0]);
      expect(done.parked).toBeNull();
      expect(done.sinkDifference).toBeNull();
      await waitFor(handle, 'RUNNING', (s) => s.state === 'RUNNING', 30_000);
      expect(done.alerts.map((a) => a.kind)).toEqual(expect.arrayContaining(['repair-not-equal', 'repaired']));
    });
  }, 240_000);

  test('a job read past what Fluss still had: rebuilt from the source by itself, without waiting for a verification; the loss is forgotten after', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.failJob('sink', 'org.apache.fluss.exception.FetchException: fetching offset 5784 is out of range for table bucket 3');
      const done = await waitFor(handle, 'rebuilt from the source', (s) => s.repair?.from === 'source' && s.repair.outcome !== 'running', 60_000);
      expect({ outcome: done.repair!.outcome, note: done.repair!.note }).toMatchObject({ outcome: 'repaired' });
      expect(done.repair!.reason).toMatch(/Fluss lost data a job had read/);
      expect(model.calls).toContain('switchVersion 0→1');
      const after = await waitFor(handle, 'RUNNING again', (s) => s.state === 'RUNNING', 30_000);
      expect(after.reason).toBeNull();
      expect(after.generation).toBe(1);
      // Once: the next rounds do not rebuild again.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(model.calls.filter((c) => c.startsWith('claimVersion'))).toHaveLength(1);
    });
  });

  test('a paused pipeline: a difference a verification finds is not remembered (its sink is behind on purpose), nothing is rebuilt', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.executeUpdate(pauseUpdate);
      await handle.signal(verificationSignal, differs(model, 'v1'));
      const s = await waitFor(handle, 'seen', (x) => x.lastVerification?.runId === 'v1');
      expect(s.sinkDifference).toBeNull();
      expect(s.state).toBe('PAUSED');
      expect(model.calls).not.toContain('claimShadow');
    });
  });
});
