/**
 * Deploy (or finish deploying after a crash): every step is idempotent, so running it again after a
 * failure or a worker restart converges without duplicates. Also the pieces other steps reuse: task
 * slots, submitting one job, waiting for jobs to run.
 */
import { slotsNeeded } from '../../core/plan';
import { ActivityOptions, patched } from '@temporalio/workflow';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../../core/spec';
import { JobRecord, Observation, RestorePoint, isTerminal } from '../../core/types';
import { bestRestorePoint, decideWatch } from '../../core/watch';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { FRESH_START_PATCH, ORDER, OWNERSHIP_PATCH, RESUME_PATCH, act, actSay, event, observe, transition } from './steps';

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
    { spec, job, restorePath: restore?.path ?? null, avoidPaths: p.records[job].badRestorePaths },
    options,
  );
  const r = p.records[job];
  // The activity may have found a newer complete checkpoint of the same instance than the one recorded.
  const used = restore && res.restorePath && res.restorePath !== restore.path ? { ...restore, path: res.restorePath } : restore;
  p.records[job] = {
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
 * Deploy (or finish deploying after a crash): every step is idempotent, so running it again after a
 * failure or a worker restart converges without duplicates. A failure leaves the pipeline DEGRADED or
 * BLOCKED with the reason; the main loop tries again.
 */
export async function deploy(p: PipelineModel): Promise<void> {
  try {
    await deploySteps(p);
  } catch (err) {
    await transition(p, 'DEGRADED', `deploy failed: ${failureMessage(err)}`);
  }
}

export async function deploySteps(p: PipelineModel): Promise<void> {
  await transition(p, 'DEPLOYING');
  const preflight = await act.preflightSource(p.spec);
  if (!preflight.ok) {
    await transition(p, 'BLOCKED', `source not ready: ${preflight.problems.join(' ')}`);
    return;
  }
  if (patched(OWNERSHIP_PATCH)) {
    // Before anything is created or dropped: what this pipeline would touch must not be another's.
    const claim = await act.claimOwnership(p.spec);
    if (claim.conflicts.length) {
      await transition(p, 'BLOCKED', claim.conflicts.join(' '));
      return;
    }
    if (claim.claimed.length) await event(p, 'ownership', `claimed ${claim.claimed.join(', ')}`);
  }
  const plan = await observe.planDeployment(p.spec);
  const obs = await observe.observeJobs({ spec: p.spec, tracked: trackedIds(p) });
  absorb(p, obs);
  const toStart = ORDER.filter((job) => !isLive(p.records[job]));
  const slots = slotsNeeded(p.spec, toStart);
  if (!(await ensureSlots(p, slots))) return;

  const prepared = await act.prepareSource(p.spec);
  // Histories from before the fresh-start change recorded a plain list of notes here.
  const notes: string[] = Array.isArray(prepared) ? prepared : prepared.notes;
  for (const note of notes) await event(p, 'prepare-source', note);
  await act.prepareSink(p.spec);
  const createdSlots: string[] = Array.isArray(prepared) ? [] : prepared.createdSlots;
  // A fresh start when nothing can continue: new replication slots (changes between the old slot and
  // the new one were never captured, so every restore point is void), or no job with state to restore
  // (a job started empty over existing outputs never deletes the rows its predecessor wrote). The
  // outputs are then rebuilt from the source snapshot. Never under a live job.
  let noState = ORDER.every((job) => !isLive(p.records[job]) && bestRestorePoint(p.records[job]) === null);
  // A new workflow knows no restore point of its own; an earlier one may have recorded savepoints the
  // pipeline can continue from (decommission without dropping the slots, then deploy).
  let whyNotResumed = '';
  if (noState && createdSlots.length === 0 && patched(RESUME_PATCH)) {
    const found = await act.recordedRestorePoints({ spec: p.spec, fingerprints: plan.fingerprints });
    if (found.resume) {
      for (const job of ORDER) p.records[job] = { ...p.records[job], savepoints: [found.points[job], ...p.records[job].savepoints] };
      await event(p, 'resume', `continuing from the savepoints an earlier workflow recorded: ${found.summary}`);
      noState = false;
    } else whyNotResumed = ` (recorded savepoints unusable: ${found.reason})`;
  }
  const fresh = ORDER.every((job) => !isLive(p.records[job])) && (createdSlots.length > 0 || noState);
  if (patched(FRESH_START_PATCH) && fresh) {
    await event(
      p,
      'fresh-start',
      `${createdSlots.length ? `new replication slot(s) ${createdSlots.join(', ')}` : `no job has state to restore${whyNotResumed}`}: rebuilding the Fluss and sink tables from the source snapshot`,
    );
    await act.resetOutputs(p.spec);
    for (const job of ORDER) {
      const r = p.records[job];
      const stale = [r.lastCheckpoint, ...r.savepoints].filter((x): x is RestorePoint => x !== null).map((x) => x.path);
      p.records[job] = { ...r, badRestorePaths: [...new Set([...r.badRestorePaths, ...stale])] };
    }
  }
  await act.createFlussTables(p.spec);

  const started: Array<[JobName, string]> = [];
  for (const job of ORDER) {
    const r = p.records[job];
    if (isLive(r)) {
      p.records[job] = { ...r, fingerprint: r.fingerprint ?? plan.fingerprints[job] };
      continue;
    }
    started.push([job, await submit(p, p.spec, job, bestRestorePoint(r))]);
  }
  const failures = await awaitRunning(p, p.spec, started);
  p.deployed = true;
  // The first periodic savepoint is one interval after the deployment, not right away.
  p.lastPeriodicSavepointAt = obs.observedAt;
  if (failures.length) await transition(p, 'DEGRADED', failures.join('; '));
  else await transition(p, 'RUNNING');
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
    if (res.status === 'fulfilled') p.records[job] = { ...p.records[job], flinkState: 'RUNNING' };
    else {
      const message = failureMessage(res.reason);
      p.records[job] = { ...p.records[job], lastError: message };
      failures.push(message);
    }
  });
  return failures;
}

export function trackedIds(p: PipelineModel): Record<JobName, string | null> {
  return Object.fromEntries(JOB_NAMES.map((j) => [j, p.records[j].jobId])) as Record<JobName, string | null>;
}

export const isLive = (r: JobRecord) => r.jobId !== null && r.flinkState !== null && !isTerminal(r.flinkState);

/** Fold an observation into the records without acting (deploy uses it to adopt live jobs). */
export function absorb(p: PipelineModel, obs: Observation): void {
  const decision = decideWatch(p.spec, p.records, obs, { lastPeriodicSavepointAt: Number.MAX_SAFE_INTEGER });
  p.records = decision.records;
  p.observedAt = obs.observedAt;
}
