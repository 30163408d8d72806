/**
 * Deploy (or finish deploying after a crash): the plan is src/core/deploy.ts `planDeploy`; this file
 * says what performs each of its steps. Every step is idempotent, so running the plan again after a
 * failure or a worker restart converges without duplicates. Also the pieces other changes reuse: task
 * slots, submitting one job, waiting for jobs to run.
 */
import { ActivityOptions } from '@temporalio/workflow';
import { absorbObservation, decideStart, jobsToStart, lookForRecordedPoints, planDeploy, voidRestorePoints } from '../../core/deploy';
import type { ResumeDecision } from '../../core/resume';
import { slotsNeeded } from '../../core/plan';
import { Plan } from '../../core/plans';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../../core/spec';
import { Observation, RestorePoint, isLive } from '../../core/types';
import { bestRestorePoint } from '../../core/watch';
import { event, transition } from '../events';
import { failureMessage } from '../failure-message';
import { PATCHES, patch, retired } from '../patches';
import type { PipelineModel } from '../pipeline-state';
import { Performers, StepResult, runPlan } from '../plan-runner';
import { act, actSay, observe } from '../proxies';

/** Make sure `needed` task slots are free; false (and BLOCKED) when they cannot be provided. */
export async function ensureSlots(p: PipelineModel, needed: number, spec: PipelineSpec = p.spec): Promise<boolean> {
  if (needed <= 0) return true;
  const cluster = await observe.observeCluster(spec);
  return provision(p, needed - cluster.slotsAvailable, spec);
}

/** Start TaskManagers for `missing` slots as `spec` says (a redeploy's new spec may not allow it). */
export async function provision(p: PipelineModel, missing: number, spec: PipelineSpec = p.spec): Promise<boolean> {
  if (missing <= 0) return true;
  try {
    const { added } = await act.provisionSlots({ spec, missingSlots: missing });
    await event(p, 'provision', `${missing} task slot(s) missing; started ${added.join(', ')}`);
    return true;
  } catch (err) {
    await transition(p, 'BLOCKED', failureMessage(err));
    return false;
  }
}

/** Submit one job (idempotent by name) and remember it. */
export async function submit(p: PipelineModel, spec: PipelineSpec, job: JobName, restore: RestorePoint | null, options: Partial<ActivityOptions> = {}): Promise<string> {
  const res = await actSay(
    'submitJob',
    `submit ${job} v${spec.version} ${restore ? `from ${restore.kind} ${restore.path}` : 'without state'}`,
    { spec, job, restorePath: restore?.path ?? null, avoidPaths: p.s.records[job].badRestorePaths },
    options,
  );
  const r = p.s.records[job];
  // The activity may have found a newer complete checkpoint of the same instance than the one recorded.
  const used = restore && res.restorePath && res.restorePath !== restore.path ? { ...restore, path: res.restorePath } : restore;
  p.s.records[job] = {
    ...r,
    jobId: res.jobId,
    fingerprint: res.fingerprint,
    submittedAt: res.submittedAt,
    restoredFrom: res.reused ? r.restoredFrom : used,
    stopped: false,
    seenNumRestarts: res.reused ? r.seenNumRestarts : 0,
    flinkState: res.reused ? r.flinkState : 'CREATED',
  };
  await event(
    p,
    res.reused ? 'adopt' : 'submit',
    res.reused
      ? `${job}: job ${res.jobId} of that name is already live; adopted it`
      : `${job}: submitted ${res.jobId} (v${spec.version})${used ? ` from ${used.kind} ${used.path}` : ' without state'}${used && restore && used !== restore ? ` (newer than the recorded ${restore.path})` : ''}`,
  );
  return res.jobId;
}

/**
 * Deploy (or finish deploying after a crash). A failure leaves the pipeline DEGRADED or BLOCKED with
 * the reason; the main loop tries again.
 */
export async function deploy(p: PipelineModel): Promise<void> {
  await transition(p, 'DEPLOYING');
  p.s.plan = planDeploy(p.spec);
  // What the steps learn and later steps use.
  let fingerprints: Record<JobName, string> | null = null;
  let observed: Observation | null = null;
  let createdSlots: string[] = [];
  const started: Array<[JobName, string]> = [];
  let failures: string[] = [];

  const perform: Performers = {
    preflight: async () => {
      const preflight = await act.preflightSource(p.spec);
      if (!preflight.ok) return blocked(`source not ready: ${preflight.problems.join(' ')}`);
      return {};
    },
    claim: async () => {
      // Before anything is created or dropped: what this pipeline would touch must not be another's.
      retired(PATCHES.ownership);
      // A workflow that starts without knowing its generation (a new one after a terminate) takes the
      // live one's names: a blue/green switch may have moved readers to another generation.
      if (p.spec.generation === undefined && patch(PATCHES.blueGreen)) {
        const live = await act.liveGeneration(p.spec);
        if (live !== 0) {
          p.spec = { ...p.spec, generation: live };
          await event(p, 'deploy', `generation ${live} is the live version (a blue/green switch made it): deploying under its names`);
        }
      }
      const claim = await act.claimOwnership(p.spec);
      if (claim.conflicts.length) return blocked(claim.conflicts.join(' '));
      if (claim.claimed.length) await event(p, 'ownership', `claimed ${claim.claimed.join(', ')}`);
      return { note: claim.claimed.length ? `claimed ${claim.claimed.join(', ')}` : 'already ours' };
    },
    adopt: async () => {
      fingerprints = (await observe.planDeployment(p.spec)).fingerprints;
      observed = await observe.observeJobs({ spec: p.spec, tracked: trackedIds(p) });
      p.s.records = absorbObservation(p.spec, p.s.records, observed);
      p.s.observedAt = observed.observedAt;
      const live = JOB_NAMES.filter((j) => isLive(p.s.records[j]));
      return { note: live.length ? `running already: ${live.join(', ')}` : 'no job of this pipeline runs' };
    },
    slots: async (): Promise<StepResult> => {
      if (!(await ensureSlots(p, slotsNeeded(p.spec, jobsToStart(p.s.records))))) return { halt: p.s.reason ?? 'task slots missing' };
      return {};
    },
    'prepare-source': async () => {
      const prepared = await act.prepareSource(p.spec);
      for (const note of prepared.notes) await event(p, 'prepare-source', note);
      createdSlots = prepared.createdSlots;
    },
    'prepare-sink': async () => {
      await act.prepareSink(p.spec);
    },
    'start-point': async () => {
      // A new workflow knows no restore point of its own; an earlier one may have recorded savepoints
      // the pipeline can continue from (decommission without dropping the slots, then deploy).
      let recorded: ResumeDecision | null = null;
      if (lookForRecordedPoints(p.s.records, createdSlots)) {
        retired(PATCHES.resume);
        recorded = await act.recordedRestorePoints({ spec: p.spec, fingerprints: fingerprints! });
      }
      const start = decideStart({ records: p.s.records, createdSlots, recorded });
      if (start.resume) {
        for (const job of JOB_NAMES) {
          const point = start.resume[job];
          if (point) p.s.records[job] = { ...p.s.records[job], savepoints: [point, ...p.s.records[job].savepoints] };
        }
      }
      if (start.note?.kind === 'resume') await event(p, start.note.kind, start.note.message);
      retired(PATCHES.freshStart);
      if (start.note?.kind === 'fresh-start') await event(p, start.note.kind, start.note.message);
      if (start.fresh) {
        await act.resetOutputs(p.spec);
        for (const job of JOB_NAMES) p.s.records[job] = voidRestorePoints(p.s.records[job]);
      }
      return { note: start.note?.message ?? 'every job continues from its own state' };
    },
    tables: async () => {
      await act.createFlussTables(p.spec);
    },
    submit: async (step) => {
      const job = step.job!;
      const r = p.s.records[job];
      if (isLive(r)) {
        p.s.records[job] = { ...r, fingerprint: r.fingerprint ?? fingerprints![job] };
        return { skip: true, note: `running already as ${r.jobId}: adopted` };
      }
      const restore = bestRestorePoint(r);
      started.push([job, await submit(p, p.spec, job, restore)]);
      return { note: restore ? `from ${restore.kind} ${restore.path}` : 'without state' };
    },
    await: async () => {
      failures = await awaitRunning(p, p.spec, started);
      p.s.deployed = true;
      // The first periodic savepoint is one interval after the deployment, not right away.
      p.s.lastPeriodicSavepointAt = observed!.observedAt;
      return failures.length ? { note: failures.join('; ') } : {};
    },
  };
  /** The deploy cannot go on (its source, its ownership, its slots): BLOCKED, nothing to undo. */
  const blocked = async (reason: string) => {
    await transition(p, 'BLOCKED', reason);
    return { halt: reason };
  };

  const run = await runPlan<Plan>({ get: () => p.s.plan!, set: (plan) => (p.s.plan = plan) }, perform);
  if (run.halted) return;
  if (run.failure) await transition(p, 'DEGRADED', `deploy failed: ${run.failure}`);
  else await transition(p, failures.length ? 'DEGRADED' : 'RUNNING', failures.join('; ') || null);
}

/** Wait for each job to run; returns failure messages (empty = all RUNNING). */
export async function awaitRunning(p: PipelineModel, spec: PipelineSpec, jobs: Array<[JobName, string]>): Promise<string[]> {
  const failures: string[] = [];
  const timeoutMs = durationMs(spec.watch.readinessTimeout);
  const results = await Promise.allSettled(
    jobs.map(([job, jobId]) => actSay('awaitJobRunning', `wait for ${job} (${jobId}) to run`, { spec, job, jobId, timeoutMs })),
  );
  results.forEach((res, i) => {
    const [job] = jobs[i];
    if (res.status === 'fulfilled') p.s.records[job] = { ...p.s.records[job], flinkState: 'RUNNING' };
    else {
      const message = failureMessage(res.reason);
      p.s.records[job] = { ...p.s.records[job], lastError: message };
      failures.push(message);
    }
  });
  return failures;
}

export function trackedIds(p: PipelineModel): Record<JobName, string | null> {
  return Object.fromEntries(JOB_NAMES.map((j) => [j, p.s.records[j].jobId])) as Record<JobName, string | null>;
}
