/** The watch: one round of observe → decide (src/core/watch.ts) → act, then say how the pipeline is. */
import { log } from '@temporalio/workflow';
import { findBottleneck, judgeLag } from '../../core/lag';
import { JOB_NAMES, JobName, durationMs } from '../../core/spec';
import { Observation } from '../../core/types';
import { decideLossRepair, differenceSentence } from '../../core/repair';
import { checkpointDirToDispose, decideWatch, isFlussDataLoss, watchState } from '../../core/watch';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { awaitRunning, provision, submit, trackedIds } from './deploy';
import { repair } from './repair';
import { savepointNow } from './savepoints';
import { event, transition } from '../events';
import { PATCHES, patch, retired } from '../patches';
import { WATCH_ACT_RETRY, act, actSay, observe } from '../proxies';

export async function watch(p: PipelineModel): Promise<void> {
  // The loop checked before waiting for the lock; a pause or decommission may have run meanwhile (a
  // watch that ran anyway reported RUNNING for a paused pipeline until the next round).
  if (p.s.state === 'PAUSED' || p.decommission) {
    retired(PATCHES.watchRecheck);
    return;
  }
  let obs: Observation;
  try {
    obs = await observe.observeJobs({ spec: p.spec, tracked: trackedIds(p) });
    p.s.observeFailures = 0;
  } catch (err) {
    // Observing failed: try again next round; only a persistent failure is worth a state change.
    p.s.observeFailures++;
    if (p.s.observeFailures >= 3) await transition(p, 'DEGRADED', `cannot observe Flink: ${failureMessage(err)}`);
    return;
  }
  p.s.observedAt = obs.observedAt;
  retired(PATCHES.savepointWaits);
  // Only when a job is stopped, where the history of a run before the patch has its marker.
  const someStopped = JOB_NAMES.some((j) => p.s.records[j].stopped);
  if (someStopped) retired(PATCHES.stoppedJobs);
  const decision = decideWatch(p.spec, p.s.records, obs, {
    lastPeriodicSavepointAt: p.s.lastPeriodicSavepointAt,
    savepointWaitsForTasks: true,
    stoppedJobsDegrade: someStopped,
    // Likewise only once a loss was seen (the fold below records it; decideWatch folds first).
    flussDataLossDegrades: obs.jobs.some((o) => p.s.records[o.job].flussDataLoss || (o.rootCause && isFlussDataLoss(o.rootCause))) && patch(PATCHES.flussDataLoss),
  });
  p.s.records = decision.records;
  for (const note of decision.notes) await event(p, 'watch', note);

  const healing = decision.actions.filter((a) => a.kind === 'resubmit' || a.kind === 'provision');
  if (healing.length) {
    retired(PATCHES.recovering);
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
          const r = p.s.records[action.job];
          p.s.records[action.job] = { ...r, restarts: [...r.restarts, obs.observedAt] };
          // Few quick attempts, not two minutes under the lock.
          retired(PATCHES.actionFailures);
          resubmitted.push([action.job, await submit(p, p.spec, action.job, action.restore, WATCH_ACT_RETRY)]);
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
    p.s.lastPeriodicSavepointAt = obs.observedAt;
    await savepointNow(p, savepoints, 'periodic');
  }
  const failures = resubmitted.length ? await awaitRunning(p, p.spec, resubmitted) : [];
  await disposeOldCheckpoints(p);

  retired(PATCHES.freshness);
  const behind = await watchFreshness(p);
  const sourceSchema = patch(PATCHES.sourceSchema) ? await watchSourceSchema(p) : null;

  // A failed action (a resubmit the SQL Gateway could not take) is the pipeline's state, not only an
  // event; the marker only where a history before the patch recorded a failure.
  const provisioned = decision.actions.some((a) => a.kind === 'provision');
  if (!(p.s.state === 'BLOCKED' && provisioned)) {
    if (actionFailures.length) retired(PATCHES.actionFailures);
    const problems = Boolean(decision.health.reason) || failures.length > 0 || actionFailures.length > 0;
    if (!problems && decision.notRunning.length) retired(PATCHES.recovering);
  }
  const differs = p.s.sinkDifference ? differenceSentence(p.s.sinkDifference, p.s.lastEqualAt) : null;
  const next = watchState({ state: p.s.state, provisioned, health: decision.health, notRunning: decision.notRunning, failures, actionFailures, behind, differs, sourceSchema });
  if (next) await transition(p, next.state, next.reason);

  // Fluss lost data a job had read: nothing downstream of it can be trusted; under repair.policy auto,
  // rebuild from the source (once per loss), readers kept on the last numbers until the switch.
  const lost = JOB_NAMES.map((j) => p.s.records[j].flussDataLoss?.at ?? null).filter((x): x is number => x !== null);
  if (lost.length && patch(PATCHES.repair)) {
    const d = decideLossRepair({ policy: p.spec.repair.policy, state: p.s.state, lostAt: Math.min(...lost), last: p.s.repair, busy: p.redeploying !== null });
    if (d) await repair(p, { from: d.from }, 'auto', d.why);
  }
}

/**
 * This round's freshness probe, and how far behind the sink is by the earlier ones. Past the spec's
 * limit: the sentence that says so, naming the operator Flink shows saturated. A failed measurement
 * keeps the last one (shown with its age) and judges nothing.
 */
async function watchFreshness(p: PipelineModel): Promise<string | null> {
  try {
    p.s.freshness = await observe.measureFreshness({ spec: p.spec });
  } catch (err) {
    log.warn(`${p.spec.name}: freshness not measured: ${failureMessage(err)}`);
    return null;
  }
  const limitMs = durationMs(p.spec.watch.maxFreshness);
  if (judgeLag(p.s.freshness, limitMs) === null) return null;
  let bottleneck;
  try {
    bottleneck = findBottleneck((await observe.observeOperatorLoad({ spec: p.spec })).loads);
  } catch (err) {
    log.warn(`${p.spec.name}: operator load not observed: ${failureMessage(err)}`);
  }
  return judgeLag(p.s.freshness, limitMs, bottleneck);
}

/**
 * The source's columns against what ingest reads: the sentence of a change it will fail on (said once
 * as an event when it appears, and when it is gone), or null. A failed check keeps the last verdict.
 */
async function watchSourceSchema(p: PipelineModel): Promise<string | null> {
  try {
    const { sentence } = await observe.checkSourceSchema(p.spec);
    if (sentence !== p.s.sourceSchema) await event(p, 'source-schema', sentence ?? 'the source schema is what the warehouse reads again');
    p.s.sourceSchema = sentence;
  } catch (err) {
    log.warn(`${p.spec.name}: source schema not checked: ${failureMessage(err)}`);
  }
  return p.s.sourceSchema;
}

/** Remove the retained checkpoints of instances a running job has left behind (checkpointDirToDispose). */
async function disposeOldCheckpoints(p: PipelineModel): Promise<void> {
  for (const job of JOB_NAMES) {
    const dir = checkpointDirToDispose(p.spec, p.s.records[job]);
    if (!dir) continue;
    retired(PATCHES.disposeCheckpoints);
    // Remembered before acting: a failure is reported once, not every round.
    p.s.records[job] = { ...p.s.records[job], disposedCheckpointDir: dir };
    try {
      const { note } = await act.disposeCheckpointDir({ spec: p.spec, dir });
      await event(p, 'dispose', `${job}: the checkpoints of the instance it restored from are no longer needed; ${note}`);
    } catch (err) {
      await event(p, 'error', `${job}: removing old checkpoints ${dir} failed: ${failureMessage(err)}`);
    }
  }
}
