/**
 * The pipeline workflow's activity proxies, one per timeout/retry profile. Workflow code.
 */
import { ActivityOptions, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { PipelineActivities } from '../activities';

/** Observations: a few REST calls; an attempt lost with its worker is retried after 30 s. */
export const observe = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
const ACT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};
/** Actions: long, heartbeating, retried for a few minutes. */
export const act = proxyActivities<PipelineActivities>(ACT_OPTIONS);

/** Writes to the sink's ops schema (events, savepoint records). */
export const record = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

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

/** A savepoint trigger id (Flink deduplicates a retried trigger by it). */
export const triggerId = () => uuid4().replace(/-/g, '');
