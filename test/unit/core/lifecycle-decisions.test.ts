/**
 * The decisions the lifecycle executors used to make inline, now pure in src/core: fresh start or
 * resume (deploy), the jobs a rollback restores, how a watch round leaves the pipeline, the refusal of
 * a request, and the carried state's defaults for fields an older run did not carry.
 */
import { decideStart, jobsToStart, lookForRecordedPoints, planDeploy, voidRestorePoints } from '../../../src/core/deploy';
import { planDecommission } from '../../../src/core/decommission';
import { markStep } from '../../../src/core/plans';
import { planRedeploy, rollbackJobs } from '../../../src/core/redeploy';
import { pauseRefusal, redeployRefusal, resumeRefusal, savepointRefusal, verificationAlerts } from '../../../src/core/requests';
import { JOB_NAMES, JobName, parseSpec } from '../../../src/core/spec';
import { initialState, restoreState } from '../../../src/core/state';
import { JobRecord, RestorePoint, newJobRecord } from '../../../src/core/types';
import { watchState } from '../../../src/core/watch';
import { testSpec } from '../../workflows/doubles';

const spec = parseSpec(testSpec());
const sp = (job: string): RestorePoint => ({ kind: 'savepoint', path: `file:///sp/${job}`, at: 1, jobId: `${job}-1`, reason: 'stop' });
const records = (f: (j: JobName) => Partial<JobRecord> = () => ({})) =>
  Object.fromEntries(JOB_NAMES.map((j) => [j, { ...newJobRecord(j), ...f(j) }])) as Record<JobName, JobRecord>;
const live = records((j) => ({ jobId: `${j}-1`, flinkState: 'RUNNING' }));
const stoppedWithSavepoints = records((j) => ({ savepoints: [sp(j)], stopped: true }));

describe('deploy: fresh start or resume', () => {
  test('a first deploy on existing slots asks for recorded savepoints; one that created slots does not', () => {
    expect(lookForRecordedPoints(records(), [])).toBe(true);
    expect(lookForRecordedPoints(records(), ['gridflow_wf_ingest'])).toBe(false);
    expect(lookForRecordedPoints(stoppedWithSavepoints, [])).toBe(false);
  });

  test('recorded savepoints that qualify: resume from them, not fresh', () => {
    const points = Object.fromEntries(JOB_NAMES.map((j) => [j, sp(j)])) as Record<JobName, RestorePoint>;
    const d = decideStart({ records: records(), createdSlots: [], recorded: { resume: true, points, summary: '4 stop savepoints' } });
    expect(d).toMatchObject({ fresh: false, resume: points, note: { kind: 'resume' } });
  });

  test('nothing to continue from: fresh, saying why (with the reason recorded savepoints were refused)', () => {
    const d = decideStart({ records: records(), createdSlots: [], recorded: { resume: false, reason: 'ingest moved since' } });
    expect(d.fresh).toBe(true);
    expect(d.note?.message).toMatch(/no job has state to restore \(recorded savepoints unusable: ingest moved since\)/);
  });

  test('new replication slots void every restore point: fresh even with savepoints', () => {
    const d = decideStart({ records: stoppedWithSavepoints, createdSlots: ['gridflow_wf_ingest'], recorded: null });
    expect(d.fresh).toBe(true);
    expect(d.note?.message).toMatch(/new replication slot\(s\) gridflow_wf_ingest/);
  });

  test('never fresh under a live job; jobs with their own state continue', () => {
    expect(decideStart({ records: live, createdSlots: ['s'], recorded: null })).toEqual({ fresh: false, resume: null, note: null });
    expect(decideStart({ records: stoppedWithSavepoints, createdSlots: [], recorded: null })).toEqual({ fresh: false, resume: null, note: null });
  });

  test('a fresh start voids what each job knew; jobs to start are the ones not live, upstream first', () => {
    const r = voidRestorePoints({ ...newJobRecord('dws'), savepoints: [sp('dws')], lastCheckpoint: { ...sp('dws'), kind: 'checkpoint', path: 'file:///ck/1' } });
    expect(r.badRestorePaths.sort()).toEqual(['file:///ck/1', 'file:///sp/dws']);
    expect(jobsToStart({ ...live, dws: newJobRecord('dws'), sink: newJobRecord('sink') })).toEqual(['dws', 'sink']);
  });

  test('the deploy plan lists every step once, one submit per job upstream first; nothing to undo', () => {
    const p = planDeploy(spec);
    expect(p.steps.map((s) => `${s.kind}${s.job ? ` ${s.job}` : ''}`)).toEqual([
      'preflight', 'claim', 'adopt', 'slots', 'prepare-source', 'prepare-sink', 'start-point', 'tables',
      'submit ingest', 'submit dws', 'submit ads', 'submit sink', 'await',
    ]);
    expect(p.steps.some((s) => s.rollback)).toBe(false);
  });

  test('the decommission plan says whether the slots are kept', () => {
    expect(planDecommission(spec, { dropSourceArtifacts: true }).steps.find((s) => s.kind === 'drop-source')?.what).toMatch(/^drop/);
    expect(planDecommission(spec, { dropSourceArtifacts: false }).steps.find((s) => s.kind === 'drop-source')?.what).toMatch(/^keep/);
  });
});

test('a rollback restores exactly the jobs its stop steps stopped, upstream first', () => {
  let plan = planRedeploy({ previous: spec, next: { ...spec, version: 2 }, records: live, jobs: ['ads', 'sink', 'dws'], mode: 'savepoint' });
  const stop = (job: JobName) => plan.steps.find((s) => s.kind === 'stop' && s.job === job)!.n;
  plan = markStep(plan, stop('sink'), 'done');
  plan = markStep(plan, stop('ads'), 'done');
  plan = markStep(plan, stop('dws'), 'failed', 'savepoint timed out');
  expect(rollbackJobs(plan)).toEqual(['ads', 'sink']);
});

describe('how a watch round leaves the pipeline', () => {
  const base = { state: 'RUNNING' as const, provisioned: false, health: { state: 'RUNNING' as const, reason: null }, notRunning: [], failures: [], actionFailures: [], behind: null };
  test('nothing wrong: RUNNING; behind: DEGRADED saying so', () => {
    expect(watchState(base)).toEqual({ state: 'RUNNING', reason: null });
    expect(watchState({ ...base, behind: 'sink 40 s behind' })).toEqual({ state: 'DEGRADED', reason: 'sink 40 s behind' });
  });
  test('jobs still coming up and nothing wrong: RECOVERING naming them', () => {
    expect(watchState({ ...base, notRunning: [{ job: 'dws', why: 'RESTARTING' }] })).toEqual({ state: 'RECOVERING', reason: 'dws: RESTARTING' });
  });
  test('a problem outranks jobs coming up: DEGRADED with every reason', () => {
    expect(watchState({ ...base, notRunning: [{ job: 'dws', why: 'RESTARTING' }], failures: ['ads not RUNNING in 2min'], actionFailures: ['resubmit sink failed: 503'] })).toEqual({
      state: 'DEGRADED',
      reason: 'ads not RUNNING in 2min; resubmit sink failed: 503',
    });
  });
  test('BLOCKED while the slots it asked for cannot be had: left as it is', () => {
    expect(watchState({ ...base, state: 'BLOCKED', provisioned: true })).toBeNull();
  });
});

describe('refusals', () => {
  const ctx = { state: 'RUNNING' as const, decommissioning: false, redeployingTo: null, spec };
  test('redeploy: one at a time, never while paused or retiring, never to another pipeline', () => {
    expect(redeployRefusal(ctx, {})).toBeNull();
    expect(redeployRefusal({ ...ctx, redeployingTo: 3 }, {})).toMatch(/version 3 is already in progress/);
    expect(redeployRefusal({ ...ctx, state: 'PAUSED' }, {})).toMatch(/paused/);
    expect(redeployRefusal({ ...ctx, decommissioning: true }, {})).toMatch(/decommissioned/);
    expect(redeployRefusal(ctx, { spec: testSpec({ name: 'other' }) as never })).toMatch(/spec.name is other/);
    expect(redeployRefusal(ctx, { mode: 'sideways' as never })).toMatch(/mode "sideways" is not one of/);
  });
  test('pause, resume, savepoint', () => {
    expect(pauseRefusal(ctx)).toBeNull();
    expect(pauseRefusal({ ...ctx, state: 'PAUSED' })).toMatch(/already paused/);
    expect(resumeRefusal(ctx)).toMatch(/RUNNING, not paused/);
    expect(resumeRefusal({ ...ctx, state: 'PAUSED' })).toBeNull();
    expect(savepointRefusal(ctx, { jobs: ['dws'] })).toBeNull();
    expect(savepointRefusal(ctx, { jobs: ['nope' as JobName] })).toMatch(/not one of/);
    expect(savepointRefusal({ ...ctx, state: 'PAUSED' }, {})).toMatch(/no job is running/);
  });
  test('a failed verification alerts unless the pipeline rests', () => {
    expect(verificationAlerts('RUNNING')).toBe(true);
    expect(verificationAlerts('PAUSED')).toBe(false);
  });
});

test('the carried state: defaults for every field an older run did not carry, the rest kept', () => {
  const old = { state: 'RUNNING', reason: null, deployed: true, records: live, alerts: [], lastPeriodicSavepointAt: 5, observedAt: 7, observeFailures: 0 };
  const s = restoreState(old as never);
  expect(s).toEqual({ ...initialState(), ...old });
  expect(Object.keys(s).sort()).toEqual(Object.keys(initialState()).sort());
  expect(restoreState(undefined)).toEqual(initialState());
});
