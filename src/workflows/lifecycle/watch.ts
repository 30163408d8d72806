/** The watch: one round of observe → decide (src/core/watch.ts) → act, then say how the pipeline is. */
import { log, patched } from '@temporalio/workflow';
import { findBottleneck, judgeLag } from '../../core/lag';
import { JOB_NAMES, JobName, durationMs } from '../../core/spec';
import { Observation } from '../../core/types';
import { checkpointDirToDispose, decideWatch, isFlussDataLoss } from '../../core/watch';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { awaitRunning, provision, submit, trackedIds } from './deploy';
import { savepointNow } from './savepoints';
import { ACTION_FAILURES_PATCH, DISPOSE_CHECKPOINTS_PATCH, FLUSS_DATA_LOSS_PATCH, FRESHNESS_PATCH, WATCH_ACT_RETRY, RECOVERING_PATCH, SAVEPOINT_WAITS_PATCH, STOPPED_JOBS_PATCH, WATCH_RECHECK_PATCH, act, actSay, event, observe, transition } from './steps';

export async function watch(p: PipelineModel): Promise<void> {
  // The loop checked before waiting for the lock; a pause or decommission may have run meanwhile (a
  // watch that ran anyway reported RUNNING for a paused pipeline until the next round).
  if ((p.state === 'PAUSED' || p.decommission) && patched(WATCH_RECHECK_PATCH)) return;
  let obs: Observation;
  try {
    obs = await observe.observeJobs({ spec: p.spec, tracked: trackedIds(p) });
    p.observeFailures = 0;
  } catch (err) {
    // Observing failed: try again next round; only a persistent failure is worth a state change.
    p.observeFailures++;
    if (p.observeFailures >= 3) await transition(p, 'DEGRADED', `cannot observe Flink: ${failureMessage(err)}`);
    return;
  }
  p.observedAt = obs.observedAt;
  const decision = decideWatch(p.spec, p.records, obs, {
    lastPeriodicSavepointAt: p.lastPeriodicSavepointAt,
    savepointWaitsForTasks: patched(SAVEPOINT_WAITS_PATCH),
    // Only when a job is stopped, so a history without one replays without the marker.
    stoppedJobsDegrade: JOB_NAMES.some((j) => p.records[j].stopped) && patched(STOPPED_JOBS_PATCH),
    // Likewise only once a loss was seen (the fold below records it; decideWatch folds first).
    flussDataLossDegrades: obs.jobs.some((o) => p.records[o.job].flussDataLoss || (o.rootCause && isFlussDataLoss(o.rootCause))) && patched(FLUSS_DATA_LOSS_PATCH),
  });
  p.records = decision.records;
  for (const note of decision.notes) await event(p, 'watch', note);

  const healing = decision.actions.filter((a) => a.kind === 'resubmit' || a.kind === 'provision');
  if (healing.length && patched(RECOVERING_PATCH)) {
    // Say so while it happens: the jobs being brought back are not running.
    const what = healing.map((a) => (a.kind === 'resubmit' ? `resubmitting ${a.job}` : `adding ${a.missingSlots} task slot(s)`));
    await transition(p, 'RECOVERING', what.join(', '));
  }
  const resubmitted: Array<[JobName, string]> = [];
  const actionFailures: string[] = [];
  for (const action of decision.actions) {
    try {
      switch (action.kind) {
        case 'provision':
          if (!(await provision(p, action.missingSlots))) return;
          break;
        case 'cancel-duplicate':
          await actSay('cancelJob', `cancel duplicate ${action.job} job ${action.jobId}`, { spec: p.spec, jobId: action.jobId });
          break;
        case 'resubmit': {
          if (!action.restore) {
            p.alert(obs.observedAt, 'stateless-start', `${action.job} restarts without state (no checkpoint or savepoint to restore): rows deleted upstream earlier may stay in its outputs; run gridflow verify now`);
          }
          const r = p.records[action.job];
          p.records[action.job] = { ...r, restarts: [...r.restarts, obs.observedAt] };
          // Few quick attempts (patched: histories from before retried for two minutes under the lock).
          const options = patched(ACTION_FAILURES_PATCH) ? WATCH_ACT_RETRY : {};
          resubmitted.push([action.job, await submit(p, p.spec, action.job, action.restore, options)]);
          break;
        }
        case 'savepoint':
          // Handled below, as one round.
          break;
        case 'dispose':
          await act.disposeSavepoint({ spec: p.spec, path: action.path });
          break;
      }
    } catch (err) {
      const failed = `${action.kind}${'job' in action ? ` ${action.job}` : ''} failed: ${failureMessage(err)}`;
      await event(p, 'error', failed);
      actionFailures.push(failed);
    }
  }
  const savepoints = decision.actions.filter((a) => a.kind === 'savepoint').map((a) => (a as { job: JobName }).job);
  if (savepoints.length) {
    p.lastPeriodicSavepointAt = obs.observedAt;
    await savepointNow(p, savepoints, 'periodic');
  }
  const failures = resubmitted.length ? await awaitRunning(p, p.spec, resubmitted) : [];
  await disposeOldCheckpoints(p);

  const behind = patched(FRESHNESS_PATCH) ? await watchFreshness(p) : null;

  if (p.state === 'BLOCKED' && decision.actions.some((a) => a.kind === 'provision')) return;
  // A failed action (a resubmit the SQL Gateway could not take) is the pipeline's state, not only an event.
  // (patched() only when one failed: histories without a failure replay without the marker.)
  const failedActions = actionFailures.length && patched(ACTION_FAILURES_PATCH) ? actionFailures : [];
  const problems = [decision.health.reason, ...failures, ...failedActions].filter(Boolean);
  // Jobs Flink is still restarting (or whose tasks wait for slots) are not RUNNING yet. (Jobs resubmitted
  // above are not among them: they were not live, and were awaited.)
  if (!problems.length && decision.notRunning.length && patched(RECOVERING_PATCH)) {
    await transition(p, 'RECOVERING', [...decision.notRunning.map((n) => `${n.job}: ${n.why}`), behind].filter(Boolean).join('; '));
  } else {
    const reason = [...problems, behind].filter(Boolean).join('; ') || null;
    await transition(p, reason ? 'DEGRADED' : 'RUNNING', reason);
  }
}

/**
 * This round's freshness probe, and how far behind the sink is by the earlier ones. Past the spec's
 * limit: the sentence that says so, naming the operator Flink shows saturated. A failed measurement
 * keeps the last one (shown with its age) and judges nothing.
 */
export async function watchFreshness(p: PipelineModel): Promise<string | null> {
  try {
    p.freshness = await observe.measureFreshness({ spec: p.spec });
  } catch (err) {
    log.warn(`${p.spec.name}: freshness not measured: ${failureMessage(err)}`);
    return null;
  }
  const limitMs = durationMs(p.spec.watch.maxFreshness);
  if (judgeLag(p.freshness, limitMs) === null) return null;
  let bottleneck;
  try {
    bottleneck = findBottleneck((await observe.observeOperatorLoad({ spec: p.spec })).loads);
  } catch (err) {
    log.warn(`${p.spec.name}: operator load not observed: ${failureMessage(err)}`);
  }
  return judgeLag(p.freshness, limitMs, bottleneck);
}

/** Remove the retained checkpoints of instances a running job has left behind (checkpointDirToDispose). */
export async function disposeOldCheckpoints(p: PipelineModel): Promise<void> {
  for (const job of JOB_NAMES) {
    const dir = checkpointDirToDispose(p.spec, p.records[job]);
    if (!dir || !patched(DISPOSE_CHECKPOINTS_PATCH)) continue;
    // Remembered before acting: a failure is reported once, not every round.
    p.records[job] = { ...p.records[job], disposedCheckpointDir: dir };
    try {
      const { note } = await act.disposeCheckpointDir({ spec: p.spec, dir });
      await event(p, 'dispose', `${job}: the checkpoints of the instance it restored from are no longer needed; ${note}`);
    } catch (err) {
      await event(p, 'error', `${job}: removing old checkpoints ${dir} failed: ${failureMessage(err)}`);
    }
  }
}
