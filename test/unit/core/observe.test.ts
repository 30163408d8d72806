/**
 * What the JobManager's answers mean (src/core/observe.ts), read through the real observe activity
 * and REST client from responses recorded on the real stack: pipeline sgcc losing its only
 * TaskManager to kill -9 and the workflow adding one (test/fixtures/flink/taskmanager-lost.json),
 * plus the cluster's job list with strays and duplicates (jobs-overview.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createObserveActivities } from '../../../src/activities/observe';
import { ActivityDeps } from '../../../src/activities/context';
import { FlinkRestClient } from '../../../src/flink/rest';
import { jobsOverviewSchema } from '../../../src/flink/rest-schemas';
import { instancesOf, jobObservation, tasksWaiting, trackedInstance } from '../../../src/core/observe';
import { planJobs } from '../../../src/core/plan';
import { JOB_NAMES, JobName, parseSpec } from '../../../src/core/spec';
import { JobRecord, Observation, newJobRecord } from '../../../src/core/types';
import { decideWatch } from '../../../src/core/watch';
import { testSpec } from '../../workflows/doubles';
import { FixtureServer, fixture, serve } from '../flink/fixture-server';

interface Raw {
  request: { method: string; path: string };
  status: number;
  body: unknown;
}
interface Moment {
  sinceKillMs: number;
  summary: string;
  overview: Raw;
  jobsOverview: Raw;
  jobs: Partial<Record<JobName, { jobId: string; checkpoints: Raw; metrics: Raw; exceptions: Raw }>>;
}
const moments = (JSON.parse(readFileSync(join(__dirname, '../../fixtures/flink/taskmanager-lost.json'), 'utf8')) as { moments: Moment[] }).moments;

let server: FixtureServer;
let now: Moment = moments[0];
beforeAll(async () => {
  server = await serve((req) => {
    const path = req.path.replace(/\?.*$/, '');
    if (path === '/overview') return now.overview;
    if (path === '/jobs/overview') return now.jobsOverview;
    for (const j of Object.values(now.jobs)) {
      if (path === `/jobs/${j.jobId}/checkpoints`) return j.checkpoints;
      if (path === `/jobs/${j.jobId}/metrics`) return j.metrics;
      if (path === `/jobs/${j.jobId}/exceptions`) return j.exceptions;
    }
    return undefined;
  });
});
afterAll(() => server.close());

const spec = () => parseSpec(testSpec({ name: 'sgcc', flink: 'local' }));
const deps = (): ActivityDeps => ({
  endpoints: () => ({ flink: { name: 'local', restUrl: server.baseUrl, gatewayUrl: server.baseUrl }, fluss: { name: 'local', bootstrap: '127.0.0.1:9123' } }),
  rest: () => new FlinkRestClient(server.baseUrl),
  gateway: () => {
    throw new Error('not used');
  },
  connection: () => {
    throw new Error('not used');
  },
  now: () => 1_800_000_000_000,
  sleep: async () => undefined,
});

async function observeAt(m: Moment, tracked: Partial<Record<JobName, string | null>> = {}): Promise<Observation> {
  now = m;
  return createObserveActivities(deps()).observeJobs({ spec: spec(), tracked });
}
const byJob = (o: Observation, job: JobName) => o.jobs.find((j) => j.job === job)!;
const find = (pattern: RegExp) => {
  const m = moments.find((x) => pattern.test(x.summary));
  if (!m) throw new Error(`no recorded moment matches ${pattern}: ${moments.map((x) => x.summary).join(' | ')}`);
  return m;
};

test('the recording holds the whole story: healthy, restarting, RUNNING with tasks waiting and no TaskManager, healed', () => {
  expect(moments[0].summary).toBe('1 TaskManager(s), ingest RUNNING, dws RUNNING, ads RUNNING, sink RUNNING');
  expect(moments.some((m) => /RESTARTING/.test(m.summary))).toBe(true);
  expect(find(/^0 TaskManager.*ingest RUNNING \(\d+ waiting\).*sink RUNNING \(\d+ waiting\)/)).toBeDefined();
  expect(moments[moments.length - 1].summary).toBe(moments[0].summary);
});

test('healthy: every job tracked with its latest retained checkpoint; a RUNNING job\'s old exceptions are not read', async () => {
  const o = await observeAt(moments[0]);
  expect(o.cluster).toEqual({ taskManagers: 1, slotsTotal: 8, slotsAvailable: expect.any(Number) });
  for (const job of JOB_NAMES) {
    const j = byJob(o, job);
    const recorded = moments[0].jobs[job]!;
    const latest = (recorded.checkpoints.body as { latest: { completed: { external_path: string; latest_ack_timestamp: number } } }).latest.completed;
    expect(j).toMatchObject({ trackedJobId: recorded.jobId, tasksWaiting: 0, numRestarts: 0, rootCause: null });
    expect(j.latestCheckpoint).toEqual({ kind: 'checkpoint', path: latest.external_path, at: latest.latest_ack_timestamp, jobId: recorded.jobId });
    expect(j.completedCheckpoints).toBeGreaterThan(0);
  }
  expect(server.requests.filter((r) => r.path.endsWith('/exceptions'))).toEqual([]);
});

test('a restarting job names the lost TaskManager as its root cause, once Flink has written it', async () => {
  // The first moments of a restart carry no exception yet (Flink adds it to the history later).
  const early = byJob(await observeAt(find(/dws RESTARTING/)), 'dws');
  expect(early.instances[0].state).toBe('RESTARTING');
  expect(early.rootCause).toBeNull();
  const ads = byJob(await observeAt(find(/^0 TaskManager.*ads RESTARTING/)), 'ads');
  expect(ads.instances[0].state).toBe('RESTARTING');
  expect(ads.rootCause).toMatch(/^JobMasterException: TaskManager with id taskmanager-1-\w+ is no longer reachable\.$/);
});

test('RUNNING with no TaskManager: tasks waiting are counted, and the watch adds the slots rather than calling it healthy', async () => {
  const m = find(/^0 TaskManager.*ingest RUNNING \(\d+ waiting\).*sink RUNNING \(\d+ waiting\)/);
  const o = await observeAt(m);
  expect(o.cluster).toEqual({ taskManagers: 0, slotsTotal: 0, slotsAvailable: 0 });
  for (const job of JOB_NAMES) {
    const listed = (m.jobsOverview.body as { jobs: Array<{ jid: string; state: string; tasks: Record<string, number> }> }).jobs.find((j) => j.jid === m.jobs[job]!.jobId)!;
    expect(listed.state).toBe('RUNNING');
    expect(byJob(o, job).tasksWaiting).toBe(listed.tasks.scheduled + listed.tasks.created);
    expect(byJob(o, job).tasksWaiting).toBeGreaterThan(0);
  }
  const records = Object.fromEntries(
    JOB_NAMES.map((job) => [job, { ...newJobRecord(job), jobId: m.jobs[job]!.jobId, flinkState: 'RUNNING', submittedAt: o.observedAt - 60_000 }]),
  ) as Record<JobName, JobRecord>;
  const d = decideWatch(spec(), records, o, { lastPeriodicSavepointAt: o.observedAt });
  expect(d.actions).toEqual([{ kind: 'provision', missingSlots: JOB_NAMES.length }]);
  expect(d.notRunning.map((n) => n.why)).toEqual(JOB_NAMES.map((job) => `${byJob(o, job).tasksWaiting} task(s) waiting for a slot`));
});

test('healed: the restart shows in numRestarts once Flink\'s metrics catch up', async () => {
  const o = await observeAt(moments[moments.length - 1]);
  for (const job of JOB_NAMES) expect(byJob(o, job)).toMatchObject({ tasksWaiting: 0, numRestarts: 1 });
});

describe('which listed instance is ours (jobs-overview.json: strays, duplicates, old runs)', () => {
  const listed = jobsOverviewSchema.parse(fixture('jobs-overview').body);
  const t1 = planJobs(parseSpec(testSpec({ name: 't1' })));
  const plannedFixture = { ...t1[0], flinkName: 'gridflow/fixture/a' };

  test('instances newest first; the live one is tracked when nothing is recorded', () => {
    const ingest = instancesOf(t1[0], listed);
    expect(ingest.map((i) => i.state)).toEqual(['RUNNING', 'FINISHED', 'FINISHED']);
    expect(ingest.map((i) => i.startTime)).toEqual([...ingest.map((i) => i.startTime)].sort((a, b) => b - a));
    expect(trackedInstance(ingest, undefined)?.jobId).toBe(ingest[0].jobId);
  });

  test('the recorded instance wins while Flink lists it, even finished; an unknown id falls back to the live one', () => {
    const ingest = instancesOf(t1[0], listed);
    expect(trackedInstance(ingest, ingest[1].jobId)?.jobId).toBe(ingest[1].jobId);
    expect(trackedInstance(ingest, 'ffffffffffffffffffffffffffffffff')?.jobId).toBe(ingest[0].jobId);
  });

  test('two live instances of one name: the older is ours (the watch cancels the newer)', () => {
    const a = instancesOf(plannedFixture, listed).filter((i) => i.state === 'RUNNING');
    expect(a).toHaveLength(2);
    expect(trackedInstance(instancesOf(plannedFixture, listed), null)?.jobId).toBe(a[1].jobId);
  });

  test('no instance at all: nothing tracked, nothing waiting', () => {
    const gone = { ...t1[0], flinkName: 'gridflow/nowhere/ingest' };
    expect(jobObservation(gone, listed, 'abc', null)).toMatchObject({ instances: [], trackedJobId: null, tasksWaiting: 0, latestCheckpoint: null });
  });

  test('tasks still deploying are not waiting for a slot', () => {
    const deploying = listed.find((j) => j.name === 'gridflow/fixture/set' && j.state === 'RUNNING')!;
    expect(deploying.tasks.deploying).toBeGreaterThan(0);
    expect(tasksWaiting(deploying)).toBe(0);
  });
});

test('TaskManager back, tasks still deploying onto it: RECOVERING, no slots added, no periodic savepoint yet', async () => {
  const m = find(/^1 TaskManager.*ingest RUNNING \(\d+ waiting\), dws RUNNING, /);
  const o = await observeAt(m);
  const records = Object.fromEntries(
    JOB_NAMES.map((job) => [job, { ...newJobRecord(job), jobId: m.jobs[job]!.jobId, flinkState: 'RUNNING', submittedAt: o.observedAt - 60_000 }]),
  ) as Record<JobName, JobRecord>;
  const due = { lastPeriodicSavepointAt: 0 };
  const withSavepoints = parseSpec(testSpec({ name: 'sgcc', flink: 'local', savepoints: { every: '1min', retain: 2 } }));
  const d = decideWatch(withSavepoints, records, o, { ...due, savepointWaitsForTasks: true });
  expect(d.notRunning).toEqual([{ job: 'ingest', why: `${byJob(o, 'ingest').tasksWaiting} task(s) waiting for a slot` }]);
  expect(d.actions).toEqual([]);
  // Before the rule (histories recorded earlier), the savepoints were taken here and failed.
  expect(decideWatch(withSavepoints, records, o, due).actions.map((a) => a.kind)).toEqual(['savepoint', 'savepoint', 'savepoint', 'savepoint']);
});
