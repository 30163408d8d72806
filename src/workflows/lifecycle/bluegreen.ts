/**
 * What happens on a blue/green redeploy (and on a rollback to the parked version). The plan
 * (src/core/bluegreen.ts `planVersionChange`, which explains each step) is in the status before its
 * first step acts; the plan interpreter (../plan-runner.ts) runs it; this file says what performs each
 * step kind. The live version is never stopped before readers have the new one: a failure anywhere
 * before the switch cancels and drops the new version, and readers never saw it.
 */
import { sleep } from '@temporalio/workflow';
import { ParkedVersion, VersionChangePlan, nextVersionSpec, parkVersion, planVersionChange } from '../../core/bluegreen';
import type { RedeployRequest } from '../../core/messages';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../../core/spec';
import { JobRecord, RedeployOutcome, RestorePoint, isLive, newJobRecord } from '../../core/types';
import { generationOf, versionSchemaOf } from '../../core/versions';
import { slotsNeeded } from '../../core/plan';
import { event, transition } from '../events';
import { failureMessage } from '../failure-message';
import { PATCHES, patch } from '../patches';
import type { PipelineModel } from '../pipeline-state';
import { Performers, runPlan } from '../plan-runner';
import { act, actSay, observe } from '../proxies';
import { untilEqual } from './until-equal';
import { stopJobs } from './savepoints';

/** Between two looks for the probe while a version catches up. */
const PROBE_EVERY_MS = 2_000;

/** `gridflow redeploy` under the blue-green strategy: `next` (the operator's spec) as a new version beside the live one. */
export async function blueGreenRedeploy(p: PipelineModel, request: RedeployRequest, next: PipelineSpec): Promise<RedeployOutcome> {
  patch(PATCHES.blueGreen);
  // One parked version at a time: the one before goes now (a rollback would go back to it, not further).
  if (p.s.parked) await releaseParked(p);
  return changeVersion(p, 'forward', nextVersionSpec(p.spec, next), null, request.requestId ?? null);
}

/** `gridflow rollback`: readers back to the parked version, proven equal first, within its window. */
export async function rollbackVersion(p: PipelineModel, requestId: string | null): Promise<RedeployOutcome> {
  const parked = p.s.parked!;
  return changeVersion(p, 'rollback', parked.spec, parked, requestId);
}

/** The parked version's window is over: drop its slots, Fluss database and tables, release their names. */
export async function releaseParked(p: PipelineModel): Promise<void> {
  const parked = p.s.parked;
  if (!parked) return;
  try {
    const notes = await act.dropVersion(parked.spec);
    p.s.parked = null;
    // Its stop savepoints restore nothing any more (its slots and Fluss database are gone).
    for (const point of Object.values(parked.points)) {
      if (point) await act.disposeSavepoint({ spec: parked.spec, path: point.path }).catch(() => undefined);
    }
    await event(p, 'release', `v${parked.spec.version} (generation ${generationOf(parked.spec)}) released after its rollback window: ${notes.join('; ')}`);
  } catch (err) {
    // Tried again at the next watch round; nothing live depends on it.
    await event(p, 'error', `releasing v${parked.spec.version} (generation ${generationOf(parked.spec)}) failed: ${failureMessage(err)}`);
  }
}

/**
 * A repair from the source (src/core/repair.ts): the same plan as a blue/green redeploy of the same spec —
 * everything rebuilt from a snapshot of its own beside the live version, readers switched once it is
 * proven equal — with the version left released at once (it is the one that was wrong).
 */
export async function rebuildBeside(p: PipelineModel, requestId: string | null): Promise<{ outcome: RedeployOutcome; plan: VersionChangePlan }> {
  patch(PATCHES.blueGreen);
  if (p.s.parked) await releaseParked(p);
  const outcome = await changeVersion(p, 'forward', nextVersionSpec(p.spec, p.spec), null, requestId, { repair: true });
  return { outcome, plan: p.s.plan as VersionChangePlan };
}

/** The plan a repair from the source runs (for its dry run). */
export function rebuildBesidePlan(p: PipelineModel): VersionChangePlan {
  return planVersionChange({ live: p.spec, target: nextVersionSpec(p.spec, p.spec), direction: 'forward' });
}

async function changeVersion(
  p: PipelineModel,
  direction: 'forward' | 'rollback',
  target: PipelineSpec,
  parked: ParkedVersion | null,
  requestId: string | null,
  options: { repair?: boolean } = {},
): Promise<RedeployOutcome> {
  const live = p.spec;
  const stateBefore = p.s.state;
  const reasonBefore = p.s.reason;
  const startedAt = Date.now();
  const vs = versionSchemaOf(target);
  const name = `v${target.version} (generation ${generationOf(target)})`;
  try {
    p.s.plan = planVersionChange({ live, target, direction, requestId });
    const label = options.repair ? 'repair from the source' : direction === 'forward' ? 'blue/green' : 'rollback';
    await transition(p, 'REDEPLOYING', `${label}: v${live.version} → ${name}; readers stay on v${live.version} until ${name} is proven equal`);
    const plan = () => p.s.plan as VersionChangePlan;
    const deadline = () => startedAt + durationMs(target.redeploy.timeout);

    const submitted: Partial<Record<JobName, { jobId: string; fingerprint: string; submittedAt: number; restoredFrom: RestorePoint | null }>> = {};
    let stopped: Partial<Record<JobName, RestorePoint | null>> = {};
    let switchedAt: number | null = null;
    let provenAt: number | null = null;

    const perform: Performers = {
      'claim-version': async () => {
        const r = await act.claimVersion({ live, next: target });
        return { note: r.claimed.length ? `claimed ${r.claimed.join(', ')}` : 'already ours' };
      },
      'prepare-source': async () => {
        const prepared = await act.prepareSource(target);
        return { note: prepared.createdSlots.length ? `new slots ${prepared.createdSlots.join(', ')}` : 'slots present' };
      },
      'version-tables': async () => {
        await act.createVersionTables(target);
      },
      tables: async () => {
        await act.createFlussTables(target);
      },
      slots: async () => {
        // The live version keeps its slots: these are more, beside them. Missing ones fail the change (never BLOCKED: the live version runs on).
        const cluster = await observe.observeCluster(target);
        const missing = slotsNeeded(target) - cluster.slotsAvailable;
        if (missing <= 0) return { note: `${cluster.slotsAvailable} free` };
        const { added } = await act.provisionSlots({ spec: target, missingSlots: missing });
        return { note: `started ${added.join(', ')}` };
      },
      submit: async (step) => {
        const job = step.job!;
        const from = parked?.points[job] ?? null;
        const res = await actSay('submitJob', `submit ${job} of ${name} ${from ? `from ${from.path}` : 'without state'}`, { spec: target, job, restorePath: from?.path ?? null });
        submitted[job] = { jobId: res.jobId, fingerprint: res.fingerprint, submittedAt: res.submittedAt, restoredFrom: from };
        return { note: res.jobId };
      },
      await: async () => {
        const timeoutMs = durationMs(target.watch.readinessTimeout);
        const results = await Promise.allSettled(
          JOB_NAMES.map((job) => actSay('awaitJobRunning', `wait for ${job} of ${name} to run`, { spec: target, job, jobId: submitted[job]!.jobId, timeoutMs })),
        );
        const failures = results.flatMap((r) => (r.status === 'rejected' ? [failureMessage(r.reason)] : []));
        if (failures.length) throw new Error(failures.join('; '));
      },
      'catch-up': async () => {
        const probe = await act.sendVersionProbe(target);
        while (!(await act.versionProbeArrived({ spec: target, value: probe.value }))) {
          if (Date.now() >= deadline()) throw new Error(`${name} did not catch up with the source within ${target.redeploy.timeout}: a probe sent ${Math.round((Date.now() - startedAt) / 1000)} s into the change never came out of its sink`);
          await sleep(PROBE_EVERY_MS);
        }
        return { note: `caught up ${Math.round((Date.now() - startedAt) / 1000)} s into the change` };
      },
      verify: async () => {
        const asWritten: PipelineSpec = { ...target, sink: { ...target.sink, schema: vs } };
        // Caught up already (the step before): a difference that stays, comparison after comparison, is what the version computes.
        const r = await untilEqual(asWritten, deadline(), `${name}'s tables (${vs})`, async () => true, target.redeploy.timeout, {
          with: 'the source',
          meaning: options.repair ? 'rebuilt from the source, it still differs: the warehouse SQL and the contract disagree' : 'the new version computes something else than the contract',
        });
        provenAt = r.last?.at ?? Date.now();
        return { note: `equal after ${r.attempts} comparison(s)` };
      },
      switch: async () => {
        const r = await act.switchVersion({ from: live, to: target });
        switchedAt = Date.now();
        return { note: r.switched ? `readers now read ${name}` : 'already switched' };
      },
      'stop-old': async () => {
        // Readers have the new version: nothing here may undo that. A job that will not stop with a savepoint is cancelled.
        try {
          stopped = await stopJobs(p, [...JOB_NAMES]);
          return { note: `stopped with savepoints: ${Object.keys(stopped).join(', ') || 'none was running'}` };
        } catch (err) {
          for (const job of JOB_NAMES) {
            const r = p.s.records[job];
            if (r.jobId && isLive(r)) await act.cancelJob({ spec: live, jobId: r.jobId }).catch(() => undefined);
            p.s.records[job] = { ...p.s.records[job], stopped: true };
          }
          return { note: `a savepoint failed (${failureMessage(err)}); the rest cancelled: a rollback starts those from their last checkpoint` };
        }
      },
      // The compensations.
      'cancel-new': async () => {
        const problems: string[] = [];
        for (const job of JOB_NAMES) {
          const s = submitted[job];
          if (!s) continue;
          try {
            await act.cancelJob({ spec: target, jobId: s.jobId });
          } catch (err) {
            problems.push(`cancelling ${job} ${s.jobId}: ${failureMessage(err)}`);
          }
        }
        if (problems.length) throw new Error(problems.join('; '));
        return Object.keys(submitted).length ? {} : { skip: true, note: `nothing of ${name} was started` };
      },
      'drop-new': async () => {
        const notes = await act.dropVersion(target);
        return { note: notes.join('; ') };
      },
      'park-again': async () => ({ skip: true, note: `${name} stays parked until ${new Date(parked!.until).toISOString()}` }),
    };

    const run = await runPlan<VersionChangePlan>({ get: plan, set: (x) => (p.s.plan = x) }, perform);
    const base = { fromVersion: live.version, toVersion: target.version, jobs: [...JOB_NAMES] };
    if (run.failure === null) {
      const records = Object.fromEntries(
        JOB_NAMES.map((job): [JobName, JobRecord] => {
          const s = submitted[job]!;
          return [job, { ...newJobRecord(job), jobId: s.jobId, fingerprint: s.fingerprint, submittedAt: s.submittedAt, restoredFrom: s.restoredFrom, flinkState: 'RUNNING' }];
        }),
      ) as Record<JobName, JobRecord>;
      const now = Date.now();
      p.s.parked = parkVersion(live, stopped, now);
      p.spec = target;
      p.s.records = records;
      const outcome: RedeployOutcome = { outcome: 'deployed', ...base, strategy: 'blue-green', switchMs: switchedAt === null ? undefined : switchedAt - startedAt };
      if (options.repair) {
        // What readers have now was proven equal before the switch.
        p.s.sinkDifference = null;
        p.s.lastEqualAt = provenAt;
      } else p.s.lastRedeploy = outcome;
      await transition(p, stateBefore === 'DEGRADED' && p.s.sinkDifference ? 'DEGRADED' : 'RUNNING', stateBefore === 'DEGRADED' && p.s.sinkDifference ? reasonBefore : null);
      await event(
        p,
        'redeploy',
        `${label}: readers switched to ${name} ${Math.round(((switchedAt ?? now) - startedAt) / 1000)} s after the request, proven equal first; ` +
          `v${live.version} (generation ${generationOf(live)}) parked until ${new Date(p.s.parked.until).toISOString()} (gridflow rollback)`,
      );
      if (options.repair || durationMs(live.redeploy.rollbackWindow) === 0) await releaseParked(p);
      return outcome;
    }
    const reason = `${name} was not switched to: ${run.failure}${run.compensationFailures.length ? `; cleaning it up failed too: ${run.compensationFailures.join('; ')}` : ''}; readers stayed on v${live.version}`;
    const outcome: RedeployOutcome = { outcome: 'rolled-back', ...base, strategy: 'blue-green', reason };
    // A repair says its own outcome (events, the repair alert); a redeploy's is the redeploy's.
    if (!options.repair) {
      p.s.lastRedeploy = outcome;
      p.alert(Date.now(), 'redeploy-rolled-back', reason);
    }
    await transition(p, stateBefore === 'DEGRADED' ? 'DEGRADED' : 'RUNNING', stateBefore === 'DEGRADED' ? reasonBefore : null);
    await event(p, 'redeploy', reason);
    return outcome;
  } finally {
    p.redeploying = null;
  }
}
