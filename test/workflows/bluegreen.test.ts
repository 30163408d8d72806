/**
 * Blue/green redeploys and rollbacks on the pipeline workflow (issue 23): the new version runs beside
 * the live one under names of its own, is proven equal before readers switch, the old one is parked for
 * the rollback window and then released; a version that is not equal never reaches readers. Activities
 * are the cluster model's (./doubles.ts); test/e2e/bluegreen.test.ts runs the real thing.
 */
import { redeployUpdate, rollbackUpdate } from '../../src/workflows/definitions';
import { parseSpec } from '../../src/core/spec';
import { ClusterModel, testSpec } from './doubles';
import { env, rejection, running, waitFor, withPipeline } from './harness';
import { saveHistory } from './histories/record';

const FORWARD = ['claim-version', 'prepare-source', 'version-tables', 'tables', 'slots', 'submit', 'submit', 'submit', 'submit', 'await', 'catch-up', 'verify', 'switch', 'stop-old'];

describe('a blue/green redeploy', () => {
  test('the new version beside the old, proven equal, then readers switched; the old parked, then released after its window', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ redeploy: { strategy: 'blue-green', rollbackWindow: '5s' } }), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const oldIds = ['ingest', 'dws', 'ads', 'sink'].map((j) => model.live(j as never)[0].jobId);
      const next = parseSpec(testSpec({ version: 2, redeploy: { strategy: 'blue-green', rollbackWindow: '5s' } }));
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: next, requestId: 'bg-1' }] });
      expect(outcome).toMatchObject({ outcome: 'deployed', strategy: 'blue-green', fromVersion: 1, toVersion: 2 });
      const s = await waitFor(handle, 'RUNNING on generation 1', (x) => x.state === 'RUNNING' && x.generation === 1);
      expect(s.plan!.steps.filter((x) => !x.rollback).map((x) => [x.kind, x.status])).toEqual(FORWARD.map((k) => [k, 'done']));
      // The new version's jobs have names of their own; the old ones stopped with savepoints (not cancelled).
      expect(s.jobs.map((j) => j.flinkName)).toEqual(['gridflow/wf/v1/ingest', 'gridflow/wf/v1/dws', 'gridflow/wf/v1/ads', 'gridflow/wf/v1/sink']);
      for (const id of oldIds) expect(model.jobs.find((j) => j.jobId === id)!.state).toBe('FINISHED');
      // The new version's tables were compared before the switch, and nothing of the old was touched until it.
      const calls = model.calls;
      expect(calls.indexOf('compareSink dw_wf_v1')).toBeGreaterThan(-1);
      expect(calls.indexOf('switchVersion 0→1')).toBeGreaterThan(calls.lastIndexOf('compareSink dw_wf_v1'));
      expect(s.parked).toMatchObject({ version: 1, generation: 0 });
      expect(s.outputs).toEqual({ flussDatabase: 'wf_v1', sinkSchema: 'dw_wf' });
      // After the window, the old version's objects go.
      await waitFor(handle, 'released', (x) => x.parked === null, 60_000);
      expect(model.droppedVersions).toEqual([0]);
    });
  });

  test('a new version that is not equal to the contract never reaches readers: dropped, the old untouched, an alert', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ redeploy: { strategy: 'blue-green', timeout: '30s' } }), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const oldIds = ['ingest', 'dws', 'ads', 'sink'].map((j) => model.live(j as never)[0].jobId);
      model.versionDiffers = 3;
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: parseSpec(testSpec({ version: 2, redeploy: { strategy: 'blue-green', timeout: '30s' } })) }] });
      expect(outcome.outcome).toBe('rolled-back');
      expect(outcome.reason).toMatch(/was not switched to: .*caught up with the source and still differs from the contract in the same rows.*computes something else.*readers stayed on v1/);
      const s = await waitFor(handle, 'RUNNING', (x) => x.state === 'RUNNING');
      expect(s.generation).toBe(0);
      expect(model.calls.some((c) => c.startsWith('switchVersion'))).toBe(false);
      expect(model.droppedVersions).toEqual([1]);
      // The old version never stopped.
      for (const id of oldIds) expect(model.live().some((j) => j.jobId === id)).toBe(true);
      expect(model.live().filter((j) => j.name.includes('/v1/'))).toHaveLength(0);
      expect(s.plan!.steps.filter((x) => x.rollback).map((x) => [x.kind, x.status])).toEqual([
        ['cancel-new', 'done'],
        ['drop-new', 'done'],
      ]);
      expect(s.alerts.some((a) => a.kind === 'redeploy-rolled-back')).toBe(true);
      expect(s.parked).toBeNull();
    });
  });

  test('a rollback within the window returns readers to the old version, from the savepoints it stopped with', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ redeploy: { strategy: 'blue-green', rollbackWindow: '1h' } }), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(await rejection(handle.executeUpdate(rollbackUpdate, { args: [{}] }))).toMatch(/no earlier version to go back to/);
      await handle.executeUpdate(redeployUpdate, { args: [{ spec: parseSpec(testSpec({ version: 2, redeploy: { strategy: 'blue-green', rollbackWindow: '1h' } })) }] });
      const after = await waitFor(handle, 'generation 1', (x) => x.generation === 1 && x.state === 'RUNNING');
      expect(after.parked).toMatchObject({ generation: 0 });
      const back = await handle.executeUpdate(rollbackUpdate, { args: [{ requestId: 'rb-1' }] });
      expect(back).toMatchObject({ outcome: 'deployed', toVersion: 1 });
      const s = await waitFor(handle, 'generation 0 again', (x) => x.generation === 0 && x.state === 'RUNNING');
      expect(s.plan).toMatchObject({ direction: 'rollback' });
      expect(s.plan!.steps.map((x) => x.kind)).not.toContain('prepare-source');
      // The old version's jobs started from the savepoints they stopped with; generation 1 is parked now.
      const restored = model.live().filter((j) => j.name.startsWith('gridflow/wf/') && !j.name.includes('/v1/'));
      expect(restored).toHaveLength(4);
      for (const j of restored) expect(j.restoredFrom).toMatch(/savepoint/);
      expect(s.parked).toMatchObject({ generation: 1, version: 2 });
      expect(model.calls).toContain('switchVersion 1→0');
      // GRIDFLOW_RECORD_HISTORIES=1 stores this run's history for the replay test (on purpose only).
      if (process.env.GRIDFLOW_RECORD_HISTORIES === '1') saveHistory('pipeline-bluegreen-rollback.json', await env.client.workflow.getHandle(handle.workflowId).fetchHistory());
    });
  });

  test('a blue-green request naming jobs or a mode is refused: it moves every job', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const problem = await rejection(handle.executeUpdate(redeployUpdate, { args: [{ strategy: 'blue-green', jobs: ['sink'] }] }));
      expect(problem).toMatch(/jobs and mode are for savepoint redeploys/);
    });
  });
});
