/** The watch step's decisions, branch by branch, as a pure function (no cluster, no Temporal). */
import { JOB_NAMES, JobName, parseSpec } from '../../../src/core/spec';
import { JobObservation, JobRecord, Observation, RestorePoint, newJobRecord } from '../../../src/core/types';
import { bestRestorePoint, checkpointDirToDispose, checkpointJobDir, decideWatch, foldObservation, isFlussDataLoss, savepointsToDispose, shownState } from '../../../src/core/watch';
import { testSpec } from '../../workflows/doubles';

const spec = parseSpec(testSpec({ savepoints: { every: '30min', retain: 2 }, watch: { maxRestarts: 2, restartWindow: '10min', checkpointStallAfter: '2min' } }));
const NOW = 1_700_000_000_000;

const cp = (jobId: string, n: number, at: number): RestorePoint => ({ kind: 'checkpoint', path: `file:///ck/${jobId}/chk-${n}`, at, jobId });
const sp = (path: string, at: number, reason: RestorePoint['reason'] = 'periodic'): RestorePoint => ({ kind: 'savepoint', path, at, jobId: 'x', reason });

function running(): Record<JobName, JobRecord> {
  return Object.fromEntries(
    JOB_NAMES.map((j) => [j, { ...newJobRecord(j), jobId: `${j}-1`, flinkState: 'RUNNING', submittedAt: NOW - 600_000, lastCheckpoint: cp(`${j}-1`, 9, NOW - 5_000) }]),
  ) as Record<JobName, JobRecord>;
}

function obs(overrides: Partial<Record<JobName, Partial<JobObservation>>> = {}, cluster = { taskManagers: 1, slotsTotal: 8, slotsAvailable: 4 }): Observation {
  return {
    observedAt: NOW,
    cluster,
    jobs: JOB_NAMES.map((j) => ({
      job: j,
      flinkName: `gridflow/wf/${j}`,
      instances: [{ jobId: `${j}-1`, state: 'RUNNING', startTime: NOW - 600_000, endTime: null }],
      trackedJobId: `${j}-1`,
      latestCheckpoint: cp(`${j}-1`, 10, NOW - 1_000),
      latestSavepoint: null,
      completedCheckpoints: 10,
      numRestarts: 0,
      rootCause: null,
      ...overrides[j],
    })),
  };
}

const memory = { lastPeriodicSavepointAt: NOW - 60_000 };

test('all healthy: no action, RUNNING, newer checkpoints remembered', () => {
  const d = decideWatch(spec, running(), obs(), memory);
  expect(d.actions).toEqual([]);
  expect(d.health).toEqual({ state: 'RUNNING', reason: null });
  expect(d.notRunning).toEqual([]);
  expect(d.records.ads.lastCheckpoint?.path).toBe('file:///ck/ads-1/chk-10');
});

test('a FAILED job is resubmitted from its newest checkpoint (Flink\'s latest beats what we had)', () => {
  const d = decideWatch(spec, running(), obs({ dws: { instances: [{ jobId: 'dws-1', state: 'FAILED', startTime: NOW - 600_000, endTime: NOW - 1000 }], rootCause: 'IOException: disk full' } }), memory);
  expect(d.actions).toEqual([{ kind: 'resubmit', job: 'dws', restore: cp('dws-1', 10, NOW - 1_000), reason: 'job dws-1 is FAILED: IOException: disk full' }]);
});

test('a job gone from the cluster (JobManager restart) is resubmitted from the recorded checkpoint', () => {
  const d = decideWatch(spec, running(), obs({ sink: { instances: [], trackedJobId: null, latestCheckpoint: null, numRestarts: null } }), memory);
  expect(d.actions[0]).toMatchObject({ kind: 'resubmit', job: 'sink', restore: cp('sink-1', 9, NOW - 5_000) });
  expect(d.actions[0]).toMatchObject({ reason: expect.stringMatching(/no job named gridflow\/wf\/sink on the cluster/) });
});

test('a newer savepoint wins over an older checkpoint; a restore point that failed is skipped', () => {
  const r = { ...running().ads, lastCheckpoint: cp('ads-1', 3, NOW - 50_000), savepoints: [sp('file:///sp/new', NOW - 10_000), sp('file:///sp/old', NOW - 90_000)] };
  expect(bestRestorePoint(r)?.path).toBe('file:///sp/new');
  expect(bestRestorePoint({ ...r, badRestorePaths: ['file:///sp/new'] })?.path).toBe('file:///ck/ads-1/chk-3');
  expect(bestRestorePoint(newJobRecord('ads'))).toBeNull();
});

test('a job that fails before its first checkpoint after a restore marks that restore point bad', () => {
  const before = { ...running().ads, restoredFrom: sp('file:///sp/broken', NOW - 30_000) };
  const after = foldObservation(
    before,
    obs({ ads: { instances: [{ jobId: 'ads-1', state: 'FAILED', startTime: NOW - 20_000, endTime: NOW }], completedCheckpoints: 0, latestCheckpoint: null } }).jobs[2],
    NOW,
    600_000,
  );
  expect(after.badRestorePaths).toEqual(['file:///sp/broken']);
});

test('restarts counted from Flink\'s numRestarts; more than allowed in the window → DEGRADED with the error', () => {
  const d = decideWatch(spec, running(), obs({ ingest: { numRestarts: 3, rootCause: 'PSQLException: connection refused' } }), memory);
  expect(d.records.ingest.restarts).toHaveLength(3);
  expect(d.health.state).toBe('DEGRADED');
  expect(d.health.reason).toBe('ingest: 3 restarts within 10min (limit 2); last error: PSQLException: connection refused');
  // Old restarts fall out of the window.
  const later = decideWatch(spec, d.records, { ...obs({ ingest: { numRestarts: 3 } }), observedAt: NOW + 11 * 60_000 }, memory);
  expect(later.records.ingest.restarts).toHaveLength(0);
});

test('RUNNING without a completed checkpoint for longer than allowed → DEGRADED', () => {
  const records = running();
  records.dws = { ...records.dws, lastCheckpoint: cp('dws-1', 9, NOW - 200_000) };
  const d = decideWatch(spec, records, obs({ dws: { latestCheckpoint: null } }), memory);
  expect(d.health).toEqual({ state: 'DEGRADED', reason: 'dws: no checkpoint completed for 200 s (limit 2min)' });
});

test('jobs waiting for slots that the cluster lacks → provision the missing slots first', () => {
  const restarting = (j: JobName) => ({ instances: [{ jobId: `${j}-1`, state: 'RESTARTING' as const, startTime: NOW - 600_000, endTime: null }] });
  const d = decideWatch(spec, running(), obs({ ingest: restarting('ingest'), dws: restarting('dws'), ads: restarting('ads'), sink: restarting('sink') }, { taskManagers: 0, slotsTotal: 0, slotsAvailable: 0 }), memory);
  expect(d.actions[0]).toEqual({ kind: 'provision', missingSlots: 4 });
  expect(d.actions.filter((a) => a.kind === 'resubmit')).toEqual([]);
  expect(d.notRunning).toEqual((['ingest', 'dws', 'ads', 'sink'] as const).map((job) => ({ job, why: 'RESTARTING' })));
});

test('a job RUNNING in name only, its tasks waiting for slots of a lost TaskManager → provision', () => {
  const lost = { taskManagers: 0, slotsTotal: 0, slotsAvailable: 0 };
  const d = decideWatch(spec, running(), obs({ ads: { tasksWaiting: 3 }, sink: { tasksWaiting: 2 } }, lost), memory);
  expect(d.actions).toEqual([{ kind: 'provision', missingSlots: 2 }]);
  expect(d.notes).toEqual(['need 2 task slots, 0 free: 2 missing']);
  expect(d.notRunning).toEqual([
    { job: 'ads', why: '3 task(s) waiting for a slot' },
    { job: 'sink', why: '2 task(s) waiting for a slot' },
  ]);
  // Tasks briefly scheduled while slots are free (a fresh submission) need nothing.
  expect(decideWatch(spec, running(), obs({ ads: { tasksWaiting: 3 } }), memory).actions).toEqual([]);
  // Observations recorded before tasksWaiting existed read as none waiting.
  expect(decideWatch(spec, running(), obs({}, lost), memory).actions).toEqual([]);
});

test('a second live job with our name is cancelled; ours is kept', () => {
  const d = decideWatch(spec, running(), obs({ sink: { instances: [
    { jobId: 'sink-dup', state: 'RUNNING', startTime: NOW - 1000, endTime: null },
    { jobId: 'sink-1', state: 'RUNNING', startTime: NOW - 600_000, endTime: null },
  ] } }), memory);
  expect(d.actions).toEqual([{ kind: 'cancel-duplicate', job: 'sink', jobId: 'sink-dup' }]);
});

test('no record yet (after a crash before the first submit returned): the live job of that name is adopted', () => {
  const records = { ...running(), ads: newJobRecord('ads') };
  const d = decideWatch(spec, records, obs(), memory);
  expect(d.records.ads.jobId).toBe('ads-1');
  expect(d.actions).toEqual([]);
});

test('stopped jobs (paused) are left alone', () => {
  const records = running();
  for (const j of JOB_NAMES) records[j] = { ...records[j], stopped: true };
  const gone = Object.fromEntries(JOB_NAMES.map((j) => [j, { instances: [], trackedJobId: null }])) as Partial<Record<JobName, Partial<JobObservation>>>;
  expect(decideWatch(spec, records, obs(gone), memory).actions).toEqual([]);
});

test('periodic savepoints when due and everything runs; retention keeps the newest and the restore source', () => {
  const due = decideWatch(spec, running(), obs(), { lastPeriodicSavepointAt: NOW - 31 * 60_000 });
  expect(due.actions.map((a) => a.kind)).toEqual(['savepoint', 'savepoint', 'savepoint', 'savepoint']);
  const record = { ...running().ads, savepoints: [sp('s4', 4), sp('s3', 3), sp('s2', 2), sp('s1', 1)], restoredFrom: sp('s1', 1) };
  expect(savepointsToDispose(record, 2).map((s) => s.path)).toEqual(['s2']);
});

describe('checkpointDirToDispose: the retained checkpoints a restored job left behind', () => {
  const OLD = 'a'.repeat(32);
  const NEW = 'b'.repeat(32);
  const restored = (): JobRecord => ({
    ...newJobRecord('dws'),
    jobId: NEW,
    flinkState: 'RUNNING',
    restoredFrom: cp(OLD, 7, NOW - 60_000),
    lastCheckpoint: cp(NEW, 1, NOW - 1_000),
  });

  test('checkpointJobDir takes the per-job directory of a chk-N path, nothing else', () => {
    expect(checkpointJobDir(`file:/data/ck/${OLD}/chk-7`)).toBe(`file:/data/ck/${OLD}`);
    expect(checkpointJobDir('file:/data/savepoints/savepoint-aaaaaa-0123456789ab')).toBeNull();
    expect(checkpointJobDir('file:/data/ck/not-a-job/chk-7')).toBeNull();
  });

  test('once the new instance has its own checkpoint, the old directory goes', () => {
    expect(checkpointDirToDispose(spec, restored())).toBe(`file:///ck/${OLD}`);
  });

  test.each<[string, (r: JobRecord) => JobRecord]>([
    ['no checkpoint of its own yet', (r) => ({ ...r, lastCheckpoint: cp(OLD, 7, NOW - 60_000) })],
    ['not running', (r) => ({ ...r, flinkState: 'RESTARTING' })],
    ['restored from a savepoint', (r) => ({ ...r, restoredFrom: sp('file:///sp/savepoint-1', NOW - 60_000) })],
    ['already removed', (r) => ({ ...r, disposedCheckpointDir: `file:///ck/${OLD}` })],
    ['a listed restore point lives there', (r) => ({ ...r, savepoints: [{ ...cp(OLD, 8, NOW - 30_000), kind: 'savepoint' }] })],
    ['never started', (r) => ({ ...r, jobId: null })],
  ])('kept: %s', (_label, edit) => {
    expect(checkpointDirToDispose(spec, edit(restored()))).toBeNull();
  });

  test('kept when the job restores in CLAIM mode (its new checkpoints may share the old files)', () => {
    // A spec cannot ask for CLAIM any more (a rollback's savepoint could be deleted); a workflow started
    // before that rule may still carry it, and then nothing is removed.
    expect(() => parseSpec(testSpec({ jobs: { dws: { config: { 'execution.state-recovery.claim-mode': 'CLAIM' } } } }))).toThrow(/CLAIM mode/);
    const base = parseSpec(testSpec());
    const claim = { ...base, jobs: { ...base.jobs, dws: { ...base.jobs.dws, config: { 'execution.state-recovery.claim-mode': 'CLAIM' } } } };
    expect(checkpointDirToDispose(claim, restored())).toBeNull();
  });
});

describe('shownState: the state the status query shows', () => {
  const jobs = () => JOB_NAMES.map((job) => ({ job, jobId: `${job}-1`, flinkState: 'RUNNING' as const }));

  test('RUNNING while every job was last seen RUNNING', () => {
    expect(shownState('RUNNING', null, jobs())).toEqual({ state: 'RUNNING', reason: null });
  });

  test('RECOVERING, naming the jobs, while the round has seen a job not running but not yet said so (an e2e fault test caught RUNNING beside ads CANCELLING)', () => {
    const seen = jobs().map((j) => (j.job === 'ads' ? { ...j, flinkState: 'CANCELLING' as const } : j));
    expect(shownState('RUNNING', null, seen)).toEqual({ state: 'RECOVERING', reason: 'ads: CANCELLING' });
    const lost = jobs().map((j) => (j.job === 'sink' ? { ...j, jobId: null, flinkState: null } : j.job === 'dws' ? { ...j, flinkState: null } : j));
    expect(shownState('RUNNING', null, lost)).toEqual({ state: 'RECOVERING', reason: 'dws: not observed yet, sink: not submitted' });
  });

  test('every other state is shown as it is, whatever the jobs', () => {
    const stopped = jobs().map((j) => ({ ...j, flinkState: 'FINISHED' as const }));
    for (const state of ['DEPLOYING', 'REDEPLOYING', 'PAUSED', 'DEGRADED', 'RECOVERING', 'DECOMMISSIONED'] as const) {
      expect(shownState(state, 'why', stopped)).toEqual({ state, reason: 'why' });
    }
  });
});

describe('Fluss data loss (a read past what Fluss still has): DEGRADED naming it, until deployed afresh', () => {
  const lost = 'org.apache.fluss.exception.FetchException: The fetching offset 5784 is out of range: [0, 5120]';
  const withLoss = { ...memory, flussDataLossDegrades: true };

  test('recognised from the job\'s root cause', () => {
    expect(isFlussDataLoss(lost)).toBe(true);
    expect(isFlussDataLoss('IOException: disk full')).toBe(false);
  });

  test('the reading job restores as usual, and the pipeline says what was lost and the way out', () => {
    const d = decideWatch(spec, running(), obs({ sink: { instances: [{ jobId: 'sink-1', state: 'FAILED', startTime: NOW - 600_000, endTime: NOW - 1000 }], rootCause: lost } }), withLoss);
    expect(d.actions[0]).toMatchObject({ kind: 'resubmit', job: 'sink' });
    expect(d.health.state).toBe('DEGRADED');
    expect(d.health.reason).toMatch(/sink: Fluss lost data it had acknowledged \(.*offset 5784 is out of range.*\).*Rebuilt from the source by itself under repair.policy auto, else: gridflow repair --from source/);
    expect(d.records.sink.flussDataLoss).toEqual({ at: NOW, error: lost });
  });

  test('it stays DEGRADED once the job runs again (the lost rows never come back by themselves)', () => {
    const records = { ...running(), sink: { ...running().sink, flussDataLoss: { at: NOW - 60_000, error: lost } } };
    const d = decideWatch(spec, records, obs(), withLoss);
    expect(d.actions).toEqual([]);
    expect(d.health.state).toBe('DEGRADED');
    expect(d.health.reason).toMatch(/Fluss lost data/);
  });

  test('histories from before the rule (patch not taken) keep their old state', () => {
    const d = decideWatch(spec, running(), obs({ sink: { rootCause: lost } }), memory);
    expect(d.health.state).toBe('RUNNING');
  });
});
