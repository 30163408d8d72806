/**
 * A deploy as data (the plan the interpreter runs, src/workflows/lifecycle/deploy.ts performs its
 * steps) and the decisions inside it: which jobs to start, and whether they continue from state,
 * resume from an earlier workflow's savepoints, or start fresh over rebuilt outputs. Pure; no Node
 * built-ins (workflow sandbox).
 */
import { jobOrder } from './plan';
import { Plan, numbered } from './plans';
import { JobName, PipelineSpec, durationMs } from './spec';
import { JobRecord, Observation, RestorePoint, isLive } from './types';
import { bestRestorePoint, foldObservation } from './watch';
import { flussDatabaseOf } from './versions';

/** Upstream first. */
const ORDER = jobOrder() as JobName[];

/**
 * Every step of (finishing) a deploy. Each is idempotent: after a crash or a failure the main loop
 * runs the plan again and it converges without duplicates. Nothing to undo: a failure leaves the
 * pipeline DEGRADED (or BLOCKED) with the reason, and the next round tries again.
 */
export function planDeploy(spec: PipelineSpec): Plan {
  return {
    kind: 'deploy',
    steps: numbered([
      { kind: 'preflight', what: `source ready for CDC (wal_level, rights, slots) at ${spec.source.connection}` },
      { kind: 'claim', what: `claim ${flussDatabaseOf(spec)} and ${spec.sink.schema} for ${spec.name}` },
      { kind: 'adopt', what: 'observe Flink; adopt jobs of this pipeline already running' },
      { kind: 'slots', what: 'task slots for the jobs to start' },
      { kind: 'prepare-source', what: 'publications and replication slots' },
      { kind: 'prepare-sink', what: `sink schema ${spec.sink.schema}` },
      { kind: 'start-point', what: 'continue from state, resume from recorded savepoints, or start fresh from the snapshot' },
      { kind: 'tables', what: `Fluss tables in ${flussDatabaseOf(spec)}` },
      ...ORDER.map((job) => ({ kind: 'submit' as const, job, what: `${job}: submit from its restore point (or adopt it)` })),
      { kind: 'await', what: `every job RUNNING within ${spec.watch.readinessTimeout}` },
    ]),
  };
}

/** Jobs the deploy starts: those not live, upstream first. */
export function jobsToStart(records: Record<JobName, JobRecord>): JobName[] {
  return ORDER.filter((job) => !isLive(records[job]));
}

/** Fold an observation into the records without deciding anything (deploy adopts live jobs with it). */
export function absorbObservation(spec: PipelineSpec, records: Record<JobName, JobRecord>, obs: Observation): Record<JobName, JobRecord> {
  const next = { ...records };
  for (const o of obs.jobs) next[o.job] = foldObservation(records[o.job], o, obs.observedAt, durationMs(spec.watch.restartWindow));
  return next;
}

/** No job is live and none has a restore point of its own. */
function nothingToContinue(records: Record<JobName, JobRecord>): boolean {
  return ORDER.every((job) => !isLive(records[job]) && bestRestorePoint(records[job]) === null);
}

/**
 * Whether to ask the sink for savepoints an earlier workflow recorded: only when this workflow knows
 * no state of its own and the replication slots were not just created (then every restore point is void).
 */
export function lookForRecordedPoints(records: Record<JobName, JobRecord>, createdSlots: readonly string[]): boolean {
  return nothingToContinue(records) && createdSlots.length === 0;
}

interface StartDecision {
  /** Rebuild the outputs from the source snapshot, every recorded restore point void. */
  fresh: boolean;
  /** Restore points found in the sink's records, to put first in each job's list. */
  resume: Partial<Record<JobName, RestorePoint>> | null;
  /** The sentence for the event log (null: nothing to say, the jobs continue from their own state). */
  note: { kind: 'resume' | 'fresh-start'; message: string } | null;
}

/**
 * Fresh start or resume. A fresh start when nothing can continue: new replication slots (changes
 * between the old slot and the new one were never captured, so every restore point is void), or no
 * job with state to restore (a job started empty over existing outputs never deletes the rows its
 * predecessor wrote). Never under a live job.
 */
export function decideStart(input: {
  records: Record<JobName, JobRecord>;
  createdSlots: readonly string[];
  /** What the sink's records offered, when asked (lookForRecordedPoints). */
  recorded: { resume: true; points: Record<JobName, RestorePoint>; summary: string } | { resume: false; reason: string } | null;
}): StartDecision {
  const { records, createdSlots, recorded } = input;
  if (recorded?.resume) {
    return { fresh: false, resume: recorded.points, note: { kind: 'resume', message: `continuing from the savepoints an earlier workflow recorded: ${recorded.summary}` } };
  }
  const anyLive = ORDER.some((job) => isLive(records[job]));
  const fresh = !anyLive && (createdSlots.length > 0 || nothingToContinue(records));
  if (!fresh) return { fresh: false, resume: null, note: null };
  const why = createdSlots.length
    ? `new replication slot(s) ${createdSlots.join(', ')}`
    : `no job has state to restore${recorded && !recorded.resume ? ` (recorded savepoints unusable: ${recorded.reason})` : ''}`;
  return { fresh: true, resume: null, note: { kind: 'fresh-start', message: `${why}: rebuilding the Fluss and sink tables from the source snapshot` } };
}

/** After a fresh start: every restore point a job knew is void (never restored from again). */
export function voidRestorePoints(r: JobRecord): JobRecord {
  const stale = [r.lastCheckpoint, ...r.savepoints].filter((x): x is RestorePoint => x !== null).map((x) => x.path);
  return { ...r, badRestorePaths: [...new Set([...r.badRestorePaths, ...stale])] };
}
