/**
 * Many pipelines and failed redeploys, on Temporal's test server over the cluster model: ownership
 * claims before anything destructive, a redeploy recorded as a plan and rolled back whatever stage it
 * fails at, never RUNNING with a job stopped, requests validated (update and signal), bad input failing
 * the workflow instead of its task.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { PipelineStatus } from '../../src/core/state';
import { redeploySignal, redeployUpdate, savepointUpdate, statusQuery } from '../../src/workflows/definitions';
import { PipelineWorkflow } from '../../src/workflows/pipeline';
import { ClusterModel, testSpec } from './doubles';
import { bundle, env, rejection, running, until, waitFor, withPipeline } from './harness';

jest.setTimeout(120_000);

const v2 = (over: Record<string, unknown> = {}) => testSpec({ version: 2, jobs: { ads: { parallelism: 2 } }, ...over });
const steps = (s: PipelineStatus) => (s.redeployPlan?.steps ?? []).map((st) => `${st.n} ${st.kind}${st.job ? ` ${st.job}` : ''}: ${st.status}`);

describe('ownership', () => {
  test('a pipeline naming another’s Fluss database is BLOCKED naming the owner; nothing is reset; its own names deploy', async () => {
    const first = new ClusterModel();
    const second = new ClusterModel();
    second.claims = first.claims; // one sink, one registry
    await withPipeline(first, testSpec({ name: 'sgcc' }), async (a) => {
      await waitFor(a, 'sgcc RUNNING', running);
      await withPipeline(second, testSpec({ name: 'other', fluss: { cluster: 'local', database: 'sgcc' } }), async (b) => {
        const s = await waitFor(b, 'other BLOCKED', (x) => x.state === 'BLOCKED');
        expect(s.reason).toMatch(/Fluss database sgcc \(spec field fluss\.database\) belongs to pipeline sgcc/);
        expect(s.reason).toMatch(/gridflow decommission --name sgcc --drop-slots/);
        expect(second.calls).not.toContain('resetOutputs');
        expect(second.calls).not.toContain('prepareSource');
        expect(second.submissions).toHaveLength(0);
      });
      await withPipeline(second, testSpec({ name: 'other' }), async (b) => {
        const s = await waitFor(b, 'other RUNNING', running);
        expect(s.outputs).toEqual({ flussDatabase: 'other', sinkSchema: 'dw_other' });
      });
      expect(first.claims.filter((c) => c.kind === 'fluss-database').map((c) => `${c.name}:${c.pipeline}`).sort()).toEqual(['other:other', 'sgcc:sgcc']);
      expect((await a.query(statusQuery)).state).toBe('RUNNING');
    });
  });

  test('the claim comes before every step that creates or drops', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const claim = model.calls.indexOf('claimOwnership');
      expect(claim).toBeGreaterThan(model.calls.indexOf('preflightSource'));
      for (const later of ['prepareSource', 'prepareSink', 'resetOutputs', 'createFlussTables']) expect(model.calls.indexOf(later)).toBeGreaterThan(claim);
    });
  });
});

describe('a failed redeploy never leaves a job stopped behind RUNNING', () => {
  test('Fluss DDL fails after the stop: rolled back from the stop savepoint, the plan says which step failed', async () => {
    const model = new ClusterModel();
    model.failFlussDdl = (version) => (version === 2 ? 'SQL validation failed: Encountered "order"' : null);
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      expect(outcome).toMatchObject({ outcome: 'rolled-back', jobs: ['ads'] });
      expect(outcome.reason).toMatch(/Encountered "order"/);
      const ads = model.submissions.filter((x) => x.job === 'ads');
      expect(ads.map((x) => x.version)).toEqual([1, 1]);
      expect(ads[1].restorePath).toMatch(/^file:\/\/\/sp\/ads\/savepoint-/);
      const s = await waitFor(handle, 'RUNNING v1', running);
      expect(s.version).toBe(1);
      expect(steps(s)).toEqual([
        '1 stop ads: done',
        '2 tables: failed',
        '3 slots: skipped',
        '4 submit ads: skipped',
        '5 await: skipped',
        '6 cancel-new: skipped', // nothing of v2 was submitted
        '7 slots-old: done',
        '8 restore-old ads: done',
        '9 await-old: done',
      ]);
      expect(s.redeployPlan!.steps[1].note).toMatch(/Encountered "order"/);
      expect(model.live()).toHaveLength(4);
    });
  });

  test('no task slots for the new parallelism on a cluster gridflow does not run: rolled back', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ provisioner: 'none' }), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2({ provisioner: 'none', jobs: { dws: { parallelism: 9 } } }) as never }] });
      expect(outcome.outcome).toBe('rolled-back');
      expect(outcome.reason).toMatch(/task slot\(s\) missing/);
      const s = await waitFor(handle, 'RUNNING v1', running);
      expect(steps(s).slice(0, 3)).toEqual(['1 stop dws: done', '2 tables: done', '3 slots: failed']);
      expect(model.live('dws')[0].version).toBe(1);
    });
  });

  test('a submit error: rolled back', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.failSubmitOnce.ads = 'SQL validation failed: Unsupported option';
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      expect(outcome.outcome).toBe('rolled-back');
      const s = await waitFor(handle, 'RUNNING v1', running);
      expect(steps(s)).toContain('4 submit ads: failed');
      expect(model.live('ads')[0].version).toBe(1);
    });
  });

  test('the rollback fails too: DEGRADED naming the stopped job, and the watch keeps saying so', async () => {
    const model = new ClusterModel();
    model.failFlussDdl = (version) => (version === 2 ? 'Fluss coordinator unreachable' : null);
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      // The old version's resubmission fails as well (the gateway went away with Fluss): the first
      // submit of ads from here on is the rollback's.
      model.failSubmitOnce.ads = 'SQL Gateway unreachable';
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      expect(outcome.outcome).toBe('failed');
      expect(outcome.reason).toMatch(/ads \(restore point file:\/\/\/sp\/ads\/savepoint-/);
      const s = await handle.query(statusQuery);
      expect(s.state).toBe('DEGRADED');
      expect(s.reason).toMatch(/job\(s\) stopped and not running: ads/);
      // Rounds of the watch later: still DEGRADED, the stopped job named; never RUNNING.
      // (Waited for, not queried once: a round's transition comes after its observation moved the clock.)
      const rounds = model.now;
      await until(() => model.now > rounds + 3000);
      const seen: string[] = [];
      const later = await waitFor(handle, 'the watch naming the stopped job', (x) => (seen.push(x.state), /ads: stopped and not restarted/.test(x.reason ?? '')));
      expect(seen).not.toContain('RUNNING');
      expect(later.state).toBe('DEGRADED');
      expect(later.reason).toMatch(/ads: stopped and not restarted .*gridflow redeploy --jobs ads/);
      // The operator's way out: redeploy the job; it starts from its stop savepoint.
      const again = await handle.executeUpdate(redeployUpdate, { args: [{ jobs: ['ads'] }] });
      expect(again.outcome).toBe('deployed');
      await waitFor(handle, 'RUNNING', running);
      expect(model.live('ads')[0].restoredFrom).toMatch(/^file:\/\/\/sp\/ads\/savepoint-/);
    });
  });
});

describe('requests that cannot break the invariants', () => {
  test.each([
    [{ fluss: { cluster: 'east' } }, /a redeploy cannot change fluss\.cluster \(local → east\)/],
    [{ flink: 'east' }, /a redeploy cannot change flink\.cluster \(local → east\)/],
    // An address where a cluster name belongs is refused before anything moves (issue 11).
    [{ flink: { restUrl: 'http://10.0.0.9:8081', gatewayUrl: 'http://127.0.0.1:8083' } }, /flink: addresses \(restUrl, gatewayUrl\) do not belong in a spec/],
    [{ flink: 'http://10.0.0.9:8081' }, /flink: "http:\/\/10\.0\.0\.9:8081" is an address; name a cluster/],
    [{ fluss: { bootstrap: '10.0.0.9:9123' } }, /fluss\.bootstrap: an address does not belong in a spec/],
    [{ fluss: { cluster: 'local', database: 'order' } }, /cannot change fluss\.database \(wf → order\)/],
    [{ sink: { connection: 'sink', schema: 'dw' } }, /cannot change sink\.schema \(dw_wf → dw\)/],
    [{ source: { connection: 'source_admin', cdcConnection: 'source_admin' } }, /cannot change source\.cdcConnection/],
  ])('a redeploy moving the pipeline elsewhere is refused: %j', async (over, message) => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ spec: v2(over) as never }] }))).toMatch(message);
      expect(model.submissions).toHaveLength(4);
      expect((await handle.query(statusQuery)).version).toBe(1);
    });
  });

  test('an unknown mode or job is refused by the validator', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ mode: 'yolo' as never }] }))).toMatch(/mode "yolo" is not one of savepoint, last-state/);
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ mode: 'stateless' as never }] }))).toMatch(/mode "stateless" is not one of/);
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ jobs: ['ads', 'ads'] }] }))).toMatch(/a job is named twice/);
      expect(model.submissions).toHaveLength(4);
    });
  });

  test.each([
    ['jobs as a string', { jobs: 'ads' }, /jobs must be a non-empty list of at most 4/],
    ['jobs with a number', { jobs: ['ads', 7] }, /jobs: 7 is not one of ingest, dws, ads, sink/],
    ['mode as a number', { mode: 3 }, /mode 3 is not one of savepoint, last-state/],
    ['spec as a number', { spec: 42 }, /spec must be a pipeline spec \(an object\)/],
    ['spec as a string', { spec: 'name: sgcc' }, /spec must be a pipeline spec/],
    ['spec with a wrong type', { spec: { ...testSpec(), version: 'two' } }, /invalid pipeline spec: version: Expected number, received string/],
    ['spec with a huge string', { spec: { ...testSpec(), name: 'x'.repeat(100_000) } }, /the redeploy request is \d+ bytes; at most 65536/],
    ['request id as an object', { requestId: { id: 1 } }, /requestId must be 1–100 characters/],
    ['a list instead of a request', [1, 2], /the redeploy request must be an object/],
  ])('a raw client sending %s gets the reason from the validator, nothing moves', async (_what, payload, message) => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [payload as never] }))).toMatch(message);
      expect(await rejection(handle.executeUpdate(savepointUpdate, { args: [{ jobs: 'sink' } as never] }))).toMatch(/jobs must be a non-empty list/);
      expect(model.submissions).toHaveLength(4);
      expect((await handle.query(statusQuery)).state).toBe('RUNNING');
    });
  });

  test('a redeploy signal runs once per request id; a bad one is rejected in status and alerts', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(redeploySignal, { spec: v2() as never, requestId: 'ci-42' });
      await waitFor(handle, 'v2 RUNNING', (s) => s.version === 2 && running(s) && s.lastRedeploy?.outcome === 'deployed');
      expect(model.submissions).toHaveLength(5);
      expect((await handle.query(statusQuery)).redeployPlan?.requestId).toBe('ci-42');
      await handle.signal(redeploySignal, { spec: v2() as never, requestId: 'ci-42', jobs: ['ads'] });
      await handle.signal(redeploySignal, { requestId: 'ci-43', mode: 'sideways' as never });
      // An address where a cluster name belongs: refused like any other bad field, nothing sent anywhere.
      await handle.signal(redeploySignal, { spec: v2({ version: 3, flink: 'http://10.0.0.9:8081' }) as never, requestId: 'ci-44' });
      const s = await waitFor(handle, 'the rejections', (x) => (x.redeployRejections ?? []).length > 1);
      expect(s.redeployRejections!.find((r) => r.requestId === 'ci-43')).toMatchObject({ reason: expect.stringMatching(/mode "sideways" is not one of/) });
      expect(s.redeployRejections!.find((r) => r.requestId === 'ci-44')).toMatchObject({ reason: expect.stringMatching(/flink: "http:\/\/10\.0\.0\.9:8081" is an address/) });
      expect(s.version).toBe(2);
      expect(s.alerts[0]).toMatchObject({ kind: 'redeploy-rejected' });
      expect(model.submissions).toHaveLength(5); // ci-42 again was a no-op
      await until(() => model.events.some((e) => e.kind === 'alert' && /ci-43 rejected/.test(e.message)));
    });
  });

  test('invalid workflow input fails the workflow with the reason instead of retrying its task forever', async () => {
    const taskQueue = `wf-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: new ClusterModel().activities() });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(PipelineWorkflow, {
        taskQueue,
        workflowId: `pipeline:bad-${randomUUID().slice(0, 8)}`,
        args: [{ spec: testSpec({ watch: { checkpointStallAfter: '1s' }, checkpointInterval: '10s' }) as never }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/watch\.checkpointStallAfter: 1s must be longer than checkpointInterval/);
    });
  });
});
