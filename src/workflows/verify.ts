/**
 * VerifyPipelineWorkflow — one verification of a running pipeline (started by `gridflow verify now` or
 * by the schedule `verify:<name>`):
 *
 *   1. record the run as started (gridflow.verification_runs, ok NULL)
 *   2. freshness: write a probe reading into the source, wait until it (or a newer one) has come out of
 *      every ADS table into gridflow.probe_hops: the latency of the path the readings take
 *   3. compare every sink table with the contract on the source at a cut — after the probe arrived, so
 *      changes made before it have had their chance to flow: source snapshot A, the sink, source
 *      snapshot B; the keys whose inputs held still from A to B must equal the contract, the others
 *      must not be stale (src/postgres/cut.ts); a finding counts only when every attempt, a few seconds
 *      apart, saw it identically
 *   4. replication health: slot lag, wal_status, active; publications hold exactly their table
 *   5. judge (src/core/verify.ts), signal the pipeline workflow `pipeline:<name>` (a failure makes
 *      it raise an alert; nothing is repaired), record the run, keep the newest probes only
 *
 * A step that cannot be carried out (a database down, Flink unreachable) is a failed check with the
 * reason, not a failed workflow: the run is always judged, signalled and (if the sink answers) recorded.
 * Deterministic: probe ids from uuid4(), every time from an activity.
 */
import { ApplicationFailure, getExternalWorkflowHandle, log, proxyActivities, setCurrentDetails, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { LagActivities } from '../activities/lag';
import type { VerifyActivities } from '../activities/verify';
import { pipelineWorkflowId } from '../constants';
import { describeBottleneck, findBottleneck } from '../core/lag';
import { verificationCurrentDetails, verificationProgressDetails } from '../core/metadata';
import { verifiedDifference } from '../core/repair';
import { PipelineSpec, parseSpec } from '../core/spec';
import {
  CompareResult,
  CutAttempt,
  FreshnessResult,
  VerificationResult,
  VerifyOptions,
  VerifyPipelineInput,
  findingCount,
  judgeVerification,
  parseVerifyOptions,
  summarizeVerification,
  verifyLimits,
} from '../core/verify';
import { verificationSignal } from './definitions';
import { failureMessage } from './failure-message';
import { PATCHES, patch, retired } from './patches';

// One proxy per timeout/retry profile (awaitProbe's depends on the input: made in the workflow).
const observe = proxyActivities<VerifyActivities & LagActivities>({
  // compareWarehouse reads both databases in one snapshot each (statement timeout 120 s).
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
const record = proxyActivities<VerifyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});



type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: failureMessage(err) };
  }
}

export async function VerifyPipelineWorkflow(input: VerifyPipelineInput): Promise<VerificationResult> {
  let spec: PipelineSpec;
  let options: VerifyOptions;
  try {
    // Addresses only from schedules made before cluster names; resolved only to configured clusters.
    spec = parseSpec(input.spec, 'addresses-too');
    options = parseVerifyOptions(input.options);
  } catch (err) {
    // Bad input fails the run at once (a plain error would retry the workflow task forever).
    throw ApplicationFailure.nonRetryable(err instanceof Error ? err.message : String(err), 'InvalidInput');
  }
  const limits = verifyLimits(options, spec);
  const info = workflowInfo();
  const runId = input.runId ?? `${info.workflowId}/${info.runId}`;
  const notes: string[] = [];
  const times: number[] = [];
  const seen = <T extends { at: number }>(v: T): T => {
    times.push(v.at);
    return v;
  };

  // What the Temporal UI shows on the run's page: the step in progress, then the result (no history event).
  const progress = (step: string) => setCurrentDetails(verificationProgressDetails(spec.name, step, Date.now()));

  // 1. started
  progress('1/5 recording the run, then 2/5 sending a freshness probe through the pipeline');
  const begun = await attempt(() => record.beginVerificationRun({ spec, runId }));
  if (begun.ok) times.push(begun.value.startedAt);
  else notes.push(`could not record the start of the run: ${begun.error}`);

  // 2. freshness
  const freshness = await measureFreshness(spec, limits, seen);

  // 3. contract
  progress('3/5 comparing every sink table with the contract on the source');
  const compare = patch(PATCHES.verifyCut)
    ? await compareAtCuts(spec, options, limits, seen)
    : await compareWithRetries(spec, options, limits.compareRetryWaitMs, seen);

  // 4. replication
  progress('4/5 checking replication slots and publications');
  const rep = await attempt(() =>
    observe.checkReplicationHealth({ spec, expectActive: options.expectActive, maxLagBytes: options.maxLagBytes }).then(seen),
  );
  const replication: VerificationResult['replication'] = rep.ok
    ? { ok: rep.value.ok, currentLsn: rep.value.currentLsn, slots: rep.value.slots, publications: rep.value.publications, problems: rep.value.problems, otherSlots: rep.value.otherSlots, error: null }
    : { ok: false, error: rep.error };

  // 5. judge, signal, record
  const problems = judgeVerification({ freshness, compare, replication });
  const startedAt = times.length ? Math.min(...times) : 0;
  const finishedAt = times.length ? Math.max(...times) : 0;
  const result: VerificationResult = {
    runId,
    pipeline: spec.name,
    ok: problems.length === 0,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
    freshness,
    compare,
    replication,
    problems,
    summary: '',
    signal: { workflowId: pipelineWorkflowId(spec.name), delivered: false, note: null },
    recorded: false,
    notes,
  };
  result.summary = summarizeVerification(result);

  try {
    await getExternalWorkflowHandle(result.signal.workflowId).signal(verificationSignal, {
      runId,
      at: finishedAt,
      ok: result.ok,
      freshnessMs: freshness.freshnessMs === null ? null : Math.round(freshness.freshnessMs),
      summary: result.summary,
      // What the comparison found: the pipeline is DEGRADED while the sink differs, and repairs by its policy.
      difference: verifiedDifference(compare),
    });
    result.signal.delivered = true;
  } catch (err) {
    // No pipeline workflow (deployed some other way) or it has ended: the run still counts and is recorded.
    result.signal.note = `pipeline workflow ${result.signal.workflowId} was not signalled (it does not exist or has closed): ${failureMessage(err)}`;
    notes.push(result.signal.note);
  }

  const recorded = await attempt(() => record.recordVerificationRun({ spec, result: { ...result, recorded: true } }));
  if (recorded.ok) result.recorded = true;
  else notes.push(`could not record the run in gridflow.verification_runs: ${recorded.error}`);

  if (freshness.sent) {
    const cleaned = await attempt(() => record.cleanupProbes({ spec, keep: options.keepProbes }));
    if (!cleaned.ok) notes.push(`could not delete old probes: ${cleaned.error}`);
  }
  setCurrentDetails(verificationCurrentDetails(result, Date.now()));
  log.info(`verification ${runId} of ${spec.name}: ${result.summary}`);
  return result;
}

async function measureFreshness(
  spec: PipelineSpec,
  limits: ReturnType<typeof verifyLimits>,
  seen: <T extends { at: number }>(v: T) => T,
): Promise<FreshnessResult> {
  const probeId = uuid4();
  const base: FreshnessResult = {
    probeId,
    sent: false,
    arrived: false,
    freshnessMs: null,
    hopsMs: null,
    waitedMs: null,
    limitMs: limits.maxFreshnessMs,
    timeoutMs: limits.probeTimeoutMs,
    jobs: null,
    error: null,
  };
  const sent = await attempt(() => record.sendProbe({ spec, probeId }).then(seen));
  if (!sent.ok) return { ...base, error: sent.error };

  const waiter = proxyActivities<VerifyActivities>({
    startToCloseTimeout: limits.probeTimeoutMs + 60_000,
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
  });
  const arrival = await attempt(() =>
    waiter.awaitProbe({ spec, probeId, value: sent.value.value, sentAt: sent.value.sentAt, timeoutMs: limits.probeTimeoutMs }).then(seen),
  );
  if (!arrival.ok) return { ...base, sent: true, error: arrival.error };
  const a = arrival.value;
  const result: FreshnessResult = { ...base, value: sent.value.value ?? null, sent: true, arrived: a.arrived, freshnessMs: a.freshnessMs, hopsMs: a.hopsMs ?? null, waitedMs: a.waitedMs };
  if (!a.arrived) {
    // Which job stopped moving data? (Best effort: Flink may be the thing that is down.)
    const jobs = await attempt(() => observe.observePipelineJobs({ spec }));
    result.jobs = jobs.ok ? jobs.value : null;
    if (!jobs.ok) result.error = `the probe did not arrive, and Flink could not be asked why: ${jobs.error}`;
  }
  const late = !a.arrived || (a.freshnessMs !== null && a.freshnessMs > limits.maxFreshnessMs);
  if (late) {
    retired(PATCHES.verifyBottleneck);
    // Behind, or stalled: where does Flink say the time goes? (Best effort, like the jobs above.)
    const load = await attempt(() => observe.observeOperatorLoad({ spec }).then(seen));
    const b = load.ok ? findBottleneck(load.value.loads) : null;
    result.bottleneck = b ? describeBottleneck(b) : null;
  }
  return result;
}

/**
 * Compare at a cut (one activity per attempt; the rows stay in the worker, only findings come back),
 * at most compareAttempts times, compareRetryWait apart. The first attempt's findings are candidates;
 * each later attempt keeps only those it saw identically (a quiet key's finding carries its inputs'
 * version, so the key's inputs did not change either). Passes as soon as nothing is left to confirm;
 * fails with what persisted through every attempt. Moving keys are not compared again within the run:
 * the next run checks them (and a key the sink leaves unwritten while it moves is stale meanwhile).
 */
async function compareAtCuts(
  spec: PipelineSpec,
  options: VerifyOptions,
  limits: ReturnType<typeof verifyLimits>,
  seen: <T extends { at: number }>(v: T) => T,
): Promise<CompareResult> {
  const earlier: string[] = [];
  let track: string[] | null = null;
  let last: CompareResult = { ok: false, consistent: false, attempts: 0, tables: [], moving: 0, earlier, error: null };
  for (let i = 1; i <= options.compareAttempts; i++) {
    const outcome: Outcome<CutAttempt> = await attempt(() => observe.compareAtCut({ spec, track, maxFreshnessMs: limits.maxFreshnessMs }).then(seen));
    let seenNow: string;
    if (!outcome.ok) {
      last = { ok: false, consistent: false, attempts: i, tables: [], moving: 0, earlier, error: outcome.error };
      seenNow = outcome.error;
    } else {
      const r = outcome.value;
      const persisting = findingCount(r.tables);
      const moving = r.tables.reduce((n, t) => n + t.moving, 0);
      last = { ok: persisting === 0, consistent: r.consistent, attempts: i, tables: r.tables, moving, earlier, error: null, cutMs: r.cutMs };
      if (persisting === 0) break;
      track = r.track;
      const checked = r.tables.reduce((n, t) => n + t.checked, 0);
      const movingKeys = r.tables.reduce((n, t) => n + t.movingKeys, 0);
      seenNow = `${r.cells} finding${r.cells === 1 ? '' : 's'}, ${persisting} persisting so far (${checked} keys checked, ${movingKeys} moving)`;
    }
    if (i < options.compareAttempts) {
      earlier.push(`attempt ${i}: ${seenNow}`);
      await sleep(limits.compareRetryWaitMs);
    }
  }
  return last;
}

/**
 * Before the cut (patch verify-at-a-cut), for runs started earlier:
 * compare until the sink equals the contract, at most compareAttempts times. From the second attempt on,
 * only differences identical to ones the earlier attempts saw still count: on a source that keeps
 * changing, changes in flight differ from attempt to attempt, a real difference does not. Once nothing
 * has persisted, nothing can, so the loop stops early.
 */
async function compareWithRetries(
  spec: PipelineSpec,
  options: VerifyOptions,
  waitMs: number,
  seen: <T extends { at: number }>(v: T) => T,
): Promise<CompareResult> {
  const earlier: string[] = [];
  let track: string[] | null = null;
  let last: CompareResult = { ok: false, consistent: false, attempts: 0, tables: [], moving: 0, earlier, error: null };
  for (let i = 1; i <= options.compareAttempts; i++) {
    const outcome = await attempt(() => observe.compareWarehouse({ spec, track }).then(seen));
    let seenNow: string;
    if (!outcome.ok) {
      last = { ok: false, consistent: false, attempts: i, tables: [], moving: 0, earlier, error: outcome.error };
      seenNow = outcome.error;
    } else {
      const r = outcome.value;
      const persisting = findingCount(r.tables);
      // Equal now, or every difference has moved since an earlier attempt (so none can persist any more).
      const ok = r.consistent || (i > 1 && persisting === 0);
      last = { ok, consistent: r.consistent, attempts: i, tables: r.tables, moving: r.cells - persisting, earlier, error: null };
      if (ok) break;
      track = r.track;
      seenNow = `${r.cells} differing cells, ${persisting} persisting so far`;
    }
    if (i < options.compareAttempts) {
      earlier.push(`attempt ${i}: ${seenNow}`);
      await sleep(waitMs);
    }
  }
  return last;
}

