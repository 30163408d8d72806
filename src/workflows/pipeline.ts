/**
 * PipelineWorkflow — one per pipeline (workflow id `pipeline:<name>`), for the pipeline's whole life:
 *
 *   deploy     preflight the source → provision task slots → prepare source and sink → Fluss tables
 *              → submit each job in dependency order (adopting any live job of the same name) → RUNNING
 *   watch      every watch.interval: observe Flink, decide (src/pipeline/watch.ts), act: resubmit a
 *              failed or lost job from its newest restore point, add slots, cancel duplicates, take
 *              and prune periodic savepoints, mark DEGRADED with the reason
 *   redeploy   (update) move the changed jobs to a new spec: stop with savepoint → submit from it →
 *              wait RUNNING; if the new version is not RUNNING in time, roll back to the old spec from
 *              the same savepoints
 *   pause/resume (updates), savepoint (update), decommission (signal), status (query)
 *
 * Handlers that move jobs and the watch step are serialised by one FIFO lock. Continue-as-new when
 * Temporal suggests it, after every handler has finished. Workflow code decides only; every side
 * effect is an activity (src/activities/pipeline.ts).
 */
import {
  ActivityOptions,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { LagActivities } from '../activities/lag';
import type { PipelineActivities } from '../activities/pipeline';
import { findBottleneck, judgeLag } from '../pipeline/lag';
import { jobOrder, stopOrder } from '../pipeline/plan';
import { JOB_NAMES, JobName, PipelineSpec, durationMs, parseSpec } from '../pipeline/spec';
import { JobRecord, Observation, PipelineStatus, RedeployOutcome, RestorePoint, isTerminal } from '../pipeline/types';
import { changedJobs, planJobUpgrade } from '../pipeline/upgrade';
import { bestRestorePoint, checkpointDirToDispose, decideWatch, savepointsToDispose } from '../pipeline/watch';
import {
  PipelineWorkflowInput,
  RedeployRequest,
  SavepointRequest,
  decommissionSignal,
  pauseUpdate,
  redeployUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
  verificationSignal,
} from './definitions';
import { failureMessage } from './failures';
import { WorkflowLock } from './lock';
import { PipelineModel } from './pipeline-state';

// One proxy per timeout/retry profile.
const observe = proxyActivities<PipelineActivities & LagActivities>({
  // A few REST calls; an attempt lost with its worker is retried after this.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
const ACT_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};
const act = proxyActivities<PipelineActivities>(ACT_OPTIONS);

/** An `act` activity with a one-line summary that the Temporal UI shows beside its name ("submit ads v2 from savepoint …"). */
function actSay<K extends 'submitJob' | 'awaitJobRunning' | 'stopJobWithSavepoint' | 'triggerSavepoint' | 'cancelJob'>(
  name: K,
  summary: string,
  input: Parameters<PipelineActivities[K]>[0],
): ReturnType<PipelineActivities[K]> {
  const fn = act[name] as unknown as { executeWithOptions(o: ActivityOptions, a: unknown[]): ReturnType<PipelineActivities[K]> };
  return fn.executeWithOptions({ ...ACT_OPTIONS, summary }, [input]);
}
const record = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/** patched() id of the fresh start on new replication slots (histories recorded before it replay without it). */
const FRESH_START_PATCH = 'fresh-start-on-new-slots';
/** patched() id of resuming from savepoints an earlier workflow recorded (src/pipeline/resume.ts). */
const RESUME_PATCH = 'resume-recorded-savepoints';
/** patched() id of removing the retained checkpoints a restored job no longer needs. */
const DISPOSE_CHECKPOINTS_PATCH = 'dispose-old-checkpoints';
/** patched() id of the RECOVERING state while the watch resubmits jobs or adds slots. */
const RECOVERING_PATCH = 'watch-recovering-state';
/** patched() id of the watch re-checking, under the lock, that the pipeline is not paused. */
const WATCH_RECHECK_PATCH = 'watch-rechecks-pause';
/** patched() id of the watch sending a freshness probe each round and saying when the sink falls behind. */
const FRESHNESS_PATCH = 'watch-freshness';

const triggerId = () => uuid4().replace(/-/g, '');
const ORDER = jobOrder() as JobName[];


export async function PipelineWorkflow(input: PipelineWorkflowInput): Promise<PipelineStatus> {
  const p = new PipelineModel(parseSpec(input.spec), input.carried);
  const lock = new WorkflowLock();
  let wake = false;

  // ------------------------------------------------------------------ messages
  setHandler(statusQuery, () => p.status());

  setHandler(
    redeployUpdate,
    (request) => {
      // Set in the handler, not the validator: validators do not run again when history replays.
      p.redeploying = { toVersion: request.spec ? parseSpec(request.spec).version : p.spec.version };
      return lock.run('redeploy', () => redeploy(p, request));
    },
    {
      validator: (request: RedeployRequest) => {
        if (p.decommission || p.state === 'DECOMMISSIONING' || p.state === 'DECOMMISSIONED') {
          throw new Error('the pipeline is being decommissioned; nothing can be redeployed');
        }
        if (p.redeploying) throw new Error(`a redeploy to version ${p.redeploying.toVersion} is already in progress; wait for its outcome`);
        if (p.state === 'PAUSED' || p.state === 'PAUSING') throw new Error('the pipeline is paused; resume it before redeploying');
        if (request.spec !== undefined) {
          const next = parseSpec(request.spec); // throws naming the field
          if (next.name !== p.spec.name) throw new Error(`spec.name is ${next.name}, but this workflow runs pipeline ${p.spec.name}`);
        }
        if (request.jobs?.some((j) => !JOB_NAMES.includes(j))) throw new Error(`jobs must be among ${JOB_NAMES.join(', ')}`);
      },
    },
  );

  setHandler(pauseUpdate, () => lock.run('pause', () => pause(p)), {
    validator: () => {
      if (p.decommission || p.state === 'DECOMMISSIONED') throw new Error('the pipeline is being decommissioned');
      if (p.state === 'PAUSED') throw new Error('the pipeline is already paused');
    },
  });

  setHandler(resumeUpdate, () => lock.run('resume', () => resume(p)), {
    validator: () => {
      if (p.decommission || p.state === 'DECOMMISSIONED') throw new Error('the pipeline is being decommissioned');
      if (p.state !== 'PAUSED' && p.state !== 'PAUSING') throw new Error(`the pipeline is ${p.state}, not paused`);
    },
  });

  setHandler(savepointUpdate, (request) => lock.run('savepoint', () => savepointNow(p, request.jobs ?? [...JOB_NAMES], 'manual')), {
    validator: (request: SavepointRequest) => {
      if (request.jobs?.some((j) => !JOB_NAMES.includes(j))) throw new Error(`jobs must be among ${JOB_NAMES.join(', ')}`);
      if (p.state === 'PAUSED' || p.decommission) throw new Error(`no job is running (pipeline ${p.state})`);
    },
  });

  setHandler(decommissionSignal, (request) => {
    // Signals cannot be rejected; a repeated decommission keeps the first request.
    p.decommission ??= { dropSourceArtifacts: request?.dropSourceArtifacts === true, reason: request?.reason ?? null };
    wake = true;
  });

  setHandler(verificationSignal, async (summary) => {
    p.lastVerification = summary;
    // A paused or retiring pipeline is expected to fail verification (inactive slots, no probe): shown
    // in status, not raised as an alert.
    const resting = ['PAUSING', 'PAUSED', 'DECOMMISSIONING', 'DECOMMISSIONED'].includes(p.state);
    if (!summary.ok && !resting) {
      // An alert, not a repair: what to do about wrong data is the operator's call.
      const a = p.alert(summary.at, 'verification-failed', summary.summary);
      await event(p, 'alert', a.message);
    }
  });

  // ------------------------------------------------------------------ lifecycle
  if (!p.deployed) await lock.run('deploy', () => deploy(p));

  while (!p.decommission) {
    const interval = p.state === 'BLOCKED' ? durationMs(p.spec.watch.interval) * 3 : durationMs(p.spec.watch.interval);
    await condition(() => wake || p.decommission !== null, interval);
    wake = false;
    if (p.decommission) break;
    if (!p.deployed) await lock.run('deploy', () => deploy(p));
    else if (p.state !== 'PAUSED') await lock.run('watch', () => watch(p));

    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => allHandlersFinished() && lock.heldBy === null);
      return continueAsNew<typeof PipelineWorkflow>({ spec: p.spec, carried: p.carry() });
    }
  }

  await lock.run('decommission', () => decommission(p));
  await condition(allHandlersFinished);
  return p.status();
}

// -------------------------------------------------------------------- steps

async function event(p: PipelineModel, kind: string, message: string): Promise<void> {
  log.info(`${p.spec.name}: ${kind}: ${message}`);
  try {
    await record.recordEvent({ spec: p.spec, kind, message });
  } catch (err) {
    // The event log is for people; an unreachable sink must not stop healing.
    log.warn(`could not record event ${kind}: ${failureMessage(err)}`);
  }
}

async function transition(p: PipelineModel, state: PipelineModel['state'], reason: string | null = null): Promise<void> {
  if (p.setState(state, reason)) await event(p, 'state', reason ? `${state}: ${reason}` : state);
}

/** Make sure `needed` task slots are free; false (and BLOCKED) when they cannot be provided. */
async function ensureSlots(p: PipelineModel, needed: number): Promise<boolean> {
  if (needed <= 0) return true;
  const cluster = await observe.observeCluster(p.spec);
  return provision(p, needed - cluster.slotsAvailable);
}

async function provision(p: PipelineModel, missing: number): Promise<boolean> {
  if (missing <= 0) return true;
  try {
    const { added } = await act.provisionSlots({ spec: p.spec, missingSlots: missing });
    await event(p, 'provision', `${missing} task slot(s) missing; started ${added.join(', ')}`);
    return true;
  } catch (err) {
    await transition(p, 'BLOCKED', failureMessage(err));
    return false;
  }
}

/** Submit one job (idempotent by name) and remember it. */
async function submit(p: PipelineModel, spec: PipelineSpec, job: JobName, restore: RestorePoint | null): Promise<string> {
  const res = await actSay('submitJob', `submit ${job} v${spec.version} ${restore ? `from ${restore.kind} ${restore.path}` : 'without state'}`, {
    spec,
    job,
    restorePath: restore?.path ?? null,
  });
  const r = p.records[job];
  p.records[job] = {
    ...r,
    jobId: res.jobId,
    fingerprint: res.fingerprint,
    submittedAt: res.submittedAt,
    restoredFrom: res.reused ? r.restoredFrom : restore,
    stopped: false,
    seenNumRestarts: res.reused ? r.seenNumRestarts : 0,
    flinkState: res.reused ? r.flinkState : 'CREATED',
  };
  await event(
    p,
    res.reused ? 'adopt' : 'submit',
    res.reused
      ? `${job}: job ${res.jobId} of that name is already live; adopted it`
      : `${job}: submitted ${res.jobId} (v${spec.version})${restore ? ` from ${restore.kind} ${restore.path}` : ' without state'}`,
  );
  return res.jobId;
}

/**
 * Deploy (or finish deploying after a crash): every step is idempotent, so running it again after a
 * failure or a worker restart converges without duplicates. A failure leaves the pipeline DEGRADED or
 * BLOCKED with the reason; the main loop tries again.
 */
async function deploy(p: PipelineModel): Promise<void> {
  try {
    await deploySteps(p);
  } catch (err) {
    await transition(p, 'DEGRADED', `deploy failed: ${failureMessage(err)}`);
  }
}

async function deploySteps(p: PipelineModel): Promise<void> {
  await transition(p, 'DEPLOYING');
  const preflight = await act.preflightSource(p.spec);
  if (!preflight.ok) {
    await transition(p, 'BLOCKED', `source not ready: ${preflight.problems.join(' ')}`);
    return;
  }
  const plan = await observe.planDeployment(p.spec);
  const obs = await observe.observeJobs({ spec: p.spec, tracked: trackedIds(p) });
  absorb(p, obs);
  const toStart = ORDER.filter((job) => !isLive(p.records[job]));
  const slots = toStart.reduce((n, job) => n + p.spec.jobs[job].parallelism, 0);
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
async function awaitRunning(p: PipelineModel, spec: PipelineSpec, jobs: Array<[JobName, string]>): Promise<string[]> {
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

function trackedIds(p: PipelineModel): Record<JobName, string | null> {
  return Object.fromEntries(JOB_NAMES.map((j) => [j, p.records[j].jobId])) as Record<JobName, string | null>;
}

const isLive = (r: JobRecord) => r.jobId !== null && r.flinkState !== null && !isTerminal(r.flinkState);

/** Fold an observation into the records without acting (deploy uses it to adopt live jobs). */
function absorb(p: PipelineModel, obs: Observation): void {
  const decision = decideWatch(p.spec, p.records, obs, { lastPeriodicSavepointAt: Number.MAX_SAFE_INTEGER });
  p.records = decision.records;
  p.observedAt = obs.observedAt;
}

async function watch(p: PipelineModel): Promise<void> {
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
  const decision = decideWatch(p.spec, p.records, obs, { lastPeriodicSavepointAt: p.lastPeriodicSavepointAt });
  p.records = decision.records;
  for (const note of decision.notes) await event(p, 'watch', note);

  const healing = decision.actions.filter((a) => a.kind === 'resubmit' || a.kind === 'provision');
  if (healing.length && patched(RECOVERING_PATCH)) {
    // Say so while it happens: the jobs being brought back are not running.
    const what = healing.map((a) => (a.kind === 'resubmit' ? `resubmitting ${a.job}` : `adding ${a.missingSlots} task slot(s)`));
    await transition(p, 'RECOVERING', what.join(', '));
  }
  const resubmitted: Array<[JobName, string]> = [];
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
          resubmitted.push([action.job, await submit(p, p.spec, action.job, action.restore)]);
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
      await event(p, 'error', `${action.kind}${'job' in action ? ` ${action.job}` : ''} failed: ${failureMessage(err)}`);
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
  const problems = [decision.health.reason, ...failures].filter(Boolean);
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
async function watchFreshness(p: PipelineModel): Promise<string | null> {
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
async function disposeOldCheckpoints(p: PipelineModel): Promise<void> {
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

/** Savepoints of running jobs now; retention disposes the oldest beyond spec.savepoints.retain. */
async function savepointNow(p: PipelineModel, jobs: JobName[], reason: 'periodic' | 'manual'): Promise<RestorePoint[]> {
  const taken: RestorePoint[] = [];
  for (const job of jobs) {
    const r = p.records[job];
    if (!r.jobId || r.stopped || r.flinkState !== 'RUNNING') continue;
    try {
      const point = await actSay('triggerSavepoint', `${reason} savepoint of ${job}`, { spec: p.spec, job, jobId: r.jobId, triggerId: triggerId(), reason });
      p.addSavepoint(job, point);
      taken.push(point);
      await record.recordSavepoint({ spec: p.spec, job, point, fingerprint: r.fingerprint }).catch((err) => log.warn(failureMessage(err)));
      for (const old of savepointsToDispose(p.records[job], p.spec.savepoints.retain)) {
        await act.disposeSavepoint({ spec: p.spec, path: old.path });
        p.records[job] = { ...p.records[job], savepoints: p.records[job].savepoints.filter((s) => s.path !== old.path) };
      }
    } catch (err) {
      await event(p, 'error', `savepoint of ${job} failed: ${failureMessage(err)}`);
    }
  }
  if (taken.length) await event(p, 'savepoint', `${reason} savepoint(s): ${taken.map((t) => t.path).join(', ')}`);
  return taken;
}

/** Stop jobs with savepoints, downstream first. Returns the savepoint of each job stopped. */
async function stopJobs(p: PipelineModel, jobs: JobName[]): Promise<Partial<Record<JobName, RestorePoint>>> {
  const points: Partial<Record<JobName, RestorePoint>> = {};
  for (const job of stopOrder(jobs)) {
    const r = p.records[job];
    if (!isLive(r)) {
      p.records[job] = { ...r, stopped: true };
      continue;
    }
    const point = await actSay('stopJobWithSavepoint', `stop ${job} (${r.jobId}) with a savepoint`, { spec: p.spec, job, jobId: r.jobId!, triggerId: triggerId() });
    p.addSavepoint(job, point);
    p.records[job] = { ...p.records[job], stopped: true, flinkState: 'FINISHED' };
    points[job] = point;
    await record.recordSavepoint({ spec: p.spec, job, point, fingerprint: r.fingerprint }).catch((err) => log.warn(failureMessage(err)));
  }
  return points;
}

// -------------------------------------------------------------------- redeploy

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
async function redeploy(p: PipelineModel, request: RedeployRequest): Promise<RedeployOutcome> {
  const previous = p.spec;
  const next = request.spec ? parseSpec(request.spec) : previous;
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
    const slots = moving.reduce((n, job) => n + next.jobs[job].parallelism, 0);
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

// -------------------------------------------------------------------- pause / resume / decommission

/**
 * After the ingest job stopped with a savepoint (pause, decommission): record where the replication
 * slots stand with it, so a later workflow can resume from these savepoints (src/pipeline/resume.ts).
 * Failing here loses nothing now; a later workflow would start fresh instead of resuming.
 */
async function recordSourcePositions(p: PipelineModel, point: RestorePoint | undefined): Promise<void> {
  if (!point || !patched(RESUME_PATCH)) return;
  try {
    const sourcePositions = await act.sourcePositions(p.spec);
    await record.recordSavepoint({ spec: p.spec, job: 'ingest', point, fingerprint: p.records.ingest.fingerprint, sourcePositions });
  } catch (err) {
    await event(p, 'error', `replication slot positions not recorded (${failureMessage(err)}): a new workflow would start fresh rather than resume`);
  }
}

async function pause(p: PipelineModel): Promise<PipelineStatus> {
  await transition(p, 'PAUSING');
  const points = await stopJobs(p, [...JOB_NAMES]);
  await recordSourcePositions(p, points.ingest);
  await transition(p, 'PAUSED');
  return p.status();
}

async function resume(p: PipelineModel): Promise<PipelineStatus> {
  await transition(p, 'RESUMING');
  const slots = JOB_NAMES.reduce((n, job) => n + p.spec.jobs[job].parallelism, 0);
  if (!(await ensureSlots(p, slots))) return p.status();
  const started: Array<[JobName, string]> = [];
  for (const job of ORDER) started.push([job, await submit(p, p.spec, job, bestRestorePoint(p.records[job]))]);
  const failures = await awaitRunning(p, p.spec, started);
  await transition(p, failures.length ? 'DEGRADED' : 'RUNNING', failures.join('; ') || null);
  return p.status();
}

async function decommission(p: PipelineModel): Promise<void> {
  const request = p.decommission!;
  await transition(p, 'DECOMMISSIONING', request.reason);
  try {
    const points = await stopJobs(p, [...JOB_NAMES]);
    if (!request.dropSourceArtifacts) await recordSourcePositions(p, points.ingest);
  } catch (err) {
    // A job that cannot take a savepoint is cancelled: decommissioning must finish.
    await event(p, 'error', `stop with savepoint failed (${failureMessage(err)}); cancelling`);
    for (const job of JOB_NAMES) {
      const r = p.records[job];
      if (r.jobId && isLive(r)) await act.cancelJob({ spec: p.spec, jobId: r.jobId });
      p.records[job] = { ...p.records[job], stopped: true };
    }
  }
  if (request.dropSourceArtifacts) {
    for (const note of await act.dropSourceArtifacts(p.spec)) await event(p, 'decommission', note);
  }
  await transition(p, 'DECOMMISSIONED', request.reason);
}
