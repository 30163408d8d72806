/**
 * What happens on repair. The plan (src/core/repair.ts `planRepair`, which explains each step) is in
 * the status before its first step acts; the plan interpreter (../plan-runner.ts) runs it; this file
 * says what performs each step kind. Readers keep the tables they have until the rebuilt ones are
 * proven equal to the contract; then one transaction switches them.
 */
import type { RepairRequest } from '../../core/messages';
import { RepairFrom, RepairRecord, planRepair, repairNames, repairSentence } from '../../core/repair';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../../core/spec';
import { voidRestorePoints } from '../../core/deploy';
import type { Plan } from '../../core/plans';
import { RestorePoint, isLive } from '../../core/types';
import { event, transition } from '../events';
import type { PipelineModel } from '../pipeline-state';
import { Performers, runPlan } from '../plan-runner';
import { act, actSay, triggerId } from '../proxies';
import { awaitRunning, submit } from './deploy';
import { untilEqual } from './until-equal';
import { rebuildBeside, rebuildBesidePlan } from './bluegreen';
import { PATCHES, patch } from '../patches';
import { generationOf } from '../../core/versions';
import { stopJobs } from './savepoints';

export async function repair(p: PipelineModel, request: RepairRequest, trigger: 'auto' | 'operator', why: string): Promise<RepairRecord> {
  const spec = p.spec;
  const from: RepairFrom = request.from ?? 'ads';
  // From the source: a new version of everything beside the live one, readers never frozen (issue 23).
  if (from === 'source' && patch(PATCHES.blueGreen)) return repairBeside(p, request, trigger, why);
  const names = repairNames(spec);
  const shadowSpec: PipelineSpec = { ...spec, sink: { ...spec.sink, schema: names.shadowSchema } };
  const planned = await beginRepair(p, request, trigger, why, from, planRepair(spec, from), `from ${from}`);
  if (planned) return planned;
  const rec = () => p.s.repair!;
  const startedAt = rec().startedAt;

  const deadline = startedAt + durationMs(spec.repair.timeout);
  let shadowJobId: string | null = null;
  let shadowPoint: RestorePoint | null = null;
  let livePoint: RestorePoint | null = null;
  let liveStoppedAt: number | null = null;
  let switched = false;
  let liveRestarted = false;

  const perform: Performers = {
    'claim-shadow': async () => {
      await act.claimShadow(spec);
    },
    // From the source: every job stops, Fluss is rebuilt from a new snapshot.
    'stop-all': async () => {
      liveStoppedAt = Date.now();
      const stopped: string[] = [];
      for (const job of [...JOB_NAMES].reverse()) {
        const r = p.s.records[job];
        if (r.jobId && isLive(r)) {
          await actSay('cancelJob', `cancel ${job} (${r.jobId}) for a rebuild from the source`, { spec, jobId: r.jobId });
          stopped.push(job);
        }
        p.s.records[job] = { ...p.s.records[job], stopped: true, flinkState: 'CANCELED' };
      }
      return { note: stopped.length ? `cancelled ${stopped.join(', ')}` : 'no job was running' };
    },
    'reset-source': async () => {
      const notes = await act.resetSource(spec);
      // Every restore point read the old slots or the old Fluss database: never restored from again.
      for (const job of JOB_NAMES) p.s.records[job] = { ...voidRestorePoints(p.s.records[job]), flussDataLoss: null };
      return { note: notes.join('; ') };
    },
    'prepare-source': async () => {
      const prepared = await act.prepareSource(spec);
      return { note: prepared.createdSlots.length ? `new slots ${prepared.createdSlots.join(', ')}` : 'slots present' };
    },
    tables: async () => {
      await act.createFlussTables(spec);
    },
    'submit-upstream': async () => {
      const started: Array<[JobName, string]> = [];
      for (const job of ['ingest', 'dws', 'ads'] as const) started.push([job, await submit(p, spec, job, null)]);
      const failures = await awaitRunning(p, spec, started);
      if (failures.length) throw new Error(failures.join('; '));
    },
    'shadow-tables': async () => {
      await act.createShadowTables(spec);
    },
    'shadow-submit': async () => {
      const res = await act.submitShadowSink({ spec });
      shadowJobId = res.jobId;
      await actSay('awaitJobRunning', `await ${names.flinkName} RUNNING`, { spec, job: 'sink', jobId: res.jobId, timeoutMs: durationMs(spec.watch.readinessTimeout) });
      return { note: `${names.flinkName}: ${res.jobId}` };
    },
    'shadow-equal': async () => {
      // A probe through the source: once it has come out of the shadow job, the shadow holds what Fluss holds.
      const probe = await act.sendShadowProbe(spec);
      const r = await untilEqual(shadowSpec, deadline, `the shadow ${names.shadowSchema}`, () => act.shadowProbeArrived({ spec, value: probe.value }));
      return { note: `equal after ${r.attempts} comparison(s), ${Math.round((Date.now() - startedAt) / 1000)} s into the repair` };
    },
    'shadow-stop': async () => {
      shadowPoint = await actSay('stopJobWithSavepoint', `stop ${names.flinkName} with a savepoint`, { spec, job: 'sink', jobId: shadowJobId!, triggerId: triggerId() });
      shadowJobId = null;
      return { note: shadowPoint.path };
    },
    'live-stop': async () => {
      livePoint = (await stopJobs(p, ['sink'])).sink ?? null;
      liveStoppedAt = Date.now();
      return { note: livePoint ? livePoint.path : 'sink was not running' };
    },
    switch: async () => {
      const r = await act.switchSinkTables(spec);
      switched = true;
      return { note: r.switched ? `readers now read the rebuilt tables in ${spec.sink.schema}` : 'already switched' };
    },
    'live-start': async () => {
      // Kept with the sink's savepoints, so the retention policy disposes of it in time.
      if (shadowPoint) p.addSavepoint('sink', shadowPoint);
      const jobId = await submit(p, spec, 'sink', shadowPoint);
      const failures = await awaitRunning(p, spec, [['sink', jobId]]);
      if (failures.length) throw new Error(failures.join('; '));
      liveRestarted = true;
      p.s.repair = { ...rec(), readersFrozenMs: liveStoppedAt === null ? null : Date.now() - liveStoppedAt };
      return { note: `sink ${jobId} from ${shadowPoint!.path}` };
    },
    prove: async () => {
      const r = await untilEqual(spec, Math.max(deadline, Date.now() + 120_000), spec.sink.schema);
      p.s.sinkDifference = null;
      p.s.lastEqualAt = r.last?.at ?? Date.now();
      return { note: `equal after ${r.attempts} comparison(s)` };
    },
    cleanup: async () => {
      await act.dropShadow(spec);
    },
    // The compensations.
    'cancel-shadow': async () => {
      const id = shadowJobId ?? (await act.findShadowSink({ spec }));
      if (!id) return { skip: true, note: 'no shadow job runs' };
      await actSay('cancelJob', `cancel ${names.flinkName}`, { spec, jobId: id });
      return {};
    },
    'restart-live': async () => {
      if (liveStoppedAt === null || liveRestarted) return { skip: true, note: 'sink was not stopped' };
      if (from === 'source' && !switched) {
        return { skip: true, note: 'a rebuild from the source stopped before the switch: the jobs stay stopped (their state read the old slots); gridflow repair --from source tries again' };
      }
      const point = switched ? shadowPoint : livePoint;
      const jobId = await submit(p, spec, 'sink', point);
      const failures = await awaitRunning(p, spec, [['sink', jobId]]);
      if (failures.length) throw new Error(failures.join('; '));
      return { note: `sink ${jobId} from ${point?.path ?? 'no savepoint'}` };
    },
    'drop-shadow': async () => {
      await act.dropShadow(spec);
    },
  };

  const run = await runPlan({ get: () => rec().plan, set: (plan) => (p.s.repair = { ...rec(), plan }) }, perform);
  const finishedAt = Date.now();
  if (run.failure === null) {
    p.s.repair = { ...rec(), finishedAt, outcome: 'repaired', note: `rebuilt ${spec.sink.schema}'s six tables ${from === 'source' ? 'and the Fluss database from a new snapshot of the source' : 'from Fluss'} in ${Math.round((finishedAt - startedAt) / 1000)} s` };
    const done = p.alert(finishedAt, 'repaired', repairSentence(rec()));
    await event(p, 'repair', done.message);
    if (p.s.state === 'DEGRADED' && p.s.reason?.startsWith('sink differs')) await transition(p, 'RUNNING');
    return rec();
  }
  // Not equal — the shadow never became equal, or the live tables after the switch: what the rebuild read
  // from is wrong too (Fluss itself, for a rebuild from it). Anything else failed on the way; before the
  // switch readers kept the tables they had.
  const failedStep = rec().plan.steps.find((s) => !s.rollback && s.status === 'failed');
  const notEqual = failedStep?.kind === 'shadow-equal' || failedStep?.kind === 'prove';
  p.s.repair = { ...rec(), finishedAt, outcome: notEqual ? 'not-equal' : 'failed', note: [run.failure, ...run.compensationFailures].join('; ') };
  const sentence = repairSentence(rec());
  const a = p.alert(finishedAt, notEqual ? 'repair-not-equal' : 'repair-failed', sentence);
  await event(p, 'alert', a.message);
  await transition(p, 'DEGRADED', notEqual && from === 'ads' ? `${sentence}. Fluss itself holds the difference: a rebuild from the source follows under repair.policy auto (gridflow repair --from source)` : sentence);
  return rec();
}

/**
 * The repair's record with its plan, in status before any step acts. A dry run ends here: the record
 * (its plan shown, nothing done) is returned; otherwise null, and the repair goes on.
 */
async function beginRepair(p: PipelineModel, request: RepairRequest, trigger: 'auto' | 'operator', why: string, from: RepairFrom, plan: Plan, how: string): Promise<RepairRecord | null> {
  const startedAt = Date.now();
  p.s.repair = {
    id: request.requestId ?? `repair-${startedAt}`,
    trigger,
    from,
    dryRun: request.dryRun === true,
    reason: request.reason ?? why,
    startedAt,
    finishedAt: null,
    outcome: request.dryRun ? 'planned' : 'running',
    note: null,
    readersFrozenMs: null,
    plan,
  };
  if (request.dryRun) {
    p.s.repair = { ...p.s.repair, finishedAt: startedAt };
    await event(p, 'repair', repairSentence(p.s.repair));
    return p.s.repair;
  }
  await event(p, 'repair', `repair ${p.s.repair.id} started (${trigger}, ${how}): ${p.s.repair.reason}`);
  p.publish();
  return null;
}

/**
 * A rebuild from the source as a new version beside the live one (lifecycle/bluegreen.ts): every layer
 * from a snapshot of its own, proven equal, then one switch; the version that was wrong is released at
 * once. Readers keep the live version — updated all along — until the switch.
 */
async function repairBeside(p: PipelineModel, request: RepairRequest, trigger: 'auto' | 'operator', why: string): Promise<RepairRecord> {
  const planned = await beginRepair(p, request, trigger, why, 'source', rebuildBesidePlan(p), 'from source, beside the live version');
  if (planned) return planned;
  const rec = () => p.s.repair!;
  const startedAt = rec().startedAt;
  const { outcome, plan } = await rebuildBeside(p, rec().id);
  const finishedAt = Date.now();
  if (outcome.outcome === 'deployed') {
    p.s.repair = {
      ...rec(),
      plan,
      finishedAt,
      outcome: 'repaired',
      readersFrozenMs: 0,
      note: `rebuilt every layer from a new snapshot of the source beside the live version (now generation ${generationOf(p.spec)}); readers switched in one transaction ${Math.round((finishedAt - startedAt) / 1000)} s after the start, never frozen`,
    };
    const done = p.alert(finishedAt, 'repaired', repairSentence(rec()));
    await event(p, 'repair', done.message);
    return rec();
  }
  const failedStep = plan.steps.find((s) => !s.rollback && s.status === 'failed');
  p.s.repair = { ...rec(), plan, finishedAt, outcome: failedStep?.kind === 'verify' ? 'not-equal' : 'failed', note: outcome.reason ?? 'not switched' };
  const sentence = repairSentence(rec());
  const a = p.alert(finishedAt, rec().outcome === 'not-equal' ? 'repair-not-equal' : 'repair-failed', sentence);
  await event(p, 'alert', a.message);
  await transition(p, 'DEGRADED', sentence);
  return rec();
}
