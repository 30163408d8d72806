/**
 * A redeploy as data: which request is acceptable, and the plan of every step — forward and rollback —
 * that the workflow records in its status before the first one acts; the plan interpreter
 * (src/workflows/plan-runner.ts) marks each as it goes, src/workflows/lifecycle/redeploy.ts performs them. Pure; no Node built-ins (workflow sandbox).
 */
import { flinkClusterOf, flussClusterOf } from './clusters';
import { jobOrder, slotsNeeded, stopOrder } from './plan';
import { JOB_NAMES, JobName, PipelineSpec } from './spec';
import { Plan, StepDraft, doneSteps, numbered } from './plans';
import { JobRecord } from './types';
import { JobUpgradeStep, OPERATOR_UPGRADE_MODES, UpgradeMode, planJobUpgrade } from './upgrade';
import { bestRestorePoint } from './watch';
import { flussDatabaseOf } from './versions';

/**
 * Fields a redeploy may not change: where the pipeline reads, writes and runs. Changing one would swap
 * the cluster or the data under the watch; that is a new pipeline (or decommission --drop-slots, then
 * deploy), not a redeploy.
 */
const FIXED_FIELDS: ReadonlyArray<{ path: string; get: (s: PipelineSpec) => string }> = [
  { path: 'source.connection', get: (s) => s.source.connection },
  { path: 'source.cdcConnection', get: (s) => s.source.cdcConnection },
  { path: 'source.schema', get: (s) => s.source.schema },
  { path: 'sink.connection', get: (s) => s.sink.connection },
  { path: 'sink.schema', get: (s) => s.sink.schema },
  { path: 'fluss.cluster', get: flussClusterOf },
  { path: 'fluss.database', get: (s) => s.fluss.database },
  { path: 'flink.cluster', get: flinkClusterOf },
];

/** Why a redeploy from `previous` to `next` is refused, or null. */
export function refusedChange(previous: PipelineSpec, next: PipelineSpec): string | null {
  if (next.name !== previous.name) return `spec.name is ${next.name}, but this workflow runs pipeline ${previous.name}`;
  const changed = FIXED_FIELDS.filter((f) => f.get(previous) !== f.get(next));
  if (!changed.length) return null;
  return (
    `a redeploy cannot change ${changed.map((f) => `${f.path} (${f.get(previous)} → ${f.get(next)})`).join(', ')}: ` +
    `it moves jobs, never the pipeline's source, sink, Fluss database or clusters; deploy another pipeline there, ` +
    `or decommission this one with --drop-slots and deploy it again`
  );
}

/** Largest request accepted (a spec is a few KB; anything near this is not a spec). */
const MAX_REQUEST_BYTES = 64 * 1024;

/** A `jobs` list of a request (redeploy, savepoint): known jobs, each once. */
export function jobsProblem(jobs: unknown): string | null {
  if (jobs === undefined) return null;
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > JOB_NAMES.length) {
    return `jobs must be a non-empty list of at most ${JOB_NAMES.length} of ${JOB_NAMES.join(', ')}`;
  }
  const bad = jobs.find((j) => !(JOB_NAMES as readonly unknown[]).includes(j));
  if (bad !== undefined) return `jobs: ${JSON.stringify(bad).slice(0, 60)} is not one of ${JOB_NAMES.join(', ')}`;
  if (new Set(jobs).size !== jobs.length) return 'jobs: a job is named twice';
  return null;
}

/** The shape of a redeploy request, checked before anything runs (update validator, signal handler). */
export function requestProblem(request: { mode?: unknown; jobs?: unknown; requestId?: unknown; spec?: unknown } | null | undefined): string | null {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return 'the redeploy request must be an object';
  const size = JSON.stringify(request).length;
  if (size > MAX_REQUEST_BYTES) return `the redeploy request is ${size} bytes; at most ${MAX_REQUEST_BYTES} are accepted`;
  if (request.spec !== undefined && (request.spec === null || typeof request.spec !== 'object' || Array.isArray(request.spec))) {
    return 'spec must be a pipeline spec (an object)';
  }
  if (request.mode !== undefined && !(OPERATOR_UPGRADE_MODES as readonly unknown[]).includes(request.mode)) {
    return `mode ${JSON.stringify(request.mode).slice(0, 60)} is not one of ${OPERATOR_UPGRADE_MODES.join(', ')}`;
  }
  const jobs = jobsProblem(request.jobs);
  if (jobs) return jobs;
  if (request.requestId !== undefined && (typeof request.requestId !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(request.requestId))) {
    return 'requestId must be 1–100 characters of letters, digits and . _ : -';
  }
  return null;
}

export interface RedeployPlan extends Plan {
  requestId: string | null;
  fromVersion: number;
  toVersion: number;
  mode: UpgradeMode;
  jobs: JobName[];
  /** Per moving job, downstream first: how it is stopped and what it restarts from. */
  upgrades: JobUpgradeStep[];
}

/** Every step of moving `jobs` from `previous` to `next`, and of rolling back, before any runs. */
export function planRedeploy(input: {
  previous: PipelineSpec;
  next: PipelineSpec;
  records: Record<JobName, JobRecord>;
  jobs: readonly JobName[];
  mode: UpgradeMode;
  requestId?: string | null;
}): RedeployPlan {
  const { previous, next, records, mode } = input;
  const upgrades = stopOrder(input.jobs).map((job) => planJobUpgrade(mode, records[job]));
  const upstreamFirst = (jobOrder() as JobName[]).filter((j) => input.jobs.includes(j));
  const forward: StepDraft[] = [
    ...upgrades.map((u) => ({
      kind: 'stop' as const,
      job: u.job,
      what: `${u.job}: ${u.mode === 'savepoint' ? 'stop with a savepoint' : u.stop === 'cancel' ? `cancel (${u.mode})` : `already stopped (${u.mode})`}${u.fallback ? ` — ${u.fallback}` : ''}`,
    })),
    { kind: 'tables', what: `Fluss tables of v${next.version} in ${flussDatabaseOf(next)}` },
    { kind: 'slots', what: `${slotsNeeded(next, input.jobs)} task slot(s) for v${next.version}` },
    ...upstreamFirst.map((job) => ({ kind: 'submit' as const, job, what: `${job}: submit v${next.version} from its restore point` })),
    { kind: 'await', what: `${upstreamFirst.join(', ')} RUNNING within ${next.watch.readinessTimeout}` },
  ];
  const back: StepDraft[] = [
    { kind: 'cancel-new', what: `cancel what was submitted of v${next.version}` },
    { kind: 'slots-old', what: `${slotsNeeded(previous, input.jobs)} task slot(s) for v${previous.version}` },
    ...upstreamFirst.map((job) => ({ kind: 'restore-old' as const, job, what: `${job}: start v${previous.version} again from the restore point it was stopped with` })),
    { kind: 'await-old', what: `v${previous.version} RUNNING within ${previous.watch.readinessTimeout}` },
  ];
  const steps = numbered(forward, back);
  return { kind: 'redeploy', requestId: input.requestId ?? null, fromVersion: previous.version, toVersion: next.version, mode, jobs: upstreamFirst, upgrades, steps };
}

/** The jobs a rollback starts again: those its stop steps stopped, upstream first. */
export function rollbackJobs(plan: RedeployPlan): JobName[] {
  const stopped = doneSteps(plan, 'stop').map((st) => st.job!);
  return plan.jobs.filter((j) => stopped.includes(j));
}

/**
 * The sentence for jobs left stopped when even the rollback failed: each job and what it can restart
 * from, so the operator knows what a `gridflow redeploy --jobs` would start.
 */
export function strandedSentence(records: Record<JobName, JobRecord>): string | null {
  const stopped = JOB_NAMES.filter((j) => records[j].stopped);
  if (!stopped.length) return null;
  return `job(s) stopped and not running: ${stopped
    .map((j) => `${j} (restore point ${bestRestorePoint(records[j])?.path ?? 'none'})`)
    .join(', ')}; start them with gridflow redeploy --jobs ${stopped.join(',')}`;
}
