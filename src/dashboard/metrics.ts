/**
 * The dashboard's Prometheus scrape (`GET /metrics`): gridflow_* series for every pipeline the
 * dashboard shows, gathered when Prometheus asks, never cached between scrapes. The facts come from
 * three places, each read on its own so one that is down costs only its own series
 * (gridflow_metrics_source_up{source} says which):
 *   - temporal: the pipeline workflow's status query (src/core/types.ts PipelineStatus);
 *   - sink: gridflow.verification_runs, through the dashboard's read-only pool;
 *   - source: pg_replication_slots for the pipeline's slots (src/postgres/source/replication.ts), over a
 *     short-lived connection in a READ ONLY transaction (see `sourceConnectionName`).
 * What the samples are is decided in src/core/metrics.ts; here they are handed to prom-client through
 * collect() callbacks on a Registry of this process's own (never prom-client's global one).
 */
import { Gauge, Registry } from 'prom-client';
import { resolveConnection } from '../config';
import { METRICS, MetricKey, PipelineFacts, Read, Sample, ScrapeFacts, SlotFact, VerificationRunFact, metricSamples } from '../core/metrics';
import { redact } from '../core/redact';
import { knownSecrets } from '../secrets';
import { inTransaction, withClient } from '../postgres/connection';
import { observeSlots } from '../postgres/source/replication';
import { CAPTURED_TABLES, artifactName } from '../postgres/source/names';
import { LOCAL_CONNECTIONS } from '../stack/credentials';
import { DashboardDeps, queryStatus } from './data';

/**
 * Where the slots are read, beyond DashboardDeps (whose optional `status` and `workflowId` say where the
 * pipeline's status comes from: tests, a deployment whose workflow is not `pipeline:<name>`).
 */
interface MetricsSources {
  /** The connection name whose server holds the replication slots; default `sourceConnectionName()`. */
  sourceConnection?: string;
}

/** Each read gets this long: Prometheus' default scrape timeout is 10 s and the three run side by side. */
const READ_TIMEOUT_MS = 5_000;
/** Verification runs read per pipeline: the newest finished one is almost always among the first. */
const VERIFICATION_RUNS_READ = 20;

/**
 * The source connection for pg_replication_slots: GRIDFLOW_METRICS_SOURCE_CONNECTION, else the CDC
 * role's (`source_cdc`). Reading pg_replication_slots and pg_current_wal_lsn() needs no privilege, so
 * the least privileged source role the stack has serves, never the admin's; the transaction is READ ONLY.
 */
function sourceConnectionName(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRIDFLOW_METRICS_SOURCE_CONNECTION || LOCAL_CONNECTIONS.sourceCdc;
}

class MetricsRegistry {
  readonly registry = new Registry();
  private samples: Sample[] = [];
  /** Scrapes render one after another: the collect() callbacks read this.samples. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    for (const key of Object.keys(METRICS) as MetricKey[]) {
      const d = METRICS[key];
      const current = () => this.samples;
      new Gauge({
        name: d.name,
        help: d.help,
        labelNames: [...d.labelNames],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of current()) if (s.metric === key) this.set(s.labels, s.value);
        },
      });
    }
  }

  render(samples: Sample[]): Promise<string> {
    const next = this.queue.then(async () => {
      this.samples = samples;
      try {
        return await this.registry.metrics();
      } finally {
        this.samples = [];
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

let processRegistry: MetricsRegistry | null = null;

/** The text a Prometheus scrape of the dashboard answers, with its content type. */
export async function renderMetrics(deps: DashboardDeps & MetricsSources): Promise<{ contentType: string; body: string }> {
  return renderSamples(metricSamples(await gatherFacts(deps)));
}

/** Samples (src/core/metrics.ts) as Prometheus' text format, through this process's registry. */
export async function renderSamples(samples: Sample[]): Promise<{ contentType: string; body: string }> {
  processRegistry ??= new MetricsRegistry();
  const body = await processRegistry.render(samples);
  return { contentType: processRegistry.registry.contentType, body };
}

/** Everything one scrape needs, every read bounded by READ_TIMEOUT_MS and allowed to fail alone. */
async function gatherFacts(deps: DashboardDeps & MetricsSources): Promise<ScrapeFacts> {
  const started = Date.now();
  const pipelines = await Promise.all(deps.pipelines.map((p) => pipelineFacts(deps, p)));
  return { now: deps.now(), pipelines, gatherMs: Date.now() - started };
}

async function pipelineFacts(deps: DashboardDeps & MetricsSources, pipeline: string): Promise<PipelineFacts> {
  const [status, verifications, slots] = await Promise.all([
    // The same query as the pages' (data.ts), bounded here by READ_TIMEOUT_MS and never answered from a cache.
    read(`status query of pipeline ${pipeline}`, () => queryStatus(deps, pipeline)),
    read(`verification runs of ${pipeline}`, () => readVerifications(deps, pipeline)),
    read(`replication slots of ${pipeline}`, () => readSlots(deps, pipeline)),
  ]);
  reportChanges(pipeline, { temporal: status, sink: verifications, source: slots });
  return { pipeline, status, verifications, slots };
}

/** The last error said per pipeline and source: a failing source is logged once when it fails, once when it recovers. */
const lastErrors = new Map<string, string | null>();

function reportChanges(pipeline: string, reads: Record<string, Read<unknown>>): void {
  for (const [source, r] of Object.entries(reads)) {
    const key = `${pipeline}/${source}`;
    const error = r.ok ? null : r.error;
    const before = lastErrors.get(key) ?? null;
    if (error === before) continue;
    lastErrors.set(key, error);
    if (error) process.stderr.write(`metrics: ${error} (gridflow_metrics_source_up{pipeline="${pipeline}",source="${source}"} 0)\n`);
    else process.stderr.write(`metrics: ${source} of ${pipeline} readable again\n`);
  }
}

async function readVerifications(deps: DashboardDeps, pipeline: string): Promise<VerificationRunFact[]> {
  const res = await deps.sink.query<{ started_ms: number; finished_ms: number | null; ok: boolean | null; freshness_ms: number | null }>(
    `SELECT (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
            (extract(epoch FROM finished_at) * 1000)::float8 AS finished_ms,
            ok, freshness_ms
     FROM gridflow.verification_runs WHERE pipeline = $1
     ORDER BY started_at DESC, id DESC LIMIT ${VERIFICATION_RUNS_READ}`,
    [pipeline],
  );
  return res.rows.map((r) => ({ startedAt: r.started_ms, finishedAt: r.finished_ms, ok: r.ok, freshnessMs: r.freshness_ms }));
}

/**
 * The slots of every version of the pipeline (src/core/versions.ts): `gridflow_<name>_<table>` and
 * `gridflow_<name>_v<n>_<table>` — the live version's, and a parked one's, which holds WAL too.
 */
async function readSlots(deps: DashboardDeps & MetricsSources, pipeline: string): Promise<SlotFact[]> {
  const conn = resolveConnection(deps.sourceConnection ?? sourceConnectionName(), deps.config);
  const base = CAPTURED_TABLES.map((t) => artifactName(pipeline, t));
  const versioned = new RegExp(`^gridflow_${pipeline}_v\\d+_(${CAPTURED_TABLES.join('|')})$`);
  const slots = await withClient(
    conn,
    (client) =>
      inTransaction(
        client,
        async () => {
          const listed = await client.query<{ slot_name: string }>('SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1', [`gridflow\\_${pipeline}\\_%`]);
          const others = listed.rows.map((r) => r.slot_name).filter((n) => versioned.test(n));
          return observeSlots(client, [...base, ...others]);
        },
        'READ ONLY',
      ),
    { connectTimeoutMs: READ_TIMEOUT_MS, statementTimeoutMs: READ_TIMEOUT_MS },
  );
  return slots.map((s) => ({ name: s.name, active: s.active, lagBytes: s.lagBytes, retainedBytes: s.retainedBytes }));
}

async function read<T>(what: string, fn: () => Promise<T>): Promise<Read<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
  });
  try {
    return { ok: true, value: await Promise.race([fn(), timeout]) };
  } catch (err) {
    return { ok: false, error: redact(`${what}: ${err instanceof Error ? err.message : String(err)}`, knownSecrets()) };
  } finally {
    clearTimeout(timer);
  }
}
