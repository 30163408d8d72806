/**
 * What the dashboard's /metrics says, as data: every gridflow_* series (name, help, labels) and the pure
 * function that turns one scrape's facts — each pipeline's status query, its newest verification runs,
 * its replication slots — into samples. src/dashboard/metrics.ts gathers the facts and hands the samples
 * to prom-client; nothing here does I/O, so the rendering is unit-tested on constructed statuses.
 *
 * Naming follows Prometheus' conventions: the unit in the name (_seconds, _bytes), base units only, an
 * enum as one 0/1 series per value (gridflow_pipeline_state{state}), ages measured at the scrape on
 * the dashboard's clock. A job's label is pipeline_job: Prometheus keeps `job` (and `instance`) for the
 * scrape target and would rename ours to exported_job. Nothing here is a counter: every number is a fact read at the scrape (the
 * restart count is the watch's window, not a monotonic total), so every family is a gauge.
 */
import { JOB_STATES, PIPELINE_STATES } from './types';
import type { PipelineStatus } from './state';

interface MetricDef {
  name: string;
  help: string;
  labelNames: readonly string[];
}

const def = (name: string, help: string, ...labelNames: string[]): MetricDef => ({ name, help, labelNames });

/** Every gridflow_* family the dashboard exports, in the order it renders them. */
export const METRICS = {
  sourceUp: def(
    'gridflow_metrics_source_up',
    'Whether the dashboard could read this source at the scrape (1) or not (0): temporal (status query), sink (verification runs), source (replication slots). A 0 leaves that source\'s series out.',
    'pipeline',
    'source',
  ),
  pipelineState: def('gridflow_pipeline_state', 'The pipeline\'s state from its workflow\'s status query: 1 for the current state, 0 for every other.', 'pipeline', 'state'),
  pipelineVersion: def('gridflow_pipeline_spec_version', 'The version of the spec the pipeline runs.', 'pipeline'),
  statusAge: def('gridflow_pipeline_status_age_seconds', 'Seconds since the watch last observed Flink (the status\'s observedAt), at the scrape.', 'pipeline'),
  freshness: def(
    'gridflow_pipeline_freshness_seconds',
    'How far behind the sink is by the watch\'s freshness probes: at least this many seconds (src/core/lag.ts).',
    'pipeline',
  ),
  freshnessAge: def('gridflow_pipeline_freshness_age_seconds', 'Seconds since the freshness was measured, at the scrape.', 'pipeline'),
  probeLatency: def('gridflow_pipeline_probe_latency_seconds', 'How long the newest freshness probe that reached the sink took, source to sink.', 'pipeline'),
  probePending: def('gridflow_pipeline_probe_pending_seconds', 'For how long the oldest freshness probe still on its way had been travelling when measured.', 'pipeline'),
  alerts: def('gridflow_pipeline_alerts', 'Alerts the pipeline\'s status holds (its recent alerts), by kind.', 'pipeline', 'kind'),
  lastAlertAge: def('gridflow_pipeline_last_alert_age_seconds', 'Seconds since the newest alert the status holds, at the scrape.', 'pipeline'),
  sinkDiffers: def('gridflow_sink_differs_rows', 'Rows the sink differs from the contract in, by the newest verifications (0: found equal, or not compared yet).', 'pipeline'),
  sinkEqualAge: def('gridflow_sink_equal_age_seconds', 'Seconds since a verification (or a repair) last proved the sink equal to the contract, at the scrape (absent: never yet).', 'pipeline'),
  repair: def('gridflow_pipeline_last_repair', 'The outcome of the last repair: 1 for its outcome (running, repaired, not-equal, failed, planned).', 'pipeline', 'outcome'),
  redeploy: def('gridflow_pipeline_last_redeploy', 'The outcome of the last redeploy: 1 for its outcome (deployed, rolled-back, failed, no-change).', 'pipeline', 'outcome'),
  jobState: def('gridflow_job_state', 'Each job\'s Flink state as the watch last saw it: 1 for the current state, 0 for every other (all 0: not seen yet).', 'pipeline', 'pipeline_job', 'state'),
  jobRestarts: def(
    'gridflow_job_recent_restarts',
    'Restarts of the job (Flink\'s own and gridflow\'s resubmissions) within the watch\'s restart-storm window: a windowed count, not a total.',
    'pipeline',
    'pipeline_job',
  ),
  checkpointAge: def('gridflow_job_checkpoint_age_seconds', 'Seconds since the job\'s newest completed checkpoint, at the scrape (absent: none yet).', 'pipeline', 'pipeline_job'),
  savepointAge: def('gridflow_job_savepoint_age_seconds', 'Seconds since the job\'s newest savepoint, at the scrape (absent: none yet).', 'pipeline', 'pipeline_job'),
  verificationOk: def('gridflow_verification_ok', 'The newest finished verification: 1 when the sink equalled the contract and every check passed, else 0.', 'pipeline'),
  verificationDuration: def('gridflow_verification_duration_seconds', 'How long the newest finished verification took.', 'pipeline'),
  verificationAge: def('gridflow_verification_age_seconds', 'Seconds since the newest finished verification ended, at the scrape.', 'pipeline'),
  verificationFreshness: def('gridflow_verification_freshness_seconds', 'The freshness the newest finished verification measured (absent when it could not).', 'pipeline'),
  verificationRunning: def('gridflow_verification_running', 'Verifications started and not finished (within the runs read).', 'pipeline'),
  slotLag: def(
    'gridflow_replication_slot_lag_bytes',
    'WAL bytes between the source\'s current position and what the slot\'s consumer (the ingest job) confirmed: how far CDC is behind.',
    'pipeline',
    'slot',
  ),
  slotRetained: def('gridflow_replication_slot_retained_bytes', 'WAL bytes the source keeps for the slot (current position minus restart_lsn).', 'pipeline', 'slot'),
  slotActive: def('gridflow_replication_slot_active', 'Whether a consumer is reading the slot (1) or not (0).', 'pipeline', 'slot'),
  scrapeDuration: def('gridflow_metrics_scrape_duration_seconds', 'How long the dashboard took to gather this scrape\'s facts.'),
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

export interface Sample {
  metric: MetricKey;
  labels: Record<string, string>;
  value: number;
}

/** A verification run as gridflow.verification_runs holds it (src/postgres/sink.ts), times as epoch ms. */
export interface VerificationRunFact {
  startedAt: number;
  finishedAt: number | null;
  ok: boolean | null;
  freshnessMs: number | null;
}

export interface SlotFact {
  name: string;
  active: boolean;
  lagBytes: number | null;
  retainedBytes: number | null;
}

/** A read that may have failed: the value, or why not (the reason is for logs; the metric says 0). */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

export interface PipelineFacts {
  pipeline: string;
  status: Read<PipelineStatus>;
  /** Newest first. */
  verifications: Read<VerificationRunFact[]>;
  slots: Read<SlotFact[]>;
}

export interface ScrapeFacts {
  /** Epoch ms of the scrape (the dashboard's clock): every age is measured from here. */
  now: number;
  pipelines: PipelineFacts[];
  /** How long gathering the facts took. */
  gatherMs: number;
}

const seconds = (ms: number) => ms / 1000;
/** An age never goes below 0: clocks of the worker and the dashboard may differ by a little. */
const age = (now: number, at: number) => Math.max(0, seconds(now - at));

/** The samples of one scrape. Pure: the same facts give the same samples, in the same order. */
export function metricSamples(facts: ScrapeFacts): Sample[] {
  const out: Sample[] = [];
  const add = (metric: MetricKey, labels: Record<string, string>, value: number) => {
    if (Number.isFinite(value)) out.push({ metric, labels, value });
  };
  const { now } = facts;
  for (const p of facts.pipelines) {
    const pipeline = p.pipeline;
    add('sourceUp', { pipeline, source: 'temporal' }, p.status.ok ? 1 : 0);
    add('sourceUp', { pipeline, source: 'sink' }, p.verifications.ok ? 1 : 0);
    add('sourceUp', { pipeline, source: 'source' }, p.slots.ok ? 1 : 0);

    if (p.status.ok) statusSamples(p.status.value, pipeline, now, add);
    if (p.verifications.ok) verificationSamples(p.verifications.value, pipeline, now, add);
    if (p.slots.ok) {
      for (const s of p.slots.value) {
        const labels = { pipeline, slot: s.name };
        add('slotActive', labels, s.active ? 1 : 0);
        if (s.lagBytes !== null) add('slotLag', labels, s.lagBytes);
        if (s.retainedBytes !== null) add('slotRetained', labels, s.retainedBytes);
      }
    }
  }
  add('scrapeDuration', {}, seconds(facts.gatherMs));
  return out;
}

type Add = (metric: MetricKey, labels: Record<string, string>, value: number) => void;

function statusSamples(s: PipelineStatus, pipeline: string, now: number, add: Add): void {
  for (const state of PIPELINE_STATES) add('pipelineState', { pipeline, state }, s.state === state ? 1 : 0);
  add('pipelineVersion', { pipeline }, s.version);
  if (s.observedAt !== null) add('statusAge', { pipeline }, age(now, s.observedAt));
  const f = s.freshness;
  if (f) {
    if (f.lagMs !== null) add('freshness', { pipeline }, seconds(f.lagMs));
    add('freshnessAge', { pipeline }, age(now, f.at));
    if (f.newestLatencyMs !== null) add('probeLatency', { pipeline }, seconds(f.newestLatencyMs));
    if (f.pendingForMs !== null) add('probePending', { pipeline }, seconds(f.pendingForMs));
  }
  const byKind = new Map<string, number>();
  for (const a of s.alerts) byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + 1);
  for (const [kind, n] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) add('alerts', { pipeline, kind }, n);
  if (s.alerts.length) add('lastAlertAge', { pipeline }, age(now, Math.max(...s.alerts.map((a) => a.at))));
  if (s.lastRedeploy) add('redeploy', { pipeline, outcome: s.lastRedeploy.outcome }, 1);
  add('sinkDiffers', { pipeline }, s.sinkDifference?.rows ?? 0);
  if (s.lastEqualAt) add('sinkEqualAge', { pipeline }, age(now, s.lastEqualAt));
  if (s.repair) add('repair', { pipeline, outcome: s.repair.outcome }, 1);
  for (const j of s.jobs) {
    const labels = { pipeline, pipeline_job: j.job };
    for (const state of JOB_STATES) add('jobState', { ...labels, state }, j.flinkState === state ? 1 : 0);
    add('jobRestarts', labels, j.restartsInWindow);
    if (j.lastCheckpoint) add('checkpointAge', labels, age(now, j.lastCheckpoint.at));
    if (j.lastSavepoint) add('savepointAge', labels, age(now, j.lastSavepoint.at));
  }
}

function verificationSamples(runs: readonly VerificationRunFact[], pipeline: string, now: number, add: Add): void {
  add('verificationRunning', { pipeline }, runs.filter((r) => r.finishedAt === null).length);
  // The newest run that has a verdict; a run that finished without one (a crash between writes) is skipped.
  const last = runs.find((r) => r.finishedAt !== null && r.ok !== null);
  if (!last || last.finishedAt === null) return;
  add('verificationOk', { pipeline }, last.ok ? 1 : 0);
  add('verificationDuration', { pipeline }, Math.max(0, seconds(last.finishedAt - last.startedAt)));
  add('verificationAge', { pipeline }, age(now, last.finishedAt));
  if (last.freshnessMs !== null) add('verificationFreshness', { pipeline }, seconds(last.freshnessMs));
}
