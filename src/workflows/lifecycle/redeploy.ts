/** Redeploy: move the changed jobs to a new spec, or roll back to the old one. */
import { patched } from '@temporalio/workflow';
import { slotsNeeded } from '../../core/plan';
import { RedeployPlan, StepKind, markStep, planRedeploy, skipPending, stepOf, strandedSentence } from '../../core/redeploy';
import { JOB_NAMES, JobName, PipelineSpec } from '../../core/spec';
import { RedeployOutcome, RestorePoint } from '../../core/types';
import { changedJobs } from '../../core/upgrade';
import type { RedeployRequest } from '../definitions';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { awaitRunning, ensureSlots, submit, trackedIds } from './deploy';
import { stopJobs } from './savepoints';
import { REDEPLOY_PLAN_PATCH, act, event, observe, transition } from './steps';

/**
 * What happens on redeploy, in order (the plan, src/core/redeploy.ts `planRedeploy`, is in the status
 * before step 1 acts, each step marked done or failed as it goes):
 *  0. fingerprint the new spec's jobs; the changed ones (or the requested ones) move.
 *  1. per job, the upgrade step for the mode (savepoint → stop-with-savepoint; last-state/stateless →
 *     cancel), downstream first; fallbacks are recorded by name.
 *  2. Fluss tables of the new spec; 3. task slots for its parallelism.
 *  4. submit the new version of each moved job, upstream first, from its restore point.
 *  5. wait RUNNING within watch.readinessTimeout. All RUNNING → the new spec is current.
 *  Any failure after the first stop → roll back: cancel what the new version submitted, slots for the
 *  old one, start every stopped job of the old spec from the restore point step 1 gave it (its own
 *  savepoint or checkpoint, so its state maps), wait RUNNING. If even that fails: DEGRADED, naming every
 *  job left stopped — never RUNNING with a job stopped (the watch keeps saying so too).
 */
export async function redeploy(p: PipelineModel, request: RedeployRequest, next: PipelineSpec): Promise<RedeployOutcome> {
  const previous = p.spec;
  const mode = request.mode ?? 'savepoint';
  try {
    const { fingerprints } = await observe.planDeployment(next);
    const force = request.jobs ?? (request.spec ? [] : [...JOB_NAMES]);
    const moving = changedJobs(p.records, fingerprints, force);
    if (moving.length === 0) {
      const outcome: RedeployOutcome = { outcome: 'no-change', fromVersion: previous.version, toVersion: next.version, jobs: [] };
      p.spec = next;
      p.lastRedeploy = outcome;
      return outcome;
    }
    p.redeployPlan = planRedeploy({ previous, next, records: p.records, jobs: moving, mode, requestId: request.requestId ?? null });
    await transition(p, 'REDEPLOYING', `v${previous.version} → v${next.version}: ${moving.join(', ')} (${mode})`);

    const restore: Partial<Record<JobName, RestorePoint | null>> = {};
    const submitted: Array<[JobName, string]> = [];
    let stoppedAt: number | null = null;
    let failures: string[] = [];
    /** Run one step of the plan, marking it; a failure is marked with its message and thrown on. */
    const run = async <T>(kind: StepKind, job: JobName | undefined, fn: () => Promise<T>): Promise<T> => {
      const { n } = stepOf(p.redeployPlan!, kind, job);
      try {
        const result = await fn();
        p.redeployPlan = markStep(p.redeployPlan!, n, 'done');
        return result;
      } catch (err) {
        p.redeployPlan = markStep(p.redeployPlan!, n, 'failed', failureMessage(err));
        throw err;
      }
    };

    try {
      // 1. stop, downstream first
      for (const upgrade of p.redeployPlan.upgrades) {
        const job = upgrade.job;
        await run('stop', job, async () => {
          if (upgrade.fallback) await event(p, 'redeploy', `${job}: ${upgrade.fallback}`);
          if (upgrade.mode === 'stateless') {
            p.alert(p.observedAt ?? 0, 'stateless-start', `${job} starts without state (${upgrade.fallback ?? 'requested'}): rows deleted upstream earlier may stay in its outputs; run gridflow verify now`);
          }
          if (upgrade.mode === 'savepoint') {
            const point = (await stopJobs(p, [job]))[job]!;
            restore[job] = point;
            stoppedAt ??= point.at;
          } else {
            if (upgrade.stop === 'cancel' && upgrade.jobId) await act.cancelJob({ spec: previous, jobId: upgrade.jobId });
            p.records[job] = { ...p.records[job], stopped: true };
            restore[job] = upgrade.mode === 'last-state' ? upgrade.restore : null;
          }
        });
      }
      // 2.–3. the new version's tables and slots
      await run('tables', undefined, () => act.createFlussTables(next));
      await run('slots', undefined, async () => {
        if (!(await ensureSlots(p, slotsNeeded(next, moving), next))) throw new Error(p.reason ?? 'task slots missing');
      });
    } catch (err) {
      // Histories from before the plan let this failure end the update with the jobs stopped.
      if (!patched(REDEPLOY_PLAN_PATCH)) throw err;
      failures = [failureMessage(err)];
    }
    if (!failures.length) {
      // 4.–5. submit, wait RUNNING
      try {
        for (const job of p.redeployPlan.jobs) submitted.push([job, await run('submit', job, () => submit(p, next, job, restore[job] ?? null))]);
        failures = await awaitRunning(p, next, submitted);
        p.redeployPlan = mark(p.redeployPlan, 'await', undefined, failures.length === 0, failures.join('; ') || undefined);
      } catch (err) {
        failures = [failureMessage(err)];
      }
    }
    if (failures.length === 0) {
      p.spec = next;
      p.redeployPlan = skipPending(p.redeployPlan, true);
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
    return await rollBack(p, previous, next, moving, failures.join('; '), submitted, restore);
  } finally {
    p.redeploying = null;
  }
}

/** The plan with the step of `kind` (and `job`) marked done or failed. */
function mark(plan: RedeployPlan, kind: StepKind, job: JobName | undefined, ok: boolean, note?: string): RedeployPlan {
  return markStep(plan, stepOf(plan, kind, job).n, ok ? 'done' : 'failed', note);
}

/** The rollback steps of the plan: the old spec again, from the restore points its jobs were stopped with. */
async function rollBack(
  p: PipelineModel,
  previous: PipelineSpec,
  next: PipelineSpec,
  moving: JobName[],
  reason: string,
  submitted: Array<[JobName, string]>,
  restore: Partial<Record<JobName, RestorePoint | null>>,
): Promise<RedeployOutcome> {
  const planned = patched(REDEPLOY_PLAN_PATCH);
  p.redeployPlan = skipPending(p.redeployPlan!, false);
  await transition(p, 'ROLLING_BACK', reason);
  const problems: string[] = [];
  for (const [job, jobId] of submitted) {
    try {
      await act.cancelJob({ spec: next, jobId });
      p.records[job] = { ...p.records[job], stopped: true };
    } catch (err) {
      problems.push(`cancelling ${jobId} of v${next.version}: ${failureMessage(err)}`);
    }
  }
  p.redeployPlan = mark(p.redeployPlan, 'cancel-new', undefined, problems.length === 0, problems.join('; ') || undefined);
  // Only the jobs step 1 stopped come back (all of them, in histories from before the plan).
  const stoppedInStep1 = p.redeployPlan.steps.filter((st) => st.kind === 'stop' && st.status === 'done').map((st) => st.job!);
  const toRestore = planned ? moving.filter((j) => stoppedInStep1.includes(j)) : moving;
  if (planned) {
    const slots = await ensureSlots(p, slotsNeeded(previous, toRestore), previous).catch(() => false);
    p.redeployPlan = mark(p.redeployPlan, 'slots-old', undefined, slots);
  }
  const restarted: Array<[JobName, string]> = [];
  for (const job of p.redeployPlan.jobs.filter((j) => toRestore.includes(j))) {
    // The old version restores from what it was stopped with in step 1 (its own savepoint or
    // checkpoint), never from anything the new version wrote.
    try {
      restarted.push([job, await submit(p, previous, job, restore[job] ?? null)]);
      p.redeployPlan = mark(p.redeployPlan, 'restore-old', job, true);
    } catch (err) {
      if (!planned) throw err;
      problems.push(`${job}: ${failureMessage(err)}`);
      p.redeployPlan = mark(p.redeployPlan, 'restore-old', job, false, failureMessage(err));
    }
  }
  const notRunning = [...problems, ...(await awaitRunning(p, previous, restarted))];
  p.redeployPlan = mark(p.redeployPlan, 'await-old', undefined, notRunning.length === 0, notRunning.join('; ') || undefined);
  const stranded = planned ? strandedSentence(p.records) : null;
  const failed = notRunning.length > 0 || stranded !== null;
  const outcome: RedeployOutcome = {
    outcome: failed ? 'failed' : 'rolled-back',
    fromVersion: previous.version,
    toVersion: next.version,
    jobs: moving,
    reason: failed ? [`${reason}; rollback failed too: ${notRunning.join('; ') || 'jobs left stopped'}`, stranded].filter(Boolean).join('; ') : reason,
  };
  p.lastRedeploy = outcome;
  p.alert(p.observedAt ?? 0, `redeploy-${outcome.outcome}`, outcome.reason!);
  await transition(p, failed ? 'DEGRADED' : 'RUNNING', failed ? outcome.reason! : null);
  await event(p, 'redeploy', `v${next.version} ${outcome.outcome}: ${outcome.reason}`);
  return outcome;
}
