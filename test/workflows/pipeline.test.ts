/**
 * PipelineWorkflow against the real Temporal dev server, with activities as plain object literals over
 * an in-memory cluster model (doubles.ts). Every branch of the lifecycle: deploy, blocked preflight,
 * failed submit, watch (failed job, lost jobs, lost TaskManager, duplicates, restart storm, stalled
 * checkpoints), redeploy and rollback, serialised and rejected updates, pause/resume, savepoints with
 * retention, verification alerts, decommission, continue-as-new and a worker restart.
 */
import { SEARCH_ATTRIBUTES } from '../../src/constants';
import { parseSpec } from '../../src/core/spec';
import {
  decommissionSignal,
  pauseUpdate,
  redeployUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
  verificationSignal,
} from '../../src/workflows/definitions';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { PipelineWorkflow } from '../../src/workflows/pipeline';
import { ClusterModel, testSpec } from './doubles';
import { Handle, bundle, env, rejection, running, until, waitFor, withPipeline } from './harness';


describe('deploy', () => {
  test('from empty: jobs submitted once each in dependency order, RUNNING, state in the search attribute', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      const status = await waitFor(handle, 'RUNNING', running);
      expect(model.submissions.map((s) => s.job)).toEqual(['ingest', 'dws', 'ads', 'sink']);
      expect(model.submissions.every((s) => !s.reused && s.restorePath === null)).toBe(true);
      expect(status.jobs.map((j) => j.jobId)).toEqual(model.live().map((j) => j.jobId));
      expect(model.calls).toEqual(expect.arrayContaining(['preflightSource', 'prepareSource', 'prepareSink', 'createFlussTables']));
      // The deploy's notes (states, prepare-source, fresh-start, four submits) went out in one activity.
      await until(() => model.events.some((e) => e.kind === 'state' && e.message === 'RUNNING'));
      expect(model.events.length).toBeGreaterThanOrEqual(7);
      expect(model.eventBatches).toBe(1);
      const description = await handle.describe();
      expect(description.searchAttributes[SEARCH_ATTRIBUTES.state]).toEqual(['RUNNING']);
      // The Temporal UI shows what each step was for, beside the activity's name.
      const summaries = ((await handle.fetchHistory()).events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitJob')
        .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString('utf8')));
      expect(summaries).toEqual(['submit ingest v1 without state', 'submit dws v1 without state', 'submit ads v1 without state', 'submit sink v1 without state']);
    });
  });

  test('the first deploy is a fresh start: outputs rebuilt once, never again while the jobs have state', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING with checkpoints', (s) => running(s) && s.jobs.every((j) => j.lastCheckpoint !== null));
      model.loseAllJobs();
      await waitFor(handle, 'resubmitted', (s) => running(s) && model.submissions.length === 8);
      expect(model.calls.filter((c) => c === 'resetOutputs')).toHaveLength(1);
      expect(model.calls.indexOf('resetOutputs')).toBeLessThan(model.calls.indexOf('createFlussTables'));
      await until(() => model.events.some((e) => e.kind === 'fresh-start' && /new replication slot\(s\) gridflow_wf_power_equipment/.test(e.message)));
    });
  });

  test('a new workflow over outputs it has no state for rebuilds them before starting jobs empty', async () => {
    const model = new ClusterModel();
    model.slotsExist = true; // a previous deployment left its slots (and its Fluss and sink rows)
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(model.calls).toContain('resetOutputs');
      await until(() => model.events.some((e) => e.kind === 'fresh-start'));
      expect(model.events.find((e) => e.kind === 'fresh-start')?.message).toMatch(/^no job has state to restore/);
    });
  });

  test('a new workflow after a decommission that kept the slots resumes every job from its stop savepoint', async () => {
    const model = new ClusterModel();
    let stops: Record<string, string | undefined> = {};
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(decommissionSignal, { reason: 'moving the worker' });
      const final = await handle.result();
      stops = Object.fromEntries(final.jobs.map((j) => [j.job, j.lastSavepoint?.path]));
    });
    expect(model.calls).toContain('sourcePositions');
    expect(model.savepointTable.find((r) => r.job === 'ingest')?.sourcePositions).toEqual({
      gridflow_wf_power_equipment: '0/1000000',
      gridflow_wf_equipment_reading: '0/1000000',
    });
    const before = model.submissions.length;
    await withPipeline(model, testSpec(), async (handle) => {
      const s = await waitFor(handle, 'RUNNING', running);
      const resumed = model.submissions.slice(before);
      expect(resumed.map((r) => [r.job, r.restorePath])).toEqual(['ingest', 'dws', 'ads', 'sink'].map((job) => [job, stops[job]]));
      expect(s.jobs.every((j) => j.restoredFrom?.path === stops[j.job])).toBe(true);
      expect(model.calls.filter((c) => c === 'resetOutputs')).toHaveLength(1); // the first deploy's only
      await until(() => model.events.some((e) => e.kind === 'resume'));
      expect(model.events.find((e) => e.kind === 'resume')?.message).toMatch(/^continuing from the savepoints an earlier workflow recorded: ingest from /);
    });
  });

  test('recorded savepoints are not used once the slot moved on: fresh start, saying why', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(decommissionSignal, {});
      await handle.result();
    });
    model.slotLsn = '0/2000000'; // something consumed the slot meanwhile: the ingest savepoint would skip changes
    const before = model.submissions.length;
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(model.submissions.slice(before).every((r) => r.restorePath === null)).toBe(true);
      expect(model.calls.filter((c) => c === 'resetOutputs')).toHaveLength(2);
      // A step's events are written when it ends, a moment after the state it reports.
      await until(() => model.events.filter((e) => e.kind === 'fresh-start').length === 2);
      expect(model.events.filter((e) => e.kind === 'fresh-start').pop()?.message).toMatch(
        /recorded savepoints unusable: replication slot gridflow_wf_power_equipment moved since the ingest stop \(0\/1000000 then, 0\/2000000 now\)/,
      );
    });
  });

  test('a source that is not ready blocks with the reason, changes nothing, and deploys once fixed', async () => {
    const model = new ClusterModel();
    model.preflightProblems = ['wal_level is replica; CDC needs logical: ALTER SYSTEM SET wal_level = logical and restart.'];
    await withPipeline(model, testSpec(), async (handle) => {
      const blocked = await waitFor(handle, 'BLOCKED', (s) => s.state === 'BLOCKED');
      expect(blocked.reason).toMatch(/wal_level is replica/);
      expect(model.submissions).toHaveLength(0);
      expect(model.calls).not.toContain('prepareSource');
      model.preflightProblems = [];
      await waitFor(handle, 'RUNNING after the fix', running);
      expect(model.submissions).toHaveLength(4);
    });
  });

  test('too few task slots on a cluster gridflow does not run: BLOCKED, saying how many are missing', async () => {
    const model = new ClusterModel();
    model.slotsTotal = 2;
    await withPipeline(model, testSpec({ provisioner: 'none' }), async (handle) => {
      const s = await waitFor(handle, 'BLOCKED', (x) => x.state === 'BLOCKED');
      expect(s.reason).toMatch(/2 task slot\(s\) missing/);
      expect(model.submissions).toHaveLength(0);
    });
  });

  test('too few slots on the local stack: a TaskManager is added, then the deploy proceeds', async () => {
    const model = new ClusterModel();
    model.slotsTotal = 2;
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(model.provisioned).toBe(1);
    });
  });

  test('a failed submit degrades with the reason; the next round finishes without duplicating jobs', async () => {
    const model = new ClusterModel();
    model.failSubmitOnce.dws = 'SqlValidatorException: Object dwd_power_equipment not found';
    await withPipeline(model, testSpec(), async (handle) => {
      const degraded = await waitFor(handle, 'DEGRADED', (s) => s.state === 'DEGRADED');
      expect(degraded.reason).toMatch(/deploy failed: .*dwd_power_equipment not found/);
      await waitFor(handle, 'RUNNING', running);
      expect(model.jobs.filter((j) => j.job === 'ingest')).toHaveLength(1);
      expect(model.live()).toHaveLength(4);
      // The retry found ingest live: no second reset under a running job.
      expect(model.calls.filter((c) => c === 'resetOutputs')).toHaveLength(1);
    });
  });

  test('a submit that reached Flink before the activity died is adopted on retry, not repeated', async () => {
    const model = new ClusterModel();
    model.crashAfterSubmitOnce.ads = true;
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      expect(model.jobs.filter((j) => j.job === 'ads')).toHaveLength(1);
      expect(model.submissions.filter((s) => s.job === 'ads').map((s) => s.reused)).toEqual([false, true]);
    });
  });
});

describe('watch', () => {
  test('a FAILED job is resubmitted from its newest retained checkpoint', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING with a checkpoint', (s) => running(s) && s.jobs.every((j) => j.lastCheckpoint !== null));
      const failed = model.live('ads')[0];
      const newest = failed.checkpoints[0].path;
      model.failJob('ads', 'NullPointerException: boom');
      const s = await waitFor(handle, 'ads resubmitted', (x) => running(x) && x.jobs.find((j) => j.job === 'ads')!.jobId !== failed.jobId);
      const resubmit = model.submissions.filter((x) => x.job === 'ads').pop()!;
      expect(resubmit.restorePath).toBe(newest);
      expect(s.jobs.find((j) => j.job === 'ads')!.restartsInWindow).toBe(1);
      await until(() => model.events.some((e) => /ads: job .* is FAILED: NullPointerException: boom/.test(e.message)));
      // Once the new instance has a checkpoint of its own, the failed one's retained checkpoints go, once.
      expect(model.checkpointDirsRemoved).toEqual([]);
      await waitFor(handle, 'the new ads instance checkpointed', (x) => x.jobs.find((j) => j.job === 'ads')!.lastCheckpoint?.jobId === resubmit.jobId);
      await waitFor(handle, 'two more watch rounds', () => model.checkpointDirsRemoved.length > 0);
      await new Promise((r) => setTimeout(r, 2500));
      expect(model.checkpointDirsRemoved).toEqual([`file:///ckpt/${failed.jobId}`]);
    });
  });

  test('a resubmit the SQL Gateway cannot take: DEGRADED naming it after a few quick attempts; healed when it is back', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING with a checkpoint', (s) => running(s) && s.jobs.every((j) => j.lastCheckpoint !== null));
      const failed = model.live('ads')[0];
      model.gatewayDown = true;
      model.failJob('ads', 'NullPointerException: boom');
      const degraded = await waitFor(handle, 'DEGRADED naming the gateway', (s) => s.state === 'DEGRADED');
      expect(degraded.reason).toMatch(/resubmit ads failed: .*SQL Gateway at http:\/\/127\.0\.0\.1:8083 is unreachable/);
      model.gatewayDown = false;
      const s = await waitFor(handle, 'ads resubmitted', (x) => running(x) && x.jobs.find((j) => j.job === 'ads')!.jobId !== failed.jobId);
      expect(s.reason).toBeNull();
      expect(model.live('ads')).toHaveLength(1);
    });
  });

  test('a job that fails before any checkpoint restarts without state and raises an alert to verify', async () => {
    const model = new ClusterModel();
    model.stallCheckpoints = true;
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.failJob('sink');
      const s = await waitFor(handle, 'alert', (x) => x.alerts.some((a) => a.kind === 'stateless-start'));
      expect(s.alerts.find((a) => a.kind === 'stateless-start')!.message).toMatch(/^sink restarts without state .*gridflow verify now$/);
      expect(model.submissions.filter((x) => x.job === 'sink').pop()!.restorePath).toBeNull();
    });
  });

  test('jobs lost with a JobManager restart are resubmitted, each from its own last checkpoint', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'checkpoints', (s) => running(s) && s.jobs.every((j) => j.lastCheckpoint !== null));
      const before = await handle.query(statusQuery);
      model.loseAllJobs();
      await waitFor(handle, 'all back', (s) => running(s) && s.jobs.every((j, i) => j.jobId !== before.jobs[i].jobId));
      const resubmits = model.submissions.slice(4);
      expect(resubmits.map((r) => r.job).sort()).toEqual(['ads', 'dws', 'ingest', 'sink']);
      for (const r of resubmits) {
        const old = before.jobs.find((j) => j.job === r.job)!;
        expect(r.restorePath).toMatch(new RegExp(`^file:///ckpt/${old.jobId}/chk-\\d+$`));
      }
      expect(model.live()).toHaveLength(4);
    });
  });

  test('a lost TaskManager: slots are provided again and the jobs recover without resubmission', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.killTaskManagers();
      await waitFor(handle, 'recovered', (s) => running(s) && model.provisioned === 1);
      expect(model.submissions).toHaveLength(4);
      // While slots were added and Flink restarted the jobs, the pipeline said so.
      await until(() => model.events.some((e) => e.kind === 'state' && e.message === 'RUNNING' && model.events.some((x) => x.message.startsWith('RECOVERING'))));
      const states = model.events.filter((e) => e.kind === 'state').map((e) => e.message);
      expect(states).toContain('RECOVERING: adding 4 task slot(s)');
      expect(states.slice(states.indexOf('RECOVERING: adding 4 task slot(s)'))).toContain('RUNNING');
      // As recorded on the real cluster: jobs RUNNING again while their tasks wait for the new slots.
      // That is RECOVERING, not RUNNING, and no periodic savepoint is attempted meanwhile.
      expect(states).toContainEqual(expect.stringMatching(/^RECOVERING: (\w+: \d+ task\(s\) waiting for a slot(; )?)+$/));
      expect(states.indexOf('RUNNING', states.findIndex((m) => /waiting for a slot/.test(m)))).toBeGreaterThan(-1);
      // The restart shows once Flink's numRestarts catches up.
      const s = await waitFor(handle, 'restart counted', (x) => x.jobs.every((j) => j.restartsInWindow === 1));
      expect(s.state).toBe('RUNNING');
    });
  });

  test('a duplicate job of the same name is cancelled, ours kept', async () => {
    const model = new ClusterModel();
    const spec = testSpec();
    await withPipeline(model, spec, async (handle) => {
      const s = await waitFor(handle, 'RUNNING', running);
      const dup = model.addDuplicate("sink", parseSpec(spec));
      await waitFor(handle, 'duplicate cancelled', () => model.calls.includes(`cancel ${dup}`));
      expect(model.live('sink').map((j) => j.jobId)).toEqual([s.jobs.find((j) => j.job === 'sink')!.jobId]);
    });
  });

  test('more restarts than allowed in the window → DEGRADED naming the job and its error', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      for (let i = 0; i < 4; i++) {
        const current = model.live('dws')[0]?.jobId;
        model.failJob('dws', 'OutOfMemoryError: Java heap space');
        await waitFor(handle, `restart ${i + 1}`, (s) => s.jobs.find((j) => j.job === 'dws')!.jobId !== current);
      }
      const s = await waitFor(handle, 'DEGRADED', (x) => x.state === 'DEGRADED');
      expect(s.reason).toMatch(/dws: 4 restarts within 10min \(limit 3\); last error: OutOfMemoryError/);
    });
  });

  test('checkpoints not progressing → DEGRADED; progressing again → RUNNING', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.stallCheckpoints = true;
      const s = await waitFor(handle, 'DEGRADED', (x) => x.state === 'DEGRADED');
      expect(s.reason).toMatch(/no checkpoint completed for \d+ s \(limit 1min\)/);
      model.stallCheckpoints = false;
      await waitFor(handle, 'RUNNING again', (x) => x.state === 'RUNNING');
    });
  });

  test('the sink further behind than watch.maxFreshness → DEGRADED "falling behind" naming the saturated operator; caught up → RUNNING', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ watch: { interval: '1s', maxFreshness: '30s' } }), async (handle) => {
      const ok = await waitFor(handle, 'RUNNING with a freshness', (x) => running(x) && x.freshness?.lagMs === 900);
      expect(ok.reason).toBeNull();
      model.operatorLoads = [
        { job: 'dws', vertex: 'Source: dwd_reading_by_equipment[9] -> MiniBatchAssigner[10] -> Calc[11]', busyMsPerSecond: 40, backPressuredMsPerSecond: 930 },
        { job: 'dws', vertex: 'GroupAggregate[18] -> Calc[19] -> ConstraintEnforcer[20]', busyMsPerSecond: 985, backPressuredMsPerSecond: 0 },
        { job: 'ads', vertex: 'Source: dws_equipment_latest[1]', busyMsPerSecond: 3, backPressuredMsPerSecond: 0 },
      ];
      model.lagMs = 45_000;
      const behind = await waitFor(handle, 'DEGRADED falling behind', (x) => x.state === 'DEGRADED');
      expect(behind.reason).toBe(
        'falling behind: freshness 45 s (limit 30 s); bottleneck dws: GroupAggregate[18] … busy 985 ms/s (saturated; back-pressuring Source: dwd_reading_by_equipment[9] …)',
      );
      expect(behind.freshness).toMatchObject({ lagMs: 45_000 });
      // Nothing saturated: said so, not guessed.
      model.operatorLoads = [];
      const outside = await waitFor(handle, 'no operator named', (x) => /no Flink operator is saturated/.test(x.reason ?? ''));
      expect(outside.state).toBe('DEGRADED');
      model.lagMs = 1_200;
      await waitFor(handle, 'RUNNING again', (x) => x.state === 'RUNNING' && x.reason === null);
    });
    expect(model.freshnessMeasured).toBeGreaterThan(3);
  });
});

describe('redeploy', () => {
  const v2 = () => testSpec({ version: 2, jobs: { ads: { parallelism: 2 } } });

  test('only the changed job moves: stop with savepoint, new version from it, RUNNING', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const oldAds = model.live('ads')[0].jobId;
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      expect(outcome).toMatchObject({ outcome: 'deployed', fromVersion: 1, toVersion: 2, jobs: ['ads'] });
      const newAds = model.live('ads')[0];
      expect(newAds.jobId).not.toBe(oldAds);
      expect(newAds.version).toBe(2);
      expect(newAds.restoredFrom).toMatch(/^file:\/\/\/sp\/ads\//);
      expect(model.jobs.find((j) => j.jobId === oldAds)!.state).toBe('FINISHED');
      expect(model.live()).toHaveLength(4);
      const s = await handle.query(statusQuery);
      expect(s.version).toBe(2);
      expect(s.state).toBe('RUNNING');
    });
  });

  test('the new version does not run → rolled back to the old spec from the same savepoint', async () => {
    const model = new ClusterModel();
    model.failRunning = (job, version) => (job === 'ads' && version === 2 ? 'StateMigrationException: Cannot map checkpoint/savepoint state' : null);
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      expect(outcome.outcome).toBe('rolled-back');
      expect(outcome.reason).toMatch(/Cannot map checkpoint\/savepoint state/);
      const ads = model.submissions.filter((x) => x.job === 'ads');
      expect(ads.map((x) => x.version)).toEqual([1, 2, 1]);
      expect(ads[2].restorePath).toBe(ads[1].restorePath);
      const s = await waitFor(handle, 'RUNNING v1', running);
      expect(s.version).toBe(1);
      expect(s.alerts[0].kind).toBe('redeploy-rolled-back');
      expect(model.live()).toHaveLength(4);
    });
  });

  test('a second redeploy while one is in progress is rejected with the reason', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.runningDelayMs = 3000;
      const first = handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      await waitFor(handle, 'REDEPLOYING', (s) => s.state === 'REDEPLOYING');
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{}] }))).toMatch(/a redeploy to version 2 is already in progress/);
      expect((await first).outcome).toBe('deployed');
    });
  });

  test('an invalid spec is rejected naming the field, and nothing moves', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const bad = testSpec({ version: 2, jobs: { ads: { parallelism: 0 } } });
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ spec: bad as never }] }))).toMatch(
        /invalid pipeline spec: jobs\.ads\.parallelism/,
      );
      const renamed = testSpec({ name: 'other' });
      expect(await rejection(handle.executeUpdate(redeployUpdate, { args: [{ spec: renamed as never }] }))).toMatch(/spec\.name is other/);
      expect(model.submissions).toHaveLength(4);
      expect((await handle.query(statusQuery)).state).toBe('RUNNING');
    });
  });

  test('pause during a redeploy waits for it, then pauses', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      model.runningDelayMs = 2000;
      const redeploy = handle.executeUpdate(redeployUpdate, { args: [{ spec: v2() as never }] });
      await waitFor(handle, 'REDEPLOYING', (s) => s.state === 'REDEPLOYING');
      const paused = await handle.executeUpdate(pauseUpdate);
      expect((await redeploy).outcome).toBe('deployed');
      expect(paused.state).toBe('PAUSED');
      expect(paused.version).toBe(2);
      expect(model.live()).toHaveLength(0);
      await until(() => model.events.filter((e) => e.kind === 'state').pop()?.message === 'PAUSED');
      const stateEvents = model.events.filter((e) => e.kind === 'state').map((e) => e.message.split(':')[0]);
      expect(stateEvents.slice(-4)).toEqual(['REDEPLOYING', 'RUNNING', 'PAUSING', 'PAUSED']);
    });
  });
});

describe('operations', () => {
  test('pause stops every job with a savepoint and keeps them stopped; resume starts them from it', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const paused = await handle.executeUpdate(pauseUpdate);
      expect(paused.state).toBe('PAUSED');
      expect(model.live()).toHaveLength(0);
      const savepoints = Object.fromEntries(paused.jobs.map((j) => [j.job, j.lastSavepoint!.path]));
      await new Promise((r) => setTimeout(r, 2500)); // two watch intervals: nothing comes back
      expect(model.live()).toHaveLength(0);
      expect(await rejection(handle.executeUpdate(pauseUpdate))).toMatch(/already paused/);
      const resumed = await handle.executeUpdate(resumeUpdate);
      expect(resumed.state).toBe('RUNNING');
      for (const s of model.submissions.slice(4)) expect(s.restorePath).toBe(savepoints[s.job]);
    });
  });

  test('savepoint on request; retention disposes the oldest beyond `retain`', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const taken: string[] = [];
      for (let i = 0; i < 3; i++) taken.push(...(await handle.executeUpdate(savepointUpdate, { args: [{ jobs: ['ingest'] }] })).map((p) => p.path));
      expect(taken).toHaveLength(3);
      expect(model.disposed).toEqual([taken[0]]);
      expect(model.savepointsRecorded).toEqual(taken);
    });
  });

  test('periodic savepoints when every job runs', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ savepoints: { every: '20s', retain: 5 } }), async (handle) => {
      await waitFor(handle, 'periodic savepoints', (s) => running(s) && s.jobs.every((j) => j.lastSavepoint?.reason === 'periodic'));
    });
  });

  test('a failed verification raises an alert and is shown in status; nothing is repaired', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(verificationSignal, { runId: 'v1', at: model.now, ok: false, freshnessMs: null, summary: 'dws_region_stats: 1 different (华北.running_count 7 ≠ 8)' });
      const s = await waitFor(handle, 'alert', (x) => x.alerts.length > 0);
      expect(s.lastVerification?.ok).toBe(false);
      expect(s.alerts[0]).toMatchObject({ kind: 'verification-failed' });
      await waitFor(handle, 'alert recorded', () => model.events.some((e) => e.kind === 'alert' && /华北/.test(e.message)));
      expect(model.submissions).toHaveLength(4);
    });
  });

  test('a failed verification of a paused pipeline is shown, not alerted (its slots are idle on purpose)', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.executeUpdate(pauseUpdate);
      await handle.signal(verificationSignal, { runId: 'v2', at: model.now, ok: false, freshnessMs: null, summary: 'probe never arrived; 3 slots inactive' });
      const s = await waitFor(handle, 'verification seen', (x) => x.lastVerification?.runId === 'v2');
      expect(s.alerts).toEqual([]);
      expect(model.events.some((e) => e.kind === 'alert')).toBe(false);
    });
  });

  test('decommission stops every job with a savepoint, drops slots when asked, and completes', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      await handle.signal(decommissionSignal, { dropSourceArtifacts: true, reason: 'retired' });
      const final = await handle.result();
      expect(final.state).toBe('DECOMMISSIONED');
      expect(final.jobs.every((j) => j.lastSavepoint?.reason === 'stop')).toBe(true);
      expect(model.live()).toHaveLength(0);
      expect(model.calls).toContain('dropSourceArtifacts');
    });
  });
});

describe('durability', () => {
  test('the sink down: events and stop savepoints are kept, decommission waits for the sink, nothing is lost', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec(), async (handle) => {
      await waitFor(handle, 'RUNNING', running);
      const eventsBefore = model.events.length;
      model.sinkDown = true;
      await handle.signal(decommissionSignal, { reason: 'moving house' });
      // The four stop savepoints, and the ingest one again with where the replication slots stand.
      const waiting = await waitFor(handle, 'waiting for the sink', (s) => /waiting for the sink to record 5 savepoint\(s\)/.test(s.reason ?? ''));
      expect(waiting.state).toBe('DECOMMISSIONING');
      expect(model.live()).toHaveLength(0);
      expect(model.savepointTable.filter((r) => r.kind === 'stop-with-savepoint')).toHaveLength(0);
      model.sinkDown = false;
      const final = await handle.result();
      expect(final.state).toBe('DECOMMISSIONED');
      // Every stop savepoint reached the sink (what a later deploy resumes from), and the notes made meanwhile too.
      expect(model.savepointTable.filter((r) => r.kind === 'stop-with-savepoint').map((r) => r.job).sort()).toEqual(['ads', 'dws', 'ingest', 'sink']);
      expect(model.savepointTable.find((r) => r.job === 'ingest' && r.kind === 'stop-with-savepoint')?.sourcePositions).toBeTruthy();
      expect(model.events.slice(eventsBefore).some((e) => e.kind === 'state' && /DECOMMISSIONING/.test(e.message))).toBe(true);
    });
  });

  test('continue-as-new when suggested keeps the jobs and their history', async () => {
    const model = new ClusterModel();
    await withPipeline(model, testSpec({ watch: { interval: '100ms', checkpointStallAfter: '10min' } }), async (handle) => {
      const first = await waitFor(handle, 'RUNNING', running);
      const firstRun = (await handle.describe()).runId;
      const deadline = Date.now() + 60_000;
      while ((await handle.describe()).runId === firstRun) {
        if (Date.now() > deadline) throw new Error('no continue-as-new');
        await new Promise((r) => setTimeout(r, 500));
      }
      const after = await waitFor(handle, 'RUNNING after continue-as-new', running);
      expect(after.jobs.map((j) => j.jobId)).toEqual(first.jobs.map((j) => j.jobId));
      expect(model.submissions).toHaveLength(4);
    });
  });

  test('a worker restart: a new worker picks up the history, heals, and duplicates nothing', async () => {
    const model = new ClusterModel();
    const spec = testSpec();
    const taskQueue = `wf-${randomUUID()}`;
    const workflowId = `pipeline:wf-restart-${randomUUID().slice(0, 8)}`;
    const first = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: model.activities() });
    let handle!: Handle;
    await first.runUntil(async () => {
      handle = await env.client.workflow.start(PipelineWorkflow, { taskQueue, workflowId, args: [{ spec: spec as never }] });
      await waitFor(handle, 'RUNNING', running);
    });
    // No worker now; Flink loses a job meanwhile.
    model.failJob('sink');
    const second = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: model.activities() });
    await second.runUntil(async () => {
      // A task the first worker had taken when it stopped is retried after its timeout (30 s for observe).
      await waitFor(handle, 'healed', (s) => running(s) && model.live('sink').length === 1, 100_000);
    });
    expect(model.jobs.filter((j) => j.job !== 'sink')).toHaveLength(3);
    expect(model.live()).toHaveLength(4);
  });
});
