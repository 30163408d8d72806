/**
 * What every lifecycle step of PipelineWorkflow shares: the activity proxies (one per timeout/retry
 * profile), the patched() ids that keep recorded histories replaying, and the two ways a step speaks
 * (an event in gridflow.events, a state transition). Workflow code: deterministic, no I/O.
 */
import { ActivityOptions, log, patched, proxyActivities, sleep, uuid4 } from '@temporalio/workflow';

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
  options: Partial<ActivityOptions> = {},
): ReturnType<PipelineActivities[K]> {
  const fn = act[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): ReturnType<PipelineActivities[K]> };
  return fn.executeWithOptions({ ...ACT_OPTIONS, ...options, summary }, [input]);
}

/**
 * The watch's own attempts (a resubmit): a few quick tries, not two minutes under the lock — the next
 * round tries again, and meanwhile the pipeline says DEGRADED naming what failed.
 */
export const WATCH_ACT_RETRY: Partial<ActivityOptions> = { retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 } };
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
/** patched() id of keeping events and savepoint records the sink could not take, instead of dropping them. */
export const DURABLE_RECORDS_PATCH = 'durable-records';
/** patched() id of the watch saying DEGRADED when one of its actions (a resubmit) failed, naming it. */
export const ACTION_FAILURES_PATCH = 'watch-action-failures';
/** patched() id of a redeploy signal refused when its spec names addresses instead of clusters (core/clusters.ts). */
export const CLUSTER_NAMES_PATCH = 'cluster-names';
/** A job that read past what Fluss still has makes the pipeline DEGRADED, naming the loss (issue 20). */
export const FLUSS_DATA_LOSS_PATCH = 'watch-fluss-data-loss';

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

/** Notes kept while the sink cannot take them; beyond this the oldest are dropped (and that is said). */
export const MAX_PENDING_EVENTS = 500;

/**
 * Write what a step left to record: savepoint records the sink could not take earlier first (in order;
 * the first that fails keeps the rest), then the step's notes in one activity. A sink that cannot be
 * reached keeps both for the next step (patch 'durable-records'; before it, the notes were lost).
 */
export async function flushEvents(p: PipelineModel): Promise<void> {
  while (p.pendingRecords.length) {
    try {
      await record.recordSavepoint(p.pendingRecords[0]);
      p.pendingRecords.shift();
    } catch (err) {
      log.warn(`${p.pendingRecords.length} savepoint record(s) still not written: ${failureMessage(err)}`);
      break;
    }
  }
  if (p.pendingEvents.length === 0) return;
  const events = p.pendingEvents.splice(0);
  try {
    await record.recordEvents({ spec: p.spec, events });
  } catch (err) {
    log.warn(`could not record ${events.length} event(s): ${failureMessage(err)}`);
    if (patched(DURABLE_RECORDS_PATCH)) {
      const kept = [...events, ...p.pendingEvents];
      const dropped = Math.max(0, kept.length - MAX_PENDING_EVENTS);
      p.pendingEvents = kept.slice(dropped);
      if (dropped) log.warn(`dropped the ${dropped} oldest unrecorded event(s): more than ${MAX_PENDING_EVENTS} wait for the sink`);
    }
  }
}

export type SavepointRecord = Parameters<PipelineActivities['recordSavepoint']>[0];

/**
 * Record a savepoint (the restore point a later workflow resumes from). A sink that cannot take it now
 * keeps it in the workflow, written after the next step (flushEvents) — never silently lost.
 */
export async function recordSavepoint(p: PipelineModel, input: SavepointRecord): Promise<void> {
  try {
    await record.recordSavepoint(input);
  } catch (err) {
    log.warn(`savepoint record of ${input.job} not written yet: ${failureMessage(err)}`);
    if (patched(DURABLE_RECORDS_PATCH)) p.pendingRecords.push(input);
  }
}

/**
 * Before the workflow ends (decommission): wait for the sink to take what is pending, saying so, for at
 * most `maxWaitMs`. Returns whether everything was written.
 */
export async function drainRecords(p: PipelineModel, maxWaitMs: number): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    await flushEvents(p);
    if (!p.pendingRecords.length) return true;
    if (Date.now() >= deadline) return false;
    p.setState(p.state, `waiting for the sink to record ${p.pendingRecords.length} savepoint(s) (what a later deploy resumes from)`);
    await sleep('15s');
  }
}

export async function transition(p: PipelineModel, state: PipelineModel['state'], reason: string | null = null): Promise<void> {
  if (p.setState(state, reason)) await event(p, 'state', reason ? `${state}: ${reason}` : state);
}
