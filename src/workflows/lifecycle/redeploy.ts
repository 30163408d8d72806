/** Redeploy: move the changed jobs to a new spec, or roll back to the old one. */
import { ApplicationFailure } from '@temporalio/workflow';
import { slotsNeeded, stopOrder } from '../../core/plan';
import { JOB_NAMES, JobName, PipelineSpec } from '../../core/spec';
import { RedeployOutcome, RestorePoint } from '../../core/types';
import { changedJobs, planJobUpgrade } from '../../core/upgrade';
import type { RedeployRequest } from '../definitions';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { awaitRunning, ensureSlots, submit, trackedIds } from './deploy';
import { stopJobs } from './savepoints';
import { ORDER, act, event, observe, transition } from './steps';

/**
 * What happens on redeploy, in order:
 *  1. plan: fingerprint the new spec's jobs; the changed ones (or the requested ones) move.
 *  2. per job, the upgrade step for the mode (savepoint → stop-with-savepoint; last-state/stateless →
 *     cancel), downstream jobs first; fallbacks are recorded by name.
 *  3. Fluss tables of the new spec, task slots for its parallelism.
 *  4. submit the new version of each moved job, upstream first, from its restore point.
 *  5. wait RUNNING within watch.readinessTimeout. All RUNNING → the new spec is current.
 *  6. otherwise roll back: cancel the new jobs and start the old spec from the same restore points
 *     (the old version's own savepoints, so its state maps); the outcome says why.
 */
export async function redeploy(p: PipelineModel, request: RedeployRequest, next: PipelineSpec): Promise<RedeployOutcome> {
  const previous = p.spec;
  const mode = request.mode ?? 'savepoint';
  try {
    const plan = await observe.planDeployment(next);
    const force = request.jobs ?? (request.spec ? [] : [...JOB_NAMES]);
    const moving = changedJobs(p.records, plan.fingerprints, force);
    if (moving.length === 0) {
      const outcome: RedeployOutcome = { outcome: 'no-change', fromVersion: previous.version, toVersion: next.version, jobs: [] };
      p.spec = next;
      p.lastRedeploy = outcome;
      return outcome;
    }
    await transition(p, 'REDEPLOYING', `v${previous.version} → v${next.version}: ${moving.join(', ')} (${mode})`);

    // 2. stop, downstream first
    const restore: Partial<Record<JobName, RestorePoint | null>> = {};
    let stoppedAt: number | null = null;
    for (const job of stopOrder(moving)) {
      const step = planJobUpgrade(mode, p.records[job]);
      if (step.fallback) await event(p, 'redeploy', `${job}: ${step.fallback}`);
      if (step.mode === 'stateless') {
        p.alert(p.observedAt ?? 0, 'stateless-start', `${job} starts without state (${step.fallback ?? 'requested'}): rows deleted upstream earlier may stay in its outputs; run gridflow verify now`);
      }
      if (step.mode === 'savepoint') {
        const point = (await stopJobs(p, [job]))[job]!;
        restore[job] = point;
        stoppedAt ??= point.at;
      } else {
        if (step.stop === 'cancel' && step.jobId) await act.cancelJob({ spec: previous, jobId: step.jobId });
        p.records[job] = { ...p.records[job], stopped: true };
        restore[job] = step.mode === 'last-state' ? step.restore : null;
      }
    }

    // 3.–5. the new version
    await act.createFlussTables(next);
    const slots = slotsNeeded(next, moving);
    if (!(await ensureSlots(p, slots))) throw ApplicationFailure.nonRetryable(p.reason ?? 'task slots missing');
    const submitted: Array<[JobName, string]> = [];
    let failures: string[] = [];
    try {
      for (const job of ORDER.filter((j) => moving.includes(j))) submitted.push([job, await submit(p, next, job, restore[job] ?? null)]);
      failures = await awaitRunning(p, next, submitted);
    } catch (err) {
      failures = [failureMessage(err)];
    }
    if (failures.length === 0) {
      p.spec = next;
      const runningAt = (await observe.observeJobs({ spec: next, tracked: trackedIds(p) })).observedAt;
      const outcome: RedeployOutcome = {
        outcome: 'deployed',
        fromVersion: previous.version,
        toVersion: next.version,
        jobs: moving,
        downtimeMs: stoppedAt === null ? undefined : Math.max(0, runningAt - stoppedAt),
      };
      p.lastRedeploy = outcome;
      await transition(p, 'RUNNING');
      await event(p, 'redeploy', `v${next.version} deployed: ${moving.join(', ')}`);
      return outcome;
    }

    // 6. roll back
    const reason = failures.join('; ');
    await transition(p, 'ROLLING_BACK', reason);
    for (const [, jobId] of submitted) await act.cancelJob({ spec: next, jobId });
    const restarted: Array<[JobName, string]> = [];
    for (const job of ORDER.filter((j) => moving.includes(j))) {
      // The old version restores from what it was stopped with in step 2 (its own savepoint or
      // checkpoint), never from anything the new version wrote.
      restarted.push([job, await submit(p, previous, job, restore[job] ?? null)]);
    }
    const rollbackFailures = await awaitRunning(p, previous, restarted);
    const outcome: RedeployOutcome = {
      outcome: rollbackFailures.length ? 'failed' : 'rolled-back',
      fromVersion: previous.version,
      toVersion: next.version,
      jobs: moving,
      reason: rollbackFailures.length ? `${reason}; rollback failed too: ${rollbackFailures.join('; ')}` : reason,
    };
    p.lastRedeploy = outcome;
    p.alert(p.observedAt ?? 0, `redeploy-${outcome.outcome}`, outcome.reason!);
    await transition(p, rollbackFailures.length ? 'DEGRADED' : 'RUNNING', rollbackFailures.length ? outcome.reason! : null);
    await event(p, 'redeploy', `v${next.version} ${outcome.outcome}: ${outcome.reason}`);
    return outcome;
  } finally {
    p.redeploying = null;
  }
}
