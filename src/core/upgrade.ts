/**
 * How a redeploy moves a job from the running version to the new one, as a pure function of the
 * upgrade mode and what is observed — the Flink Kubernetes Operator's upgrade modes, with every
 * fallback named so the event log says what happened and why.
 *
 *   savepoint   stop with a savepoint, start the new version from it (default; exact state)
 *   last-state  cancel (checkpoints are retained), start from the newest retained checkpoint
 *   stateless   cancel, start empty — a fallback only (no savepoint, no checkpoint): the job re-reads
 *               its sources, but rows its predecessor wrote and that were deleted upstream since its
 *               sources' last snapshot stay behind; the workflow raises an alert to verify
 *
 * No Node built-ins (workflow sandbox).
 */
import { bestRestorePoint } from './watch';
import { JobName } from './spec';
import { JobRecord, RestorePoint, isLive } from './types';

export type UpgradeMode = 'savepoint' | 'last-state' | 'stateless';

/**
 * What an operator may ask for. Stateless is only a fallback: a dws, ads or sink job started empty never
 * deletes rows its predecessor wrote (sql/NOTES.md), so it is taken only when nothing else exists, and
 * raises an alert saying to verify.
 */
export const OPERATOR_UPGRADE_MODES = ['savepoint', 'last-state'] as const;

export type JobUpgradeStep =
  | { job: JobName; mode: 'savepoint'; stop: 'stop-with-savepoint'; jobId: string; fallback: null }
  | { job: JobName; mode: 'last-state'; stop: 'cancel' | 'none'; jobId: string | null; restore: RestorePoint; fallback: string | null }
  | { job: JobName; mode: 'stateless'; stop: 'cancel' | 'none'; jobId: string | null; fallback: string | null };

/** Plan one job's move. `requested` is what the operator asked for; fallbacks are explained. */
export function planJobUpgrade(requested: UpgradeMode, record: JobRecord): JobUpgradeStep {
  const running = record.jobId !== null && record.flinkState === 'RUNNING';
  const live = isLive(record);
  const stop = live ? ('cancel' as const) : ('none' as const);
  const jobId = live ? record.jobId : null;

  if (requested === 'savepoint') {
    if (running) return { job: record.job, mode: 'savepoint', stop: 'stop-with-savepoint', jobId: record.jobId!, fallback: null };
    const restore = bestRestorePoint(record);
    const why = `job is ${record.flinkState ?? 'not on the cluster'}, no savepoint can be taken`;
    if (restore) return { job: record.job, mode: 'last-state', stop, jobId, restore, fallback: `falling back to last-state from savepoint: ${why}` };
    return { job: record.job, mode: 'stateless', stop, jobId, fallback: `falling back to stateless from savepoint: ${why} and no retained checkpoint exists` };
  }
  if (requested === 'last-state') {
    const restore = bestRestorePoint(record);
    if (restore) return { job: record.job, mode: 'last-state', stop, jobId, restore, fallback: null };
    return { job: record.job, mode: 'stateless', stop, jobId, fallback: 'falling back to stateless from last-state: no retained checkpoint or savepoint' };
  }
  return { job: record.job, mode: 'stateless', stop, jobId, fallback: null };
}

/** Jobs whose definition changed between two deployments (by fingerprint); all when `force`. */
export function changedJobs(
  current: Record<JobName, { fingerprint: string | null }>,
  next: Record<JobName, string>,
  force: readonly JobName[] = [],
): JobName[] {
  return (Object.keys(next) as JobName[]).filter((job) => force.includes(job) || current[job]?.fingerprint !== next[job]);
}
