/**
 * What the workflow tests' Flink says, built from responses recorded on the real cluster rather than
 * invented: each answer is a recorded body (test/fixtures/flink) re-addressed to the model's jobs,
 * then parsed by the real schemas and read by the real observe decisions (src/core/observe.ts), as the
 * observe activity does with a live JobManager.
 *
 * - how a job looks in each situation (RUNNING, RESTARTING, RUNNING with tasks waiting for a slot,
 *   FAILED, FINISHED, CANCELED): the job list entries recorded for it;
 * - what a lost TaskManager does to each job, step by step: the sequence recorded when pipeline sgcc
 *   lost its only TaskManager to kill -9 (taskmanager-lost.json) — the JobManager notices late, jobs
 *   restart, then report RUNNING with every task SCHEDULED until a TaskManager registers; Flink's
 *   numRestarts metric catches up only after that;
 * - checkpoint statistics, metrics and exceptions: the recorded bodies with the model's values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrackedDetails, clusterObservation, jobObservation, needsExceptions, observation, trackedInstance, instancesOf } from '../../src/core/observe';
import { planJobs } from '../../src/core/plan';
import { JobName, PipelineSpec } from '../../src/core/spec';
import { ClusterObservation, FlinkJobState, JobObservation, Observation, RestorePoint } from '../../src/core/types';
import { checkpointsSchema, jobExceptionsSchema, jobMetricsSchema, jobsOverviewSchema, overviewSchema } from '../../src/flink/rest-schemas';

const FIXTURES = join(__dirname, '..', 'fixtures', 'flink');
const read = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

interface ListedJob {
  jid: string;
  name: string;
  state: FlinkJobState;
  'start-time': number;
  'end-time': number;
  duration: number;
  'last-modification': number;
  tasks: Record<string, number>;
}
interface Moment {
  summary: string;
  overview: { body: Record<string, unknown> };
  jobsOverview: { body: { jobs: ListedJob[] } };
  jobs: Record<JobName, { jobId: string; checkpoints: { body: any }; exceptions: { body: any } }>;
}

/** How a job instance looks to the JobManager. */
export type Look = 'running' | 'restarting' | 'waiting' | 'failed' | 'finished' | 'canceled';

const lost: Moment[] = read('taskmanager-lost.json').moments;
const cluster: ListedJob[] = read('jobs-overview.json').body.jobs;
const failedExceptions = read('job-exceptions-failed.json').body;

const waitingTasks = (t: Record<string, number>) => (t.created ?? 0) + (t.scheduled ?? 0);
function lookOf(entry: ListedJob): Look {
  if (entry.state === 'RUNNING') return waitingTasks(entry.tasks) > 0 ? 'waiting' : 'running';
  return entry.state.toLowerCase() as Look;
}
const entryOf = (m: Moment, job: JobName) => m.jobsOverview.body.jobs.find((j) => j.jid === m.jobs[job].jobId)!;
const JOBS: JobName[] = ['ingest', 'dws', 'ads', 'sink'];

/** The recorded job list entry for each job and look (the pipeline's own where recorded, else a fixture job's). */
function templates(): Record<JobName, Record<Look, ListedJob>> {
  const any = (state: FlinkJobState, name?: string) =>
    cluster.find((j) => j.state === state && (name === undefined || j.name === name)) ?? cluster.find((j) => j.state === state)!;
  const out = {} as Record<JobName, Record<Look, ListedJob>>;
  for (const job of JOBS) {
    const seen = {} as Record<Look, ListedJob>;
    for (const m of lost) seen[lookOf(entryOf(m, job))] ??= entryOf(m, job);
    out[job] = {
      running: seen.running,
      restarting: seen.restarting,
      waiting: seen.waiting,
      failed: any('FAILED'),
      finished: any('FINISHED', `gridflow/t1/${job}`),
      canceled: any('CANCELED', `gridflow/t1/${job}`),
    };
    for (const [look, entry] of Object.entries(out[job])) {
      if (!entry) throw new Error(`no recorded job list entry for ${job} ${look}: re-record taskmanager-lost.json`);
    }
  }
  return out;
}
const TEMPLATES = templates();

/**
 * Per job, the looks it went through after the kill while no TaskManager had come back — ingest, for
 * one, still RUNNING for a while (the JobManager had not noticed), then RESTARTING, then waiting.
 */
export const LOSS_SEQUENCE: Record<JobName, Look[]> = (() => {
  const firstBack = lost.findIndex((m, i) => i > 0 && (lost[i - 1].overview.body.taskmanagers as number) === 0 && (m.overview.body.taskmanagers as number) > 0);
  const out = {} as Record<JobName, Look[]>;
  for (const job of JOBS) {
    const looks: Look[] = [];
    for (const m of lost.slice(0, firstBack)) {
      const look = lookOf(entryOf(m, job));
      if (looks[looks.length - 1] !== look) looks.push(look);
    }
    out[job] = looks;
  }
  return out;
})();

/** Where a lost TaskManager's exception is recorded for each job (restarting or waiting for slots). */
const LOST_EXCEPTIONS: Record<JobName, unknown> = Object.fromEntries(
  JOBS.map((job) => [job, [...lost].reverse().find((m) => m.jobs[job].exceptions.body['root-exception'] !== null && lookOf(entryOf(m, job)) !== 'running')!.jobs[job].exceptions.body]),
) as Record<JobName, unknown>;

export interface DoubleInstance {
  jobId: string;
  name: string;
  job: JobName;
  look: Look;
  startTime: number;
  endTime: number | null;
  numRestarts: number;
  /** Newest first. */
  checkpoints: RestorePoint[];
  savepoints: RestorePoint[];
  restoredFrom: string | null;
  /** The error it failed with, or the TaskManager loss, shown as its root exception. */
  failure: { kind: 'error'; message: string } | { kind: 'taskmanager-lost' } | null;
}

export const STATE_OF: Record<Look, FlinkJobState> = {
  running: 'RUNNING',
  waiting: 'RUNNING',
  restarting: 'RESTARTING',
  failed: 'FAILED',
  finished: 'FINISHED',
  canceled: 'CANCELED',
};

export function jobsOverviewBody(instances: DoubleInstance[], now: number): unknown {
  return {
    jobs: instances.map((i) => {
      const t = TEMPLATES[i.job][i.look];
      const end = i.endTime ?? -1;
      return { ...t, jid: i.jobId, name: i.name, 'start-time': i.startTime, 'end-time': end, duration: (i.endTime ?? now) - i.startTime, 'last-modification': i.endTime ?? now, tasks: { ...t.tasks } };
    }),
  };
}

export function overviewBody(c: { taskManagers: number; slotsTotal: number; slotsAvailable: number }, instances: DoubleInstance[]): unknown {
  const count = (state: FlinkJobState) => instances.filter((i) => STATE_OF[i.look] === state).length;
  return {
    ...lost[0].overview.body,
    taskmanagers: c.taskManagers,
    'slots-total': c.slotsTotal,
    'slots-available': c.slotsAvailable,
    'jobs-running': instances.filter((i) => !['finished', 'canceled', 'failed'].includes(i.look)).length,
    'jobs-finished': count('FINISHED'),
    'jobs-cancelled': count('CANCELED'),
    'jobs-failed': count('FAILED'),
  };
}

export function checkpointsBody(i: DoubleInstance): unknown {
  const recorded = lost[0].jobs[i.job].checkpoints.body;
  const completed = (p: RestorePoint, id: number, savepoint: boolean) => ({
    ...recorded.latest.completed,
    id,
    is_savepoint: savepoint,
    checkpoint_type: savepoint ? 'SAVEPOINT' : recorded.latest.completed.checkpoint_type,
    savepointFormat: savepoint ? 'CANONICAL' : null,
    trigger_timestamp: p.at - 5,
    latest_ack_timestamp: p.at,
    external_path: p.path,
    discarded: false,
  });
  const n = i.checkpoints.length;
  return {
    ...recorded,
    counts: { restored: i.restoredFrom ? 1 : 0, total: n + i.savepoints.length, in_progress: 0, completed: n + i.savepoints.length, failed: 0 },
    latest: {
      completed: i.checkpoints[0] ? completed(i.checkpoints[0], n, false) : null,
      savepoint: i.savepoints[0] ? completed(i.savepoints[0], n + i.savepoints.length, true) : null,
      failed: null,
      restored: i.restoredFrom ? { id: 1, restore_timestamp: i.startTime, is_savepoint: /savepoint/.test(i.restoredFrom), external_path: i.restoredFrom } : null,
    },
    history: [],
  };
}

export const metricsBody = (i: DoubleInstance): unknown => [{ id: 'numRestarts', value: String(i.numRestarts) }];

export function exceptionsBody(i: DoubleInstance, now: number): unknown {
  if (!i.failure) return { ...failedExceptions, 'root-exception': null, timestamp: null, exceptionHistory: { entries: [], truncated: false } };
  if (i.failure.kind === 'taskmanager-lost') return LOST_EXCEPTIONS[i.job];
  const message = i.failure.message;
  const trace = (failedExceptions['root-exception'] as string).replace(/^Caused by: .*$/m, `Caused by: ${message}`);
  return { ...failedExceptions, 'root-exception': trace, timestamp: now };
}

/** What the observe activity would return, computed as it does: the real schemas, the real decisions. */
export function observe(
  spec: PipelineSpec,
  tracked: Partial<Record<JobName, string | null>>,
  c: ClusterObservation,
  instances: DoubleInstance[],
  now: number,
): Observation {
  const overview = overviewSchema.parse(overviewBody(c, instances));
  const listed = jobsOverviewSchema.parse(jobsOverviewBody(instances, now));
  const jobs: JobObservation[] = planJobs(spec).map((planned) => {
    const t = trackedInstance(instancesOf(planned, listed), tracked[planned.job]);
    const mine = t && instances.find((i) => i.jobId === t.jobId);
    let details: TrackedDetails | null = null;
    if (t && mine) {
      details = {
        checkpoints: checkpointsSchema.parse(checkpointsBody(mine)),
        metrics: jobMetricsSchema.parse(metricsBody(mine)),
        exceptions: needsExceptions(t) ? jobExceptionsSchema.parse(exceptionsBody(mine, now)) : null,
      };
    }
    return jobObservation(planned, listed, tracked[planned.job], details);
  });
  return observation(now, overview, jobs);
}

export const clusterFrom = (c: ClusterObservation, instances: DoubleInstance[]): ClusterObservation =>
  clusterObservation(overviewSchema.parse(overviewBody(c, instances)));
