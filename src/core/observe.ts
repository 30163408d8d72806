/**
 * What the JobManager's answers mean for the pipeline: which listed instance of each job is the one
 * the workflow tracks, how many of its tasks wait for a slot, and where its latest checkpoint and
 * savepoint are. Pure: the observe activity (src/activities/observe.ts) fetches, these functions
 * decide, and the workflow tests' Flink double (test/workflows/flink-double.ts) feeds them responses
 * recorded from a real cluster.
 */
import type { CheckpointingStats, ClusterOverview, CompletedCheckpoint, JobExceptions, JobOverview } from '../flink/rest-schemas';
import type { PlannedJob } from './plan';
import { ClusterObservation, JobInstance, JobObservation, Observation, RestorePoint, isLiveState } from './types';

function toRestorePoint(kind: RestorePoint['kind'], c: CompletedCheckpoint, jobId: string): RestorePoint {
  return { kind, path: c.externalPath, at: c.latestAckTimestamp, jobId };
}

/** Every instance the JobManager lists under the job's name, newest first. */
export function instancesOf(planned: PlannedJob, listed: readonly JobOverview[]): JobInstance[] {
  return listed
    .filter((j) => j.name === planned.flinkName)
    .sort((a, b) => b.startTime - a.startTime)
    .map((j) => ({ jobId: j.jid, state: j.state, startTime: j.startTime, endTime: j.endTime }));
}

/**
 * The instance to track: the one the workflow recorded, when Flink still lists it; else the oldest
 * live one (a second live instance is a stray the watch cancels); else none.
 */
export function trackedInstance(instances: readonly JobInstance[], recorded: string | null | undefined): JobInstance | null {
  return (
    instances.find((i) => i.jobId === recorded) ??
    instances.filter((i) => isLiveState(i.state)).pop() ??
    null
  );
}

/**
 * Subtasks waiting for a slot (CREATED or SCHEDULED). After a lost TaskManager, Flink reports the
 * job RUNNING again with its tasks SCHEDULED until slots come back or the slot request times out.
 */
export function tasksWaiting(listed: JobOverview | undefined): number {
  const tasks = listed?.tasks ?? {};
  return (tasks.created ?? 0) + (tasks.scheduled ?? 0);
}

/** Whether the tracked instance's exceptions are worth fetching: a RUNNING job's are history. */
export const needsExceptions = (tracked: JobInstance) => tracked.state !== 'RUNNING';

/** What the observe activity fetched for the tracked instance; null where the request failed. */
export interface TrackedDetails {
  checkpoints: CheckpointingStats | null;
  /** Job metrics by id (`numRestarts`); absent or NaN when Flink has none yet. */
  metrics: Record<string, number> | null;
  exceptions: JobExceptions | null;
}

export function jobObservation(
  planned: PlannedJob,
  listed: readonly JobOverview[],
  recorded: string | null | undefined,
  details: TrackedDetails | null,
): JobObservation {
  const instances = instancesOf(planned, listed);
  const tracked = trackedInstance(instances, recorded);
  const obs: JobObservation = {
    job: planned.job,
    flinkName: planned.flinkName,
    instances,
    trackedJobId: tracked?.jobId ?? null,
    latestCheckpoint: null,
    latestSavepoint: null,
    completedCheckpoints: 0,
    numRestarts: null,
    rootCause: null,
    tasksWaiting: tracked ? tasksWaiting(listed.find((j) => j.jid === tracked.jobId)) : 0,
  };
  if (!tracked || !details) return obs;
  const stats = details.checkpoints;
  if (stats) {
    obs.completedCheckpoints = stats.counts.completed;
    const c = stats.latest.completed;
    // `latest.completed` may be a savepoint, or one whose files Flink already discarded.
    if (c && !c.isSavepoint && !c.discarded) obs.latestCheckpoint = toRestorePoint('checkpoint', c, tracked.jobId);
    if (stats.latest.savepoint) obs.latestSavepoint = toRestorePoint('savepoint', stats.latest.savepoint, tracked.jobId);
  }
  const restarts = details.metrics?.numRestarts;
  obs.numRestarts = restarts !== undefined && Number.isFinite(restarts) ? restarts : null;
  obs.rootCause = details.exceptions?.rootCause ?? null;
  return obs;
}

export const clusterObservation = (o: ClusterOverview): ClusterObservation => ({
  taskManagers: o.taskManagers,
  slotsTotal: o.slotsTotal,
  slotsAvailable: o.slotsAvailable,
});

export function observation(observedAt: number, overview: ClusterOverview, jobs: JobObservation[]): Observation {
  return { observedAt, cluster: clusterObservation(overview), jobs };
}
