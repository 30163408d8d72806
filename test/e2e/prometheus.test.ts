/**
 * Prometheus on the real stack: a pipeline deployed by its workflow, the dashboard's /metrics served
 * in-process, and a real Prometheus (Debian's /usr/bin/prometheus, its own data folder, loopback, a free
 * port) scraping the dashboard and Flink's reporters on the JobManager and TaskManager every second.
 * Read back through Prometheus' HTTP API: the gridflow_* series agree with the pipeline's status, its
 * replication slots and its verification run in the sink; the flink_* series are there for the
 * pipeline's jobs, and every Flink query of the Grafana dashboard (docker/grafana) returns data.
 *
 * Leaves the stack as it found it apart from the data: Prometheus stopped and its folder deleted, jobs
 * cancelled, the e2e pipeline's slots and publications dropped.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import axios from 'axios';
import { loadConfig, resolveConnection } from '../../src/config';
import { JOB_NAMES, PipelineSpec } from '../../src/core/spec';
import type { PipelineStatus } from '../../src/core/state';
import { DashboardServer } from '../../src/dashboard/server';
import { listVerificationRuns } from '../../src/postgres/sink';
import { CAPTURED_TABLES, artifactName } from '../../src/postgres/source/names';
import { localScrapeTargets, renderPrometheusConfig } from '../../src/stack/prometheus';
import { statusQuery } from '../../src/workflows/definitions';
import { VerifyPipelineWorkflow } from '../../src/workflows/verify';
import { startTestDashboard } from '../support/dashboard';
import { freePort } from '../support/net';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { releasePipeline, resetWarehouse, testSpec } from '../support/warehouse';

jest.setTimeout(4 * 60_000);

const PROMETHEUS = '/usr/bin/prometheus';
const spec: PipelineSpec = testSpec();
let pipeline: RunningPipeline;
let dashboard: DashboardServer;
let closeDashboard: (() => Promise<void>) | undefined;
let prometheus: ChildProcess | undefined;
let promUrl: string;
let dataDir: string;
const promLog: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is missing: install it with scripts/setup.sh (apt-get install -y prometheus)`);
  await ensureStack();
  await resetWarehouse(spec);
  pipeline = await runPipeline(spec);
  await pipeline.waitStatus('RUNNING', allRunning);

  const config = loadConfig();
  ({ server: dashboard, close: closeDashboard } = await startTestDashboard(pipeline, spec));

  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-prometheus-'));
  const targets = { ...localScrapeTargets(config), dashboard: [new URL(dashboard.url).host] };
  fs.writeFileSync(path.join(dataDir, 'prometheus.yml'), renderPrometheusConfig(targets, 1));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr!.on('data', (chunk: Buffer) => promLog.push(chunk.toString()));
  await waitFor('Prometheus to answer', async () => (await axios.get(`${promUrl}/-/ready`, { validateStatus: () => true })).status === 200, 60_000);
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  await closeDashboard?.();
  await pipeline?.stop();
  await releasePipeline(spec);
}, 5 * 60_000);

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus' HTTP API. */
async function query(promql: string): Promise<Series[]> {
  const res = await axios.get(`${promUrl}/api/v1/query`, { params: { query: promql }, validateStatus: () => true });
  if (res.status !== 200 || res.data.status !== 'success') throw new Error(`query ${promql} answered ${res.status}: ${JSON.stringify(res.data)}`);
  return res.data.data.result as Series[];
}

/** Poll until `check` holds; throw naming what was awaited (and Prometheus' log) when it never does. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\nprometheus log:\n${promLog.join('').slice(-3000)}`);
}

/** Wait until `promql` returns `count` series (at least one if omitted) and return them. */
async function seriesOf(promql: string, count?: number): Promise<Series[]> {
  let result: Series[] = [];
  await waitFor(`${count ?? 'some'} series of ${promql}`, async () => {
    result = await query(promql);
    return count === undefined ? result.length > 0 : result.length === count;
  });
  return result;
}

const value = (s: Series) => Number(s.value[1]);
const P = `pipeline="${spec.name}"`;

test('Prometheus scrapes the dashboard, the JobManager and the TaskManager, all up', async () => {
  await waitFor('every target up', async () => {
    const res = await axios.get(`${promUrl}/api/v1/targets`);
    const active = res.data.data.activeTargets as Array<{ labels: { job: string }; health: string; lastError: string }>;
    return ['gridflow-dashboard', 'flink-jobmanager', 'flink-taskmanager'].every((job) => active.some((t) => t.labels.job === job && t.health === 'up'));
  });
  const up = await seriesOf('up', 3);
  expect(up.map((s) => [s.metric.job, value(s)]).sort()).toEqual([['flink-jobmanager', 1], ['flink-taskmanager', 1], ['gridflow-dashboard', 1]]);
  // Each source the dashboard reads was readable.
  const sources = await seriesOf(`gridflow_metrics_source_up{${P}} == 1`, 3);
  expect(sources.map((s) => s.metric.source).sort()).toEqual(['sink', 'source', 'temporal']);
});

test('gridflow series agree with the pipeline\'s status: state, jobs, checkpoint ages', async () => {
  const state = await seriesOf(`gridflow_pipeline_state{${P}} == 1`, 1);
  expect(state[0].metric.state).toBe('RUNNING');
  // Every job RUNNING in Flink, one series each.
  const jobs = await seriesOf(`gridflow_job_state{${P},state="RUNNING"} == 1`, JOB_NAMES.length);
  const status: PipelineStatus = await pipeline.handle.query(statusQuery);
  expect(jobs.map((s) => s.metric.pipeline_job).sort()).toEqual(status.jobs.map((j) => j.job).sort());
  // Checkpoints every 5 s (the local spec): once the watch has seen one per job, each is seconds old.
  const ages = await seriesOf(`gridflow_job_checkpoint_age_seconds{${P}}`, status.jobs.length);
  for (const s of ages) expect(value(s)).toBeLessThan(120);
  const restarts = await seriesOf(`gridflow_job_recent_restarts{${P}}`, status.jobs.length);
  for (const s of restarts) expect(value(s)).toBe(status.jobs.find((j) => j.job === s.metric.pipeline_job)!.restartsInWindow);
  const version = await seriesOf(`gridflow_pipeline_spec_version{${P}}`, 1);
  expect(value(version[0])).toBe(status.version);
});

test('replication slot lag in bytes for each of the pipeline\'s slots, read from the source', async () => {
  const slots = await seriesOf(`gridflow_replication_slot_lag_bytes{${P}}`, CAPTURED_TABLES.length);
  expect(slots.map((s) => s.metric.slot).sort()).toEqual(CAPTURED_TABLES.map((t) => artifactName(spec.name, t)).sort());
  for (const s of slots) expect(value(s)).toBeGreaterThanOrEqual(0);
  // The ingest job reads every slot.
  const active = await seriesOf(`gridflow_replication_slot_active{${P}} == 1`, CAPTURED_TABLES.length);
  expect(active).toHaveLength(CAPTURED_TABLES.length);
});

test('a verification run shows as its result, duration and age, as recorded in the sink', async () => {
  const result = await pipeline.client.workflow.execute(VerifyPipelineWorkflow, {
    taskQueue: pipeline.taskQueue,
    workflowId: `verify:${spec.name}:prom-${randomUUID().slice(0, 8)}`,
    args: [{ spec, options: { compareRetryWait: '1s' } }],
  });
  const [run] = await listVerificationRuns(resolveConnection('sink'), spec.name, 1);
  expect(run.finishedAt).not.toBeNull();
  const recordedSeconds = (Date.parse(run.finishedAt!) - Date.parse(run.startedAt)) / 1000;
  await waitFor('the verification in Prometheus', async () => {
    const d = await query(`gridflow_verification_duration_seconds{${P}}`);
    return d.length === 1 && Math.abs(value(d[0]) - recordedSeconds) < 0.01;
  });
  const ok = await seriesOf(`gridflow_verification_ok{${P}}`, 1);
  expect(value(ok[0])).toBe(result.ok ? 1 : 0);
  expect(value(ok[0])).toBe(run.ok ? 1 : 0);
  const age = await seriesOf(`gridflow_verification_age_seconds{${P}}`, 1);
  expect(value(age[0])).toBeGreaterThanOrEqual(0);
  expect(value(age[0])).toBeLessThan(120);
});

test('Flink\'s reporter: the pipeline\'s four jobs on the JobManager, its tasks on the TaskManager', async () => {
  const jobFilter = `job_name=~"gridflow_${spec.name}_.*"`;
  const uptime = await seriesOf(`flink_jobmanager_job_uptime{${jobFilter}}`, JOB_NAMES.length);
  // Flink's reporter turns every character outside [a-zA-Z0-9:_] of a label value into _: gridflow/e2e/ingest → gridflow_e2e_ingest.
  expect(uptime.map((s) => s.metric.job_name).sort()).toEqual(JOB_NAMES.map((j) => `gridflow_${spec.name}_${j}`).sort());
  const tasks = await seriesOf(`count by (job_name) (flink_taskmanager_job_task_numRecordsIn{${jobFilter}})`, JOB_NAMES.length);
  expect(tasks).toHaveLength(JOB_NAMES.length);
});

test('every query of the Grafana dashboard that reads Flink returns data for the pipeline', async () => {
  const dashboardJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../../docker/grafana/dashboards/gridflow.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const flinkQueries = dashboardJson.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr }))).filter((q) => q.expr.includes('flink_'));
  expect(flinkQueries.length).toBeGreaterThan(0);
  for (const q of flinkQueries) {
    const promql = q.expr.replace(/\$\{pipeline\}|\$pipeline/g, spec.name);
    const result = await seriesOf(promql);
    expect({ panel: q.panel, series: result.length > 0 }).toEqual({ panel: q.panel, series: true });
  }
});
