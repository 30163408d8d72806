/**
 * The verification workflow's activities (src/workflows/verify.ts). Thin and idempotent:
 *   act     — sendProbe (one probe reading in the source, src/postgres/probe.ts), cleanupProbes
 *             (keep the newest N);
 *   observe — awaitProbe, observePipelineJobs, compareAtCut (compareWarehouse: runs started before
 *             it), checkReplicationHealth;
 *   record  — beginVerificationRun, recordVerificationRun (an upsert on the run id).
 * Connections come by name from the spec; credentials are resolved here, in the worker. Observations
 * carry `at` (epoch ms, this process's clock): the workflow takes its times from them.
 */
import { Context } from '@temporalio/activity';
import { jobNameOf, versionTag } from '../core/versions';
import { asLiveVersion } from './versions';
import { JOB_NAMES, PipelineSpec } from '../core/spec';
import { isLiveState } from '../core/types';
import { CutAttempt, JobState, ProbeArrival, ProbeSent, ReplicationHealth, VerificationResult, WarehouseComparison, verificationDetails } from '../core/verify';
import { PROBE_HOPS, cleanupProbes, probeArrivals, sendProbe } from '../postgres/probe';
import { compareTracked } from '../postgres/compare';
import { compareAtCut, inputVersions } from '../postgres/cut';
import { readContract, readCut, readSink } from '../postgres/reconcile';
import { writeVerificationRun } from '../postgres/sink';
import { CAPTURED_TABLES, artifactName } from '../postgres/source/names';
import { DEFAULT_MAX_LAG_BYTES, checkReplication, inspectReplication } from '../postgres/source/replication';
import { ActivityDeps } from './context';
import { classified, nonRetryable } from './classify';

/** Probe ids are the workflow's uuid4 (with or without dashes), nothing else reaches SQL as a value anyway. */
const PROBE_ID = /^[A-Za-z0-9:_-]{1,100}$/;

function checkProbeId(probeId: string): void {
  if (!PROBE_ID.test(probeId)) throw nonRetryable('InvalidInput', `probe id ${JSON.stringify(probeId)} must match ${PROBE_ID}`);
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* outside an activity (plain calls, scripts) */
  }
}

export function createVerifyActivities(deps: ActivityDeps) {
  const source = (spec: PipelineSpec) => deps.connection(spec.source.connection);
  const sink = (spec: PipelineSpec) => deps.connection(spec.sink.connection);

  return {
    // ---------------------------------------------------------------- record

    /** The run's row with ok NULL ("running"). A retry keeps the first started_at (writeVerificationRun never overwrites it). */
    async beginVerificationRun(input: { spec: PipelineSpec; runId: string }): Promise<{ startedAt: number }> {
      const startedAt = deps.now();
      await classified('record verification start', () =>
        writeVerificationRun(sink(input.spec), { id: input.runId, pipeline: input.spec.name, startedAt: new Date(startedAt).toISOString() }),
      );
      return { startedAt };
    },

    /** The finished run: ok, freshness and the details (an upsert on runId: a retry writes the same row). */
    async recordVerificationRun(input: { spec: PipelineSpec; result: VerificationResult }): Promise<void> {
      const r = input.result;
      await classified('record verification run', () =>
        writeVerificationRun(sink(input.spec), {
          id: r.runId,
          pipeline: input.spec.name,
          // 0 = no step of the run reported a time (every one failed): now is the best there is.
          startedAt: new Date(r.startedAt || deps.now()).toISOString(),
          finishedAt: new Date(r.finishedAt || deps.now()).toISOString(),
          ok: r.ok,
          // Sink clock minus source clock: on two hosts with skewed clocks this can come out negative.
          freshnessMs: r.freshness.freshnessMs === null ? undefined : Math.max(0, r.freshness.freshnessMs),
          details: verificationDetails(r),
        }),
      );
    },

    // ---------------------------------------------------------------- act

    /**
     * Write a probe reading into the source (sent_at = the source's clock). A retry after a lost response
     * writes a second probe: harmless, the workflow waits for the one it was told about (or a newer one).
     */
    async sendProbe(input: { spec: PipelineSpec; probeId: string }): Promise<ProbeSent> {
      checkProbeId(input.probeId);
      return classified('send freshness probe', async () => {
        const sent = await sendProbe(source(input.spec), sink(input.spec), input.spec.name, input.spec.source.schema);
        return { probeId: input.probeId, value: sent.value, sentAt: sent.sentAt, at: deps.now() };
      });
    },

    /** Delete all but the newest `keep` probes of this pipeline from the source, and their records. */
    async cleanupProbes(input: { spec: PipelineSpec; keep: number }): Promise<{ deleted: number }> {
      if (!Number.isInteger(input.keep) || input.keep < 1) throw nonRetryable('InvalidInput', `keep must be an integer ≥ 1, got ${input.keep}`);
      return classified('clean up probes', async () => ({
        deleted: await cleanupProbes(source(input.spec), sink(input.spec), input.spec.name, input.spec.source.schema, input.keep),
      }));
    },

    // ---------------------------------------------------------------- observe

    /**
     * Poll the probe log until the probe (or a newer one) has come out of every hop, or `timeoutMs` has
     * passed since the first attempt started (kept in the heartbeat, so a retried attempt does not wait
     * the whole time again). Never fails for lateness: arrived=false is the answer.
     */
    async awaitProbe(input: { spec: PipelineSpec; probeId: string; value?: string; sentAt?: number; timeoutMs: number; pollMs?: number }): Promise<ProbeArrival> {
      checkProbeId(input.probeId);
      if (input.value === undefined || !/^\d{1,9}(\.\d{1,3})?$/.test(input.value) || typeof input.sentAt !== 'number') {
        throw nonRetryable('InvalidInput', `awaitProbe needs the probe's value and sentAt from sendProbe, got ${JSON.stringify({ value: input.value, sentAt: input.sentAt })}`);
      }
      const { value, sentAt } = input;
      let began = deps.now();
      try {
        const previous = Context.current().info.heartbeatDetails as { began?: number } | undefined;
        if (typeof previous?.began === 'number') began = previous.began;
      } catch {
        /* plain call */
      }
      const pollMs = input.pollMs ?? 100;
      return classified('await freshness probe', async () => {
        for (;;) {
          heartbeat({ began });
          const arrivals = await probeArrivals(sink(input.spec), input.spec.name, value);
          const now = deps.now();
          const hopsMs = Object.fromEntries(PROBE_HOPS.map((h) => [h, arrivals[h] === null ? null : Math.max(0, arrivals[h]! - sentAt)])) as ProbeArrival['hopsMs'];
          const times = PROBE_HOPS.map((h) => hopsMs[h]);
          if (times.every((t) => t !== null)) {
            return { probeId: input.probeId, arrived: true, freshnessMs: Math.max(...(times as number[])), hopsMs, waitedMs: now - began, at: now };
          }
          if (now - began >= input.timeoutMs) {
            return { probeId: input.probeId, arrived: false, freshnessMs: null, hopsMs, waitedMs: now - began, at: now };
          }
          await deps.sleep(Math.min(pollMs, Math.max(1, input.timeoutMs - (now - began))));
        }
      });
    },

    /** The state of each of the pipeline's Flink jobs, found by name (to explain a probe that never arrived). */
    async observePipelineJobs(input: { spec: PipelineSpec }): Promise<JobState[]> {
      return classified('observe pipeline jobs', async () => {
        const all = await deps.rest(input.spec).jobsOverview();
        const spec = await asLiveVersion(deps, input.spec);
        return JOB_NAMES.map((job) => {
          const flinkName = jobNameOf(spec, job);
          const mine = all.filter((j) => j.name === flinkName).sort((a, b) => b.startTime - a.startTime);
          const current = mine.find((j) => isLiveState(j.state)) ?? mine[0];
          return { job, flinkName, state: current?.state ?? null };
        });
      });
    },

    /**
     * Every sink table against the contract on the source (verification runs started before the cut,
     * patch verify-at-a-cut). With `track` (the previous attempt's
     * fingerprints) only differences that were also there count; the rest are reported as moving.
     * Examples are capped at 5 per kind and table, fingerprints at MAX_TRACKED.
     */
    async compareWarehouse(input: { spec: PipelineSpec; track?: string[] | null }): Promise<WarehouseComparison> {
      return classified('compare sink with contract', async () => {
        const expected = await readContract(source(input.spec));
        const actual = await readSink(sink(input.spec), { schema: input.spec.sink.schema });
        return { ...compareTracked(expected, actual, input.track ?? null), at: deps.now() };
      });
    },

    /**
     * One comparison at a cut (src/postgres/cut.ts): source snapshot A, the sink, source snapshot B;
     * the keys whose inputs held still compared with the contract at A, the others checked for being
     * stale (not written for more than maxFreshnessMs before A). With `track`, only findings that were
     * also there count. Returns the findings and counts only: the rows stay here.
     */
    async compareAtCut(input: { spec: PipelineSpec; track?: string[] | null; maxFreshnessMs: number }): Promise<CutAttempt> {
      if (!Number.isFinite(input.maxFreshnessMs) || input.maxFreshnessMs <= 0) throw nonRetryable('InvalidInput', `maxFreshnessMs must be a positive number, got ${input.maxFreshnessMs}`);
      return classified('compare sink with contract at a cut', async () => {
        const cut = await readCut(source(input.spec), sink(input.spec), { sinkSchema: input.spec.sink.schema, now: deps.now });
        const result = compareAtCut({
          expected: cut.expected,
          actual: cut.actual,
          before: inputVersions(cut.before),
          after: inputVersions(cut.after),
          at: cut.sinkAt,
          staleBefore: cut.sinkAt - input.maxFreshnessMs,
          track: input.track ?? null,
        });
        return { ...result, cutMs: cut.cutMs, readMs: cut.readMs, at: deps.now() };
      });
    },

    /** Slots (lag, wal_status, active) and publications (exactly one captured table each) of the pipeline. */
    async checkReplicationHealth(input: { spec: PipelineSpec; expectActive: boolean; maxLagBytes?: number }): Promise<ReplicationHealth> {
      return classified('check replication health', async () => {
        // A schedule's spec (made at deploy) does not know which version is live now.
        const spec = await asLiveVersion(deps, input.spec);
        const observed = await inspectReplication(source(spec), { pipeline: versionTag(spec), tables: CAPTURED_TABLES });
        const problems = checkReplication(observed, {
          pipeline: versionTag(spec),
          schema: spec.source.schema,
          tables: CAPTURED_TABLES,
          expectActive: input.expectActive,
          maxLagBytes: input.maxLagBytes ?? DEFAULT_MAX_LAG_BYTES,
        });
        return {
          ok: problems.length === 0,
          currentLsn: observed.currentLsn,
          slots: CAPTURED_TABLES.map((table) => {
            const name = artifactName(versionTag(spec), table);
            const s = observed.slots.find((x) => x.name === name);
            return {
              name,
              table,
              exists: s !== undefined,
              active: s?.active ?? false,
              walStatus: s?.walStatus ?? null,
              lagBytes: s?.lagBytes ?? null,
              retainedBytes: s?.retainedBytes ?? null,
            };
          }),
          publications: CAPTURED_TABLES.map((table) => {
            const name = artifactName(versionTag(spec), table);
            const p = observed.publications.find((x) => x.name === name);
            return { name, table, exists: p !== undefined, tables: p?.tables ?? [] };
          }),
          problems: problems.map((p) => ({ kind: p.kind, name: p.name, message: p.message })),
          otherSlots: observed.otherSlots,
          at: deps.now(),
        };
      });
    },
  };
}

export type VerifyActivities = ReturnType<typeof createVerifyActivities>;
