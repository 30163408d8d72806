/**
 * The /metrics rendering from constructed statuses: which series a scrape shows, their values and ages,
 * and what is left out when a source could not be read. Pure (src/core/metrics.ts) plus the text
 * prom-client makes of it (src/dashboard/metrics.ts renderSamples).
 */
import { METRICS, PipelineFacts, ScrapeFacts, metricSamples } from '../../../src/core/metrics';
import { JOB_STATES, PIPELINE_STATES, RestorePoint } from '../../../src/core/types';
import type { PipelineStatus } from '../../../src/core/state';
import { renderSamples } from '../../../src/dashboard/metrics';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const point = (agoMs: number, kind: RestorePoint['kind'] = 'checkpoint'): RestorePoint => ({ kind, path: `file:///cp/${agoMs}`, at: NOW - agoMs, jobId: 'j1' });

function status(overrides: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    pipeline: 'sgcc',
    version: 3,
    state: 'DEGRADED',
    reason: 'falling behind',
    jobs: [
      { job: 'ingest', flinkName: 'gridflow/sgcc/ingest', jobId: 'a', flinkState: 'RUNNING', lastCheckpoint: point(4_000), lastSavepoint: point(600_000, 'savepoint'), restoredFrom: null, restartsInWindow: 2, lastError: null },
      { job: 'sink', flinkName: 'gridflow/sgcc/sink', jobId: null, flinkState: null, lastCheckpoint: null, lastSavepoint: null, restoredFrom: null, restartsInWindow: 0, lastError: null },
    ],
    lastVerification: null,
    lastRedeploy: { outcome: 'rolled-back', fromVersion: 2, toVersion: 3, jobs: ['dws'] },
    alerts: [
      { at: NOW - 90_000, kind: 'degraded', message: 'x' },
      { at: NOW - 30_000, kind: 'degraded', message: 'y' },
      { at: NOW - 60_000, kind: 'redeploy', message: 'z' },
    ],
    observedAt: NOW - 2_500,
    freshness: { lagMs: 41_000, newestLatencyMs: 1_200, pendingForMs: 41_000, at: NOW - 5_000 },
    ...overrides,
  };
}

const ok = <T>(value: T) => ({ ok: true as const, value });
const failed = (error: string) => ({ ok: false as const, error });

function facts(p: Partial<PipelineFacts> = {}): ScrapeFacts {
  return {
    now: NOW,
    gatherMs: 35,
    pipelines: [
      {
        pipeline: 'sgcc',
        status: ok(status()),
        verifications: ok([
          { startedAt: NOW - 10_000, finishedAt: null, ok: null, freshnessMs: null },
          { startedAt: NOW - 400_000, finishedAt: NOW - 388_500, ok: false, freshnessMs: 1_500 },
          { startedAt: NOW - 700_000, finishedAt: NOW - 690_000, ok: true, freshnessMs: 900 },
        ]),
        slots: ok([
          { name: 'gridflow_sgcc_power_equipment', active: true, lagBytes: 56, retainedBytes: 4096 },
          { name: 'gridflow_sgcc_equipment_reading', active: false, lagBytes: 1_048_576, retainedBytes: null },
        ]),
        ...p,
      },
    ],
  };
}

/** name{labels} → value, from the samples. */
function table(f: ScrapeFacts): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of metricSamples(f)) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',');
    out.set(`${METRICS[s.metric].name}{${labels}}`, s.value);
  }
  return out;
}

test('the pipeline state is one series per state, 1 for the current one', () => {
  const t = table(facts());
  for (const state of PIPELINE_STATES) expect(t.get(`gridflow_pipeline_state{pipeline=sgcc,state=${state}}`)).toBe(state === 'DEGRADED' ? 1 : 0);
  expect(t.get('gridflow_pipeline_spec_version{pipeline=sgcc}')).toBe(3);
  expect(t.get('gridflow_pipeline_last_redeploy{pipeline=sgcc,outcome=rolled-back}')).toBe(1);
});

test('freshness in seconds with its age; the status age from observedAt', () => {
  const t = table(facts());
  expect(t.get('gridflow_pipeline_freshness_seconds{pipeline=sgcc}')).toBe(41);
  expect(t.get('gridflow_pipeline_freshness_age_seconds{pipeline=sgcc}')).toBe(5);
  expect(t.get('gridflow_pipeline_probe_latency_seconds{pipeline=sgcc}')).toBe(1.2);
  expect(t.get('gridflow_pipeline_probe_pending_seconds{pipeline=sgcc}')).toBe(41);
  expect(t.get('gridflow_pipeline_status_age_seconds{pipeline=sgcc}')).toBe(2.5);
});

test('before the first probe and observation, no freshness or age series (never a made-up 0)', () => {
  const t = table(facts({ status: ok(status({ freshness: null, observedAt: null, alerts: [], lastRedeploy: null })) }));
  for (const name of ['freshness_seconds', 'freshness_age_seconds', 'status_age_seconds', 'last_alert_age_seconds']) {
    expect(t.has(`gridflow_pipeline_${name}{pipeline=sgcc}`)).toBe(false);
  }
  expect([...t.keys()].some((k) => k.startsWith('gridflow_pipeline_alerts') || k.startsWith('gridflow_pipeline_last_redeploy'))).toBe(false);
  const noLag = table(facts({ status: ok(status({ freshness: { lagMs: null, newestLatencyMs: null, pendingForMs: null, at: NOW - 1000 } })) }));
  expect(noLag.has('gridflow_pipeline_freshness_seconds{pipeline=sgcc}')).toBe(false);
  expect(noLag.get('gridflow_pipeline_freshness_age_seconds{pipeline=sgcc}')).toBe(1);
});

test('per job: Flink state, restarts in the window, checkpoint and savepoint ages', () => {
  const t = table(facts());
  for (const state of JOB_STATES) {
    expect(t.get(`gridflow_job_state{pipeline=sgcc,pipeline_job=ingest,state=${state}}`)).toBe(state === 'RUNNING' ? 1 : 0);
    // Not seen yet: every state 0.
    expect(t.get(`gridflow_job_state{pipeline=sgcc,pipeline_job=sink,state=${state}}`)).toBe(0);
  }
  expect(t.get('gridflow_job_recent_restarts{pipeline=sgcc,pipeline_job=ingest}')).toBe(2);
  expect(t.get('gridflow_job_recent_restarts{pipeline=sgcc,pipeline_job=sink}')).toBe(0);
  expect(t.get('gridflow_job_checkpoint_age_seconds{pipeline=sgcc,pipeline_job=ingest}')).toBe(4);
  expect(t.get('gridflow_job_savepoint_age_seconds{pipeline=sgcc,pipeline_job=ingest}')).toBe(600);
  expect(t.has('gridflow_job_checkpoint_age_seconds{pipeline=sgcc,pipeline_job=sink}')).toBe(false);
});

test('an age is never negative when the worker\'s clock is ahead of the dashboard\'s', () => {
  const t = table(facts({ status: ok(status({ observedAt: NOW + 3_000 })) }));
  expect(t.get('gridflow_pipeline_status_age_seconds{pipeline=sgcc}')).toBe(0);
});

test('alerts counted by kind, with the age of the newest', () => {
  const t = table(facts());
  expect(t.get('gridflow_pipeline_alerts{pipeline=sgcc,kind=degraded}')).toBe(2);
  expect(t.get('gridflow_pipeline_alerts{pipeline=sgcc,kind=redeploy}')).toBe(1);
  expect(t.get('gridflow_pipeline_last_alert_age_seconds{pipeline=sgcc}')).toBe(30);
});

test('verification: the newest finished run (a running one is counted, not judged)', () => {
  const t = table(facts());
  expect(t.get('gridflow_verification_ok{pipeline=sgcc}')).toBe(0);
  expect(t.get('gridflow_verification_duration_seconds{pipeline=sgcc}')).toBe(11.5);
  expect(t.get('gridflow_verification_age_seconds{pipeline=sgcc}')).toBe(388.5);
  expect(t.get('gridflow_verification_freshness_seconds{pipeline=sgcc}')).toBe(1.5);
  expect(t.get('gridflow_verification_running{pipeline=sgcc}')).toBe(1);
  const none = table(facts({ verifications: ok([]) }));
  expect(none.get('gridflow_verification_running{pipeline=sgcc}')).toBe(0);
  expect(none.has('gridflow_verification_ok{pipeline=sgcc}')).toBe(false);
});

test('replication slots: lag and retained bytes, active', () => {
  const t = table(facts());
  expect(t.get('gridflow_replication_slot_lag_bytes{pipeline=sgcc,slot=gridflow_sgcc_equipment_reading}')).toBe(1_048_576);
  expect(t.get('gridflow_replication_slot_active{pipeline=sgcc,slot=gridflow_sgcc_equipment_reading}')).toBe(0);
  expect(t.get('gridflow_replication_slot_active{pipeline=sgcc,slot=gridflow_sgcc_power_equipment}')).toBe(1);
  expect(t.get('gridflow_replication_slot_retained_bytes{pipeline=sgcc,slot=gridflow_sgcc_power_equipment}')).toBe(4096);
  expect(t.has('gridflow_replication_slot_retained_bytes{pipeline=sgcc,slot=gridflow_sgcc_equipment_reading}')).toBe(false);
});

test('a source that could not be read says 0 in gridflow_metrics_source_up and leaves out only its own series', () => {
  const t = table(facts({ status: failed('Temporal down'), slots: failed('connection refused') }));
  expect(t.get('gridflow_metrics_source_up{pipeline=sgcc,source=temporal}')).toBe(0);
  expect(t.get('gridflow_metrics_source_up{pipeline=sgcc,source=source}')).toBe(0);
  expect(t.get('gridflow_metrics_source_up{pipeline=sgcc,source=sink}')).toBe(1);
  const keys = [...t.keys()];
  expect(keys.some((k) => k.startsWith('gridflow_pipeline_') || k.startsWith('gridflow_job_') || k.startsWith('gridflow_replication_'))).toBe(false);
  expect(t.get('gridflow_verification_ok{pipeline=sgcc}')).toBe(0);
  expect(t.get('gridflow_metrics_scrape_duration_seconds{}')).toBe(0.035);
});

test('names follow Prometheus conventions: gridflow_ prefix, base units, no _total on gauges', () => {
  for (const d of Object.values(METRICS)) {
    expect(d.name).toMatch(/^gridflow_[a-z_]+$/);
    expect(d.name).not.toMatch(/_(ms|milliseconds|total|kb|mb)$|_count$/);
    expect(d.help.length).toBeGreaterThan(10);
  }
  // `job` and `instance` are the scrape target's: Prometheus would rename ours to exported_job.
  for (const d of Object.values(METRICS)) for (const l of d.labelNames) expect(['job', 'instance']).not.toContain(l);
  const withUnit = Object.values(METRICS).filter((d) => /age|duration|freshness|latency|pending/.test(d.name));
  for (const d of withUnit) expect(d.name).toMatch(/_seconds$/);
  for (const d of Object.values(METRICS).filter((x) => /lag|retained/.test(x.name) && x.name.includes('slot'))) expect(d.name).toMatch(/_bytes$/);
});

test('the text format: HELP and TYPE per family, labelled samples; each scrape shows only its own samples', async () => {
  const first = await renderSamples(metricSamples(facts()));
  expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(first.body).toContain('# TYPE gridflow_pipeline_state gauge');
  expect(first.body).toContain('gridflow_pipeline_state{pipeline="sgcc",state="DEGRADED"} 1');
  expect(first.body).toContain('gridflow_replication_slot_lag_bytes{pipeline="sgcc",slot="gridflow_sgcc_equipment_reading"} 1048576');
  expect(first.body).toContain('gridflow_job_checkpoint_age_seconds{pipeline="sgcc",pipeline_job="ingest"} 4');
  // A second scrape where the status could not be read: yesterday's state is not repeated.
  const second = await renderSamples(metricSamples(facts({ status: failed('down') })));
  expect(second.body).not.toContain('gridflow_pipeline_state{');
  expect(second.body).toContain('gridflow_metrics_source_up{pipeline="sgcc",source="temporal"} 0');
  // Concurrent scrapes do not mix their samples.
  const [a, b] = await Promise.all([
    renderSamples(metricSamples(facts())),
    renderSamples(metricSamples(facts({ status: ok(status({ state: 'RUNNING' })) }))),
  ]);
  expect(a.body).toContain('state="DEGRADED"} 1');
  expect(b.body).toContain('state="RUNNING"} 1');
  expect(b.body).toContain('state="DEGRADED"} 0');
});
