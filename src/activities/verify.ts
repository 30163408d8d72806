/**
 * The verification workflow's activities (src/workflows/verify.ts). Thin and idempotent:
 *   act     — sendProbe (one row in the source's gridflow_probe, id chosen by the workflow),
 *             cleanupProbes (keep the newest N);
 *   observe — awaitProbe, observePipelineJobs, compareWarehouse, checkReplicationHealth;
 *   record  — beginVerificationRun, recordVerificationRun (an upsert on the run id).
 * Connections come by name from the spec; credentials are resolved here, in the worker. Observations
 * carry `at` (epoch ms, this process's clock): the workflow takes its times from them.
 */
import { Context } from '@temporalio/activity';
import { flinkJobName } from '../constants';
import { TERMINAL_JOB_STATES } from '../flink/rest';
import { JOB_NAMES, PipelineSpec } from '../pipeline/spec';
import { JobState, ProbeArrival, ProbeSent, ReplicationHealth, VerificationResult, WarehouseComparison, verificationDetails } from '../pipeline/verify';
import { ident, query, withClient } from '../postgres/client';
import { compareTracked } from '../postgres/differences';
import { readContract, readSink } from '../postgres/reconcile';
import { recordVerificationRun as writeVerificationRun } from '../postgres/sink';
import { CAPTURED_TABLES, DEFAULT_MAX_LAG_BYTES, PROBE_TABLE, artifactName, checkReplication, inspectReplication } from '../postgres/source';
import { ActivityDeps } from './context';
import { classified, nonRetryable } from './failure';

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
  const probeTable = (spec: PipelineSpec) => `${ident(spec.source.schema)}.${ident(PROBE_TABLE)}`;

  return {
    // ---------------------------------------------------------------- record

    /** The run's row with ok NULL ("running"). A retry keeps the first started_at (recordVerificationRun never overwrites it). */
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

    /** Insert the probe (sent_at = the source's clock). Idempotent: a retry finds the row the first attempt wrote. */
    async sendProbe(input: { spec: PipelineSpec; probeId: string }): Promise<ProbeSent> {
      checkProbeId(input.probeId);
      return classified('send freshness probe', () =>
        withClient(source(input.spec), async (client) => {
          const table = probeTable(input.spec);
          await query(client, `insert probe into ${input.spec.source.schema}.${PROBE_TABLE}`, `INSERT INTO ${table} (probe_id, sent_at) VALUES ($1, clock_timestamp()) ON CONFLICT (probe_id) DO NOTHING`, [input.probeId]);
          const res = await query<{ sent_ms: number }>(
            client,
            'read probe',
            `SELECT (extract(epoch FROM sent_at) * 1000)::float8 AS sent_ms FROM ${table} WHERE probe_id = $1`,
            [input.probeId],
          );
          const row = res.rows[0];
          if (!row) throw new Error(`probe ${input.probeId} vanished right after it was inserted (deleted concurrently?)`);
          return { probeId: input.probeId, sentAt: row.sent_ms, at: deps.now() };
        }),
      );
    },

    /** Delete all but the newest `keep` probes from the source (the pipeline deletes their arrivals). */
    async cleanupProbes(input: { spec: PipelineSpec; keep: number }): Promise<{ deleted: number }> {
      if (!Number.isInteger(input.keep) || input.keep < 1) throw nonRetryable('InvalidInput', `keep must be an integer ≥ 1, got ${input.keep}`);
      return classified('clean up probes', () =>
        withClient(source(input.spec), async (client) => {
          const table = probeTable(input.spec);
          const res = await query(
            client,
            'delete old probes',
            `DELETE FROM ${table} WHERE probe_id IN (SELECT probe_id FROM ${table} ORDER BY sent_at DESC, probe_id DESC OFFSET $1)`,
            [input.keep],
          );
          return { deleted: res.rowCount ?? 0 };
        }),
      );
    },

    // ---------------------------------------------------------------- observe

    /**
     * Poll gridflow.probe_arrivals until the probe is there or `timeoutMs` has passed since the first
     * attempt started (kept in the heartbeat, so a retried attempt does not wait the whole time again).
     * Never fails for lateness: arrived=false is the answer.
     */
    async awaitProbe(input: { spec: PipelineSpec; probeId: string; timeoutMs: number; pollMs?: number }): Promise<ProbeArrival> {
      checkProbeId(input.probeId);
      let began = deps.now();
      try {
        const previous = Context.current().info.heartbeatDetails as { began?: number } | undefined;
        if (typeof previous?.began === 'number') began = previous.began;
      } catch {
        /* plain call */
      }
      const pollMs = input.pollMs ?? 100;
      return classified('await freshness probe', () =>
        withClient(sink(input.spec), async (client) => {
          for (;;) {
            heartbeat({ began });
            const res = await query<{ freshness_ms: number; dws_ms: number | null; ads_ms: number | null }>(
              client,
              'read probe arrival',
              `SELECT freshness_ms,
                      (extract(epoch FROM (dws_at - sent_at)) * 1000)::float8 AS dws_ms,
                      (extract(epoch FROM (ads_at - sent_at)) * 1000)::float8 AS ads_ms
               FROM gridflow.probe_arrivals WHERE probe_id = $1`,
              [input.probeId],
            );
            const now = deps.now();
            const row = res.rows[0];
            if (row) {
              return { probeId: input.probeId, arrived: true, freshnessMs: row.freshness_ms, dwsMs: row.dws_ms, adsMs: row.ads_ms, waitedMs: now - began, at: now };
            }
            if (now - began >= input.timeoutMs) {
              return { probeId: input.probeId, arrived: false, freshnessMs: null, dwsMs: null, adsMs: null, waitedMs: now - began, at: now };
            }
            await deps.sleep(Math.min(pollMs, Math.max(1, input.timeoutMs - (now - began))));
          }
        }),
      );
    },

    /** The state of each of the pipeline's Flink jobs, found by name (to explain a probe that never arrived). */
    async observePipelineJobs(input: { spec: PipelineSpec }): Promise<JobState[]> {
      return classified('observe pipeline jobs', async () => {
        const all = await deps.rest(input.spec).jobsOverview();
        return JOB_NAMES.map((job) => {
          const flinkName = flinkJobName(input.spec.name, job);
          const mine = all.filter((j) => j.name === flinkName).sort((a, b) => b.startTime - a.startTime);
          const current = mine.find((j) => !TERMINAL_JOB_STATES.has(j.state)) ?? mine[0];
          return { job, flinkName, state: current?.state ?? null };
        });
      });
    },

    /**
     * Every sink table against the contract on the source. With `track` (the previous attempt's
     * fingerprints) only differences that were also there count; the rest are reported as moving.
     * Examples are capped at 5 per kind and table, fingerprints at MAX_TRACKED.
     */
    async compareWarehouse(input: { spec: PipelineSpec; track?: string[] | null }): Promise<WarehouseComparison> {
      return classified('compare sink with contract', async () => {
        const expected = await readContract(source(input.spec));
        const actual = await readSink(sink(input.spec));
        return { ...compareTracked(expected, actual, input.track ?? null), at: deps.now() };
      });
    },

    /** Slots (lag, wal_status, active) and publications (exactly one captured table each) of the pipeline. */
    async checkReplicationHealth(input: { spec: PipelineSpec; expectActive: boolean; maxLagBytes?: number }): Promise<ReplicationHealth> {
      const { spec } = input;
      return classified('check replication health', async () => {
        const observed = await inspectReplication(source(spec), { pipeline: spec.name, tables: CAPTURED_TABLES });
        const problems = checkReplication(observed, {
          pipeline: spec.name,
          schema: spec.source.schema,
          tables: CAPTURED_TABLES,
          expectActive: input.expectActive,
          maxLagBytes: input.maxLagBytes ?? DEFAULT_MAX_LAG_BYTES,
        });
        return {
          ok: problems.length === 0,
          currentLsn: observed.currentLsn,
          slots: CAPTURED_TABLES.map((table) => {
            const name = artifactName(spec.name, table);
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
            const name = artifactName(spec.name, table);
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
