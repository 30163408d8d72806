/**
 * Two pipelines on one stack, on the real services: `e2e` (Fluss sgcc_e2e, sink schema dw) and `e2e_b`
 * over the same source (Fluss e2e_b, sink schema dw_e2e_b), both deployed by their workflows on one
 * worker. A third naming the first's Fluss database is refused naming the owner. A redeploy, a pause, a
 * decommission --drop-slots and a fresh start of `e2e_b` leave `e2e` RUNNING with the same Flink jobs,
 * and both equal the contract row for row. Then redeploys of `e2e` fail at each stage the real cluster
 * can be made to fail at (no slots, a submit error, a job that never runs), and each ends with every job
 * back on the old spec, restored from the stop savepoints, no duplicate, the sink equal to the contract.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main as cliMain } from '../../src/cli';
import { loadConfig, resolveConnection } from '../../src/config';
import { layout } from '../../src/stack/layout';
import { VerifyPipelineWorkflow } from '../../src/workflows/verify';
import { PipelineSpec } from '../../src/core/spec';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../../src/flink/rest';
import { SqlGatewayClient } from '../../src/flink/gateway';
import { runLoad } from '../../src/load/runner';
import { query, withClient } from '../../src/postgres/connection';
import { listOwnership } from '../../src/postgres/ownership';
import { decommissionSignal, pauseUpdate, redeployUpdate, resumeUpdate, statusQuery } from '../../src/workflows/definitions';
import { PipelineHandle, RunningPipeline, allRunning, runPipeline, waitForStatus } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { assertConsistent, resetWarehouse, sinkSql, sourceSql, testSpec } from '../support/warehouse';

jest.setTimeout(20 * 60_000);

const WATCH = { interval: '2s', readinessTimeout: '2min', checkpointStallAfter: '3min' } as never;
const specA = (over: Record<string, unknown> = {}) => testSpec({ watch: WATCH, ...over });
const specB = (over: Record<string, unknown> = {}) => {
  const base = testSpec();
  return testSpec({ name: 'e2e_b', fluss: { cluster: 'local' }, sink: { connection: base.sink.connection }, watch: WATCH, ...over });
};
const rest = () => new FlinkRestClient(loadConfig().flink.restUrl);

let pipeline: RunningPipeline;
let b: PipelineHandle;

const waitFor = waitForStatus;

const expectConsistent = (spec: PipelineSpec, label: string) => assertConsistent(spec, label, 240_000);

/** Live Flink jobs of one pipeline: name → job ids (never more than one each). */
async function liveJobs(pipelineName: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const j of await rest().jobsOverview()) {
    if (j.name.startsWith(`gridflow/${pipelineName}/`) && !TERMINAL_JOB_STATES.has(j.state)) (out[j.name] ??= []).push(j.jid);
  }
  return out;
}

/** `e2e` untouched: RUNNING, the same four Flink jobs as before, each once. */
async function expectAUntouched(before: Record<string, string[]>): Promise<void> {
  const s = await pipeline.handle.query(statusQuery);
  expect(s.state).toBe('RUNNING');
  expect(await liveJobs('e2e')).toEqual(before);
}

const slotsOf = async (name: string) =>
  (await sourceSql('SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1 ORDER BY 1', [`gridflow\\_${name}\\_%`])).map((r) => r.slot_name);

/** Every SQL Gateway session gridflow opens in this file (the worker runs in this process). */
const openedSessions: string[] = [];
const openSession = SqlGatewayClient.prototype.openSession;
jest.spyOn(SqlGatewayClient.prototype, 'openSession').mockImplementation(async function (this: SqlGatewayClient, ...args) {
  const handle = await openSession.apply(this, args);
  openedSessions.push(handle);
  return handle;
});

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(specA());
  // B's outputs from an earlier run, if any.
  await withClient(resolveConnection('sink'), (c) => query(c, 'drop b', 'DROP SCHEMA IF EXISTS dw_e2e_b CASCADE'));
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  if (b) {
    const d = await b.describe().catch(() => null);
    if (d?.status.name === 'RUNNING') await b.terminate('test cleanup').catch(() => undefined);
  }
  await pipeline?.stop();
});

test('two pipelines over one source, each with its own Fluss database and sink schema, both equal the contract', async () => {
  pipeline = await runPipeline(specA());
  await pipeline.waitStatus('e2e RUNNING', allRunning);
  b = await pipeline.start(specB());
  const sb = await waitFor(b, 'e2e_b RUNNING', allRunning);
  expect(sb.outputs).toEqual({ flussDatabase: 'e2e_b', sinkSchema: 'dw_e2e_b' });
  await expectConsistent(specA(), 'both deployed');
  await expectConsistent(specB(), 'both deployed');
  const owners = await listOwnership(resolveConnection('sink'));
  const kinds = (p: string) => owners.filter((o) => o.pipeline === p && ['fluss-database', 'sink-schema'].includes(o.kind)).map((o) => `${o.kind}:${o.name}`);
  expect(kinds('e2e')).toEqual(['fluss-database:sgcc_e2e', 'sink-schema:dw', 'sink-schema:dw_v0']);
  expect(kinds('e2e_b')).toEqual(['fluss-database:e2e_b', 'sink-schema:dw_e2e_b', 'sink-schema:dw_e2e_b_v0']);
});

test('a third pipeline naming e2e’s Fluss database is refused naming the owner, and e2e is not touched', async () => {
  const before = await liveJobs('e2e');
  const c = await pipeline.start(specB({ name: 'e2e_c', fluss: { cluster: 'local', database: 'sgcc_e2e' } }));
  try {
    const s = await waitFor(c, 'e2e_c BLOCKED', (x) => x.state === 'BLOCKED', 120_000);
    expect(s.reason).toMatch(/Fluss database sgcc_e2e \(spec field fluss\.database\) belongs to pipeline e2e/);
    expect(await slotsOf('e2e_c')).toEqual([]);
  } finally {
    await c.terminate('test: refused pipeline');
  }
  await expectAUntouched(before);
  await expectConsistent(specA(), 'after the refused pipeline');
});

test('redeploy, pause and resume, decommission --drop-slots and a fresh start of e2e_b leave e2e RUNNING and equal to the contract', async () => {
  const before = await liveJobs('e2e');
  const load = runLoad(resolveConnection('source_admin'), { ratePerSecond: 20, durationSeconds: 60, seed: 11 });

  // A changed job that needs no more slots (both pipelines fit one TaskManager's 8: nothing provisioned,
  // so the suites after this one find the stack as it was).
  const outcome = await b.executeUpdate(redeployUpdate, { args: [{ spec: specB({ version: 2, jobs: { ads: { config: { 'table.exec.mini-batch.size': '2000' } } } }) }] });
  expect(outcome).toMatchObject({ outcome: 'deployed', jobs: ['ads'] });
  await expectAUntouched(before);

  await b.executeUpdate(pauseUpdate);
  expect(Object.keys(await liveJobs('e2e_b'))).toEqual([]);
  await expectAUntouched(before);
  await b.executeUpdate(resumeUpdate);
  await waitFor(b, 'e2e_b RUNNING again', allRunning);

  await b.signal(decommissionSignal, { dropSourceArtifacts: true, reason: 'test: drop e2e_b' });
  const final = await b.result();
  expect(final.state).toBe('DECOMMISSIONED');
  expect(await slotsOf('e2e_b')).toEqual([]);
  expect((await listOwnership(resolveConnection('sink'), 'e2e_b')).length).toBe(0);
  await expectAUntouched(before);

  await load;
  // A new deploy of e2e_b: new slots, so a fresh start that rebuilds its outputs only.
  b = await pipeline.start(specB({ version: 3 }));
  await waitFor(b, 'e2e_b RUNNING after a fresh start', allRunning);
  await expectAUntouched(before);
  await expectConsistent(specA(), 'after e2e_b moved');
  await expectConsistent(specB(), 'after its fresh start');
});

describe('a redeploy of e2e that fails at a stage rolls back to the running spec', () => {
  /** Redeploy e2e to `next`; expect a rollback, every job of v1 back and RUNNING, the moved ones from their stop savepoints. */
  async function failedRedeploy(next: PipelineSpec, failedStep: string, reason: RegExp): Promise<void> {
    const before = await pipeline.handle.query(statusQuery);
    const outcome = await pipeline.handle.executeUpdate(redeployUpdate, { args: [{ spec: next }] });
    expect(outcome.outcome).toBe('rolled-back');
    expect(outcome.reason).toMatch(reason);
    const s = await pipeline.waitStatus('e2e RUNNING v1 after the rollback', allRunning);
    expect(s.version).toBe(before.version);
    const plan = s.redeployPlan!;
    expect(plan.steps.find((st) => st.status === 'failed')?.kind).toBe(failedStep);
    expect(plan.steps.filter((st) => st.rollback && st.status === 'failed')).toEqual([]);
    for (const job of plan.jobs) {
      const j = s.jobs.find((x) => x.job === job)!;
      expect(j.restoredFrom?.path).toBe(j.lastSavepoint?.path); // from the savepoint its stop took
      expect(j.restoredFrom?.reason).toBe('stop');
    }
    const live = await liveJobs('e2e');
    expect(Object.values(live).map((ids) => ids.length)).toEqual([1, 1, 1, 1]);
    await expectConsistent(specA(), `after the rollback of a failure at ${failedStep}`);
    const other = await b.query(statusQuery);
    expect(other.state).toBe('RUNNING');
  }

  test('no task slots for the new version (a cluster gridflow does not provision)', async () => {
    await failedRedeploy(specA({ version: 2, provisioner: 'none', jobs: { ads: { parallelism: 40 } } }), 'slots', /task slot\(s\) missing/);
  });

  test('a submit error (a setting Flink refuses)', async () => {
    await failedRedeploy(specA({ version: 2, jobs: { ads: { config: { 'pipeline.max-parallelism': 'many' } } } }), 'submit', /submit|max-parallelism|many/i);
  });

  test('a job that never runs within the readiness timeout', async () => {
    await failedRedeploy(
      // RocksDB cannot create its working directory: every attempt of the aggregate's task fails, Flink
      // restarts the job over and over, and it is never RUNNING with every task running.
      specA({
        version: 2,
        watch: { ...(WATCH as object), readinessTimeout: '45s' },
        jobs: { ads: { config: { 'state.backend.type': 'rocksdb', 'state.backend.rocksdb.localdir': '/proc/gridflow-cannot-create-this' } } },
      }),
      'await',
      /ads .*not RUNNING after 45 s/,
    );
  });
});

test('no password anywhere after deploys, a refused pipeline, redeploys, rollbacks and a failed verification: histories, Flink REST, logs, ops tables, CLI', async () => {
  const secrets = ['source_cdc', 'sink', 'source_admin'].map((c) => resolveConnection(c).password);
  expect(secrets.every((s) => s.length >= 8)).toBe(true);
  const found: string[] = [];
  const scan = (where: string, text: string) => {
    for (const s of secrets) if (text.includes(s)) found.push(where);
  };
  // A verification that fails (a sink row nobody wrote), recorded like any other.
  await sinkSql("INSERT INTO dw.dws_region_stats (region, equipment_count, running_count, maintenance_count, outage_count, total_capacity_mw) VALUES ('zz_secret_scan', 1, 1, 0, 0, 1.00)");
  try {
    const result = await pipeline.client.workflow.execute(VerifyPipelineWorkflow, {
      taskQueue: pipeline.taskQueue,
      workflowId: `verify:${specA().name}:scan-${Date.now().toString(36)}`,
      args: [{ spec: specA(), options: { compareAttempts: 1, compareRetryWait: '1s' } }],
    });
    expect(result.ok).toBe(false);
  } finally {
    await sinkSql("DELETE FROM dw.dws_region_stats WHERE region = 'zz_secret_scan'");
  }
  // What an operator's CLI prints (status of every pipeline, the verification history), text and JSON.
  // (In this process: the same main() and output bin/gridflow runs, without compiling a build first.)
  for (const args of [['status'], ['status', '--json'], ['verify', 'history', '--name', specA().name], ['verify', 'history', '--name', specA().name, '--json']]) {
    const printed: string[] = [];
    const capture = (c: string | Uint8Array) => (printed.push(String(c)), true);
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    let code: number;
    try {
      code = await cliMain(args);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    // 0, or 1 when a pipeline is not RUNNING (the rollbacks above may leave one DEGRADED); never a usage or config error.
    expect([0, 1]).toContain(code);
    expect(printed.join('').length).toBeGreaterThan(20);
    scan(`gridflow ${args.join(' ')}`, printed.join(''));
  }
  // Every workflow's history (the pipelines', the refused one's, the verifications').
  for await (const wf of pipeline.client.workflow.list({ query: "WorkflowType = 'PipelineWorkflow' OR WorkflowType = 'VerifyPipelineWorkflow'" })) {
    const history = await pipeline.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    scan(`history ${wf.workflowId}`, JSON.stringify(history));
  }
  // Flink REST: every job's endpoints, the JobManager's and TaskManagers' logs as served.
  const base = loadConfig().flink.restUrl;
  const get = async (p: string) => (await fetch(`${base}${p}`)).text();
  for (const j of (await rest().jobsOverview()).filter((x) => x.name.startsWith('gridflow/'))) {
    for (const p of ['', '/plan', '/config', '/exceptions', '/checkpoints']) scan(`flink /jobs/${j.jid}${p}`, await get(`/jobs/${j.jid}${p}`));
  }
  const jmLogs = JSON.parse(await get('/jobmanager/logs')) as { logs: Array<{ name: string }> };
  for (const l of jmLogs.logs) scan(`jobmanager log ${l.name}`, await get(`/jobmanager/logs/${encodeURIComponent(l.name)}`));
  const tms = JSON.parse(await get('/taskmanagers')) as { taskmanagers: Array<{ id: string }> };
  for (const tm of tms.taskmanagers) {
    const logs = JSON.parse(await get(`/taskmanagers/${tm.id}/logs`)) as { logs: Array<{ name: string }> };
    for (const l of logs.logs) scan(`taskmanager ${tm.id} log ${l.name}`, await get(`/taskmanagers/${tm.id}/logs/${encodeURIComponent(l.name)}`));
  }
  // Every log file of the stack on disk (the JVMs', Postgres', Temporal's, the rolled ones, captured stdout).
  const logs = layout(loadConfig()).logs;
  const logFiles = fs.readdirSync(logs).filter((f) => fs.statSync(path.join(logs, f)).isFile());
  expect(logFiles).toEqual(expect.arrayContaining(['flink-jobmanager.log', 'sql-gateway.log', 'postgres-source.log', 'temporal.log']));
  for (const f of logFiles) scan(`log file ${f}`, fs.readFileSync(path.join(logs, f), 'utf8'));
  // The SQL Gateway's operation results (the job SQL with its passwords ran there) live in their session:
  // every session gridflow opened is closed, so no result is readable any more.
  expect(openedSessions.length).toBeGreaterThan(10);
  const gateway = new SqlGatewayClient(loadConfig().flink.gatewayUrl);
  const stillOpen: string[] = [];
  for (const handle of openedSessions) if (await gateway.sessionConfig(handle).then(() => true, () => false)) stillOpen.push(handle);
  expect(stillOpen).toEqual([]);
  // The ops tables, as text.
  await withClient(resolveConnection('sink'), async (c) => {
    for (const t of ['events', 'savepoints', 'verification_runs', 'ownership', 'probes']) {
      const rows = await query(c, `dump ${t}`, `SELECT row_to_json(x)::text AS j FROM gridflow.${t} x`);
      scan(`gridflow.${t}`, rows.rows.map((r) => r.j).join('\n'));
    }
  });
  expect(found).toEqual([]);
});
