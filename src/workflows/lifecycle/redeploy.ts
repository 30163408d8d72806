/**
 * What happens on redeploy. The plan (src/core/redeploy.ts `planRedeploy`) is in the status before
 * its first step acts; the plan interpreter (../plan-runner.ts) runs it and marks each step; this file
 * says what performs each step kind.
 *
 *  0. fingerprint the new spec's jobs; the changed ones (or the requested ones) move. None: no-change.
 *  1. stop — per moving job, downstream first, the upgrade step for the mode (savepoint →
 *     stop-with-savepoint; last-state/stateless → cancel); fallbacks are recorded by name.
 *  2. tables — Fluss tables of the new spec; 3. slots — task slots for its parallelism.
 *  4. submit — the new version of each moved job, upstream first, from its restore point.
 *  5. await — RUNNING within watch.readinessTimeout. All RUNNING → the new spec is current.
 *  Any failure → ROLLING_BACK, then the compensations: cancel-new (what the new version submitted),
 *  slots-old, restore-old (each job step 1 stopped, from the restore point it was stopped with — its
 *  own savepoint or checkpoint, never anything the new version wrote), await-old. If even that fails:
 *  DEGRADED, naming every job left stopped — never RUNNING with a job stopped.
 */
import { slotsNeeded } from '../../core/plan';
import { RedeployRequest } from '../../core/messages';
import { RedeployPlan, planRedeploy, rollbackJobs, strandedSentence } from '../../core/redeploy';
import { JOB_NAMES, JobName, PipelineSpec } from '../../core/spec';
import { RedeployOutcome, RestorePoint } from '../../core/types';
import { changedJobs } from '../../core/upgrade';
import { event, transition } from '../events';
import { failureMessage } from '../failure-message';
import { PATCHES, retired } from '../patches';
import type { PipelineModel } from '../pipeline-state';
import { Performers, runPlan } from '../plan-runner';
import { act, observe } from '../proxies';
import { awaitRunning, ensureSlots, submit, trackedIds } from './deploy';
import { stopJobs } from './savepoints';

export async function redeploy(p: PipelineModel, request: RedeployRequest, next: PipelineSpec): Promise<RedeployOutcome> {
  const previous = p.spec;
  const mode = request.mode ?? 'savepoint';
  try {
    const { fingerprints } = await observe.planDeployment(next);
    const force = request.jobs ?? (request.spec ? [] : [...JOB_NAMES]);
    const moving = changedJobs(p.s.records, fingerprints, force);
    if (moving.length === 0) {
      const outcome: RedeployOutcome = { outcome: 'no-change', fromVersion: previous.version, toVersion: next.version, jobs: [] };
      p.spec = next;
      p.s.lastRedeploy = outcome;
      return outcome;
    }
    p.s.redeployPlan = planRedeploy({ previous, next, records: p.s.records, jobs: moving, mode, requestId: request.requestId ?? null });
    await transition(p, 'REDEPLOYING', `v${previous.version} → v${next.version}: ${moving.join(', ')} (${mode})`);

    // What the steps learn and later steps (or the compensations) use.
    const restore: Partial<Record<JobName, RestorePoint | null>> = {};
    const submitted: Array<[JobName, string]> = [];
    const restarted: Array<[JobName, string]> = [];
    let stoppedAt: number | null = null;
    const plan = () => p.s.redeployPlan!;

    const perform: Performers = {
      stop: async (step) => {
        const upgrade = plan().upgrades.find((u) => u.job === step.job)!;
        const job = upgrade.job;
        if (upgrade.fallback) await event(p, 'redeploy', `${job}: ${upgrade.fallback}`);
        if (upgrade.mode === 'stateless') {
          p.alert(p.s.observedAt ?? 0, 'stateless-start', `${job} starts without state (${upgrade.fallback ?? 'requested'}): rows deleted upstream earlier may stay in its outputs; run gridflow verify now`);
        }
        if (upgrade.mode === 'savepoint') {
          const point = (await stopJobs(p, [job]))[job]!;
          restore[job] = point;
          stoppedAt ??= point.at;
        } else {
          if (upgrade.stop === 'cancel' && upgrade.jobId) await act.cancelJob({ spec: previous, jobId: upgrade.jobId });
          p.s.records[job] = { ...p.s.records[job], stopped: true };
          restore[job] = upgrade.mode === 'last-state' ? upgrade.restore : null;
        }
      },
      tables: async () => {
        await act.createFlussTables(next);
      },
      slots: async () => {
        if (!(await ensureSlots(p, slotsNeeded(next, moving), next))) throw new Error(p.s.reason ?? 'task slots missing');
      },
      submit: async (step) => {
        submitted.push([step.job!, await submit(p, next, step.job!, restore[step.job!] ?? null)]);
      },
      await: async () => {
        const failures = await awaitRunning(p, next, submitted);
        if (failures.length) throw new Error(failures.join('; '));
      },
      // The compensations.
      'cancel-new': async () => {
        const problems: string[] = [];
        for (const [job, jobId] of submitted) {
          try {
            await act.cancelJob({ spec: next, jobId });
            p.s.records[job] = { ...p.s.records[job], stopped: true };
          } catch (err) {
            problems.push(`cancelling ${jobId} of v${next.version}: ${failureMessage(err)}`);
          }
        }
        if (problems.length) throw new Error(problems.join('; '));
        return submitted.length ? {} : { skip: true, note: 'nothing of the new version was submitted' };
      },
      'slots-old': async () => {
        const ok = await ensureSlots(p, slotsNeeded(previous, rollbackJobs(plan())), previous).catch(() => false);
        if (!ok) throw new Error(`task slots for v${previous.version} missing`);
      },
      'restore-old': async (step) => {
        if (!rollbackJobs(plan()).includes(step.job!)) return { skip: true, note: `${step.job} was not stopped` };
        restarted.push([step.job!, await submit(p, previous, step.job!, restore[step.job!] ?? null)]);
        return {};
      },
      'await-old': async () => {
        const failures = await awaitRunning(p, previous, restarted);
        if (failures.length) throw new Error(failures.join('; '));
      },
    };

    const run = await runPlan<RedeployPlan>({ get: plan, set: (x) => (p.s.redeployPlan = x) }, perform, {
      beforeCompensations: async (reason) => {
        retired(PATCHES.redeployPlan);
        await transition(p, 'ROLLING_BACK', reason);
      },
    });

    if (run.failure === null) {
      p.spec = next;
      const runningAt = (await observe.observeJobs({ spec: next, tracked: trackedIds(p) })).observedAt;
      const outcome: RedeployOutcome = {
        outcome: 'deployed',
        fromVersion: previous.version,
        toVersion: next.version,
        jobs: moving,
        downtimeMs: stoppedAt === null ? undefined : Math.max(0, runningAt - stoppedAt),
      };
      p.s.lastRedeploy = outcome;
      await transition(p, 'RUNNING');
      await event(p, 'redeploy', `v${next.version} deployed: ${moving.join(', ')}`);
      return outcome;
    }

    const stranded = strandedSentence(p.s.records);
    const failed = run.compensationFailures.length > 0 || stranded !== null;
    const outcome: RedeployOutcome = {
      outcome: failed ? 'failed' : 'rolled-back',
      fromVersion: previous.version,
      toVersion: next.version,
      jobs: moving,
      reason: failed
        ? [`${run.failure}; rollback failed too: ${run.compensationFailures.join('; ') || 'jobs left stopped'}`, stranded].filter(Boolean).join('; ')
        : run.failure,
    };
    p.s.lastRedeploy = outcome;
    p.alert(p.s.observedAt ?? 0, `redeploy-${outcome.outcome}`, outcome.reason!);
    await transition(p, failed ? 'DEGRADED' : 'RUNNING', failed ? outcome.reason! : null);
    await event(p, 'redeploy', `v${next.version} ${outcome.outcome}: ${outcome.reason}`);
    return outcome;
  } finally {
    p.redeploying = null;
  }
}
