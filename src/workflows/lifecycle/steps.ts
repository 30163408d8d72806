/**
 * What every lifecycle step of PipelineWorkflow shares: the activity proxies (one per timeout/retry
 * profile), the patched() ids that keep recorded histories replaying, and the two ways a step speaks
 * (an event in gridflow.events, a state transition). Workflow code: deterministic, no I/O.
 */
import { ActivityOptions, log, patched, proxyActivities, uuid4 } from '@temporalio/workflow';

import type { PipelineActivities } from '../../activities';
import { jobOrder } from '../../core/plan';
import { JobName } from '../../core/spec';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';

export const observe = proxyActivities<PipelineActivities>({
  // A few REST calls; an attempt lost with its worker is retried after this.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
export const ACT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};
export const act = proxyActivities<PipelineActivities>(ACT_OPTIONS);

/** An `act` activity with a one-line summary that the Temporal UI shows beside its name ("submit ads v2 from savepoint …"). */
export function actSay<K extends 'submitJob' | 'awaitJobRunning' | 'stopJobWithSavepoint' | 'triggerSavepoint' | 'cancelJob'>(
  name: K,
  summary: string,
  input: Parameters<PipelineActivities[K]>[0],
): ReturnType<PipelineActivities[K]> {
  const fn = act[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): ReturnType<PipelineActivities[K]> };
  return fn.executeWithOptions({ ...ACT_OPTIONS, summary }, [input]);
}
export const record = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/** patched() id of the fresh start on new replication slots (histories recorded before it replay without it). */
export const FRESH_START_PATCH = 'fresh-start-on-new-slots';
/** patched() id of resuming from savepoints an earlier workflow recorded (src/core/resume.ts). */
export const RESUME_PATCH = 'resume-recorded-savepoints';
/** patched() id of removing the retained checkpoints a restored job no longer needs. */
export const DISPOSE_CHECKPOINTS_PATCH = 'dispose-old-checkpoints';
/** patched() id of the RECOVERING state while the watch resubmits jobs or adds slots. */
export const RECOVERING_PATCH = 'watch-recovering-state';
/** patched() id of the watch re-checking, under the lock, that the pipeline is not paused. */
export const WATCH_RECHECK_PATCH = 'watch-rechecks-pause';
/** patched() id of the watch sending a freshness probe each round and saying when the sink falls behind. */
export const FRESHNESS_PATCH = 'watch-freshness';
/** patched() id of recording a step's events in one activity. */
export const BATCHED_EVENTS_PATCH = 'batched-events';
/** Periodic savepoints wait until no task waits for a slot (src/core/watch.ts WatchMemory). */
export const SAVEPOINT_WAITS_PATCH = 'savepoint-waits-for-tasks';
/** patched() id of the ownership claim before a deploy touches anything (src/core/ownership.ts). */
export const OWNERSHIP_PATCH = 'claim-ownership';
/** patched() id of the redeploy recorded as a plan, rolled back on any failure after its first stop. */
export const REDEPLOY_PLAN_PATCH = 'redeploy-plan';
/** patched() id of the watch saying DEGRADED for a job left stopped outside a pause. */
export const STOPPED_JOBS_PATCH = 'watch-stopped-jobs';
/** patched() id of a redeploy signal refused when its spec names addresses instead of clusters (core/clusters.ts). */
export const CLUSTER_NAMES_PATCH = 'cluster-names';

export const triggerId = () => uuid4().replace(/-/g, '');
export const ORDER = jobOrder() as JobName[];

/**
 * A note for gridflow.events. Kept until the step ends (flushEvents: one activity per step, not per
 * note); histories from before that recorded each note with an activity of its own, and still do.
 */
export async function event(p: PipelineModel, kind: string, message: string): Promise<void> {
  log.info(`${p.spec.name}: ${kind}: ${message}`);
  if (patched(BATCHED_EVENTS_PATCH)) {
    p.pendingEvents.push({ at: Date.now(), kind, message });
    return;
  }
  try {
    await record.recordEvent({ spec: p.spec, kind, message });
  } catch (err) {
    // The event log is for people; an unreachable sink must not stop healing.
    log.warn(`could not record event ${kind}: ${failureMessage(err)}`);
  }
}

/** Write the notes a step made, in one activity. A sink that cannot be reached loses them (logged). */
export async function flushEvents(p: PipelineModel): Promise<void> {
  if (p.pendingEvents.length === 0) return;
  const events = p.pendingEvents.splice(0);
  try {
    await record.recordEvents({ spec: p.spec, events });
  } catch (err) {
    log.warn(`could not record ${events.length} event(s): ${failureMessage(err)}`);
  }
}

export async function transition(p: PipelineModel, state: PipelineModel['state'], reason: string | null = null): Promise<void> {
  if (p.setState(state, reason)) await event(p, 'state', reason ? `${state}: ${reason}` : state);
}
