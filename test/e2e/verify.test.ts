/**
 * VerifyPipelineWorkflow on the real stack: the stack's Temporal, a worker with the real activities,
 * the warehouse deployed from the sample. Healthy → pass with a freshness number; a sink row corrupted
 * by hand → reported with that row and column; the sink job cancelled → freshness failure naming it; a
 * table dropped from its publication → the replication check names it. And `gridflow verify schedule`
 * makes one Temporal schedule with overlap SKIP however often it runs.
 *
 * Leaves the stack as it found it apart from the data: schedules deleted, jobs cancelled, the e2e
 * pipeline's slots and publications dropped (later files reset the warehouse themselves).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, defaultDeps } from '../../src/activities';
import { parseArgs } from '../../src/cli/args';
import { Out } from '../../src/cli/output';
import { renderVerification, verifyCommand, verifyScheduleId } from '../../src/cli/verify';
import { loadConfig, resolveConnection } from '../../src/config';
import { submitJob, awaitJobRunning } from '../../src/warehouse/deploy';
import { PipelineSpec } from '../../src/core/spec';
import { VerificationResult, VerifyOptionsInput } from '../../src/core/verify';
import { runLoad } from '../../src/load/runner';
import { listVerificationRuns } from '../../src/postgres/sink';
import { VerifyPipelineWorkflow } from '../../src/workflows/verify';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { quietRuntime, workflowBundle } from '../support/temporal';
import { allRunning, runPipeline } from '../support/pipeline';
import { deployTarget, describeMismatch, releasePipeline, resetWarehouse, sinkSql, sourceSql, testSpec, waitConsistent } from '../support/warehouse';

jest.setTimeout(10 * 60_000);

const spec: PipelineSpec = testSpec();
const taskQueue = `verify-e2e-${randomUUID()}`;
const SCHEDULED = 'e2esched';
let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const durations: number[] = [];

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec);
  // Deployed by its workflow, which then steps aside: these tests break the pipeline on purpose (a
  // cancelled sink job, a table out of its publication) and the watch would heal it under them.
  const pipeline = await runPipeline(spec);
  await pipeline.waitStatus('RUNNING', allRunning);
  await pipeline.stop();
  const { result } = await waitConsistent(spec, 180_000);
  if (!result.ok) throw new Error(`the warehouse did not settle after deploy:\n${describeMismatch(result)}`);

  const config = loadConfig();
  quietRuntime();
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  workerConnection = await NativeConnection.connect({ address: config.temporal.address });
  worker = await Worker.create({
    connection: workerConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(defaultDeps()),
  });
  running = worker.run();
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  await client?.schedule.getHandle(verifyScheduleId(SCHEDULED)).delete().catch(() => undefined);
  if (worker) {
    worker.shutdown();
    await running;
  }
  await workerConnection?.close();
  await connection?.close();
  process.stderr.write(`[verify] verification durations (ms): ${JSON.stringify(durations)}\n`);
  await releasePipeline(spec);
}, 5 * 60_000);

async function verify(options: VerifyOptionsInput = {}): Promise<VerificationResult> {
  const result = await client.workflow.execute(VerifyPipelineWorkflow, {
    taskQueue,
    workflowId: `verify:${spec.name}:e2e-${randomUUID().slice(0, 8)}`,
    args: [{ spec, options: { compareRetryWait: '1s', ...options } }],
  });
  durations.push(result.durationMs);
  return result;
}

/** What `gridflow verify now` prints for a result. */
function rendered(result: VerificationResult): string {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    renderVerification(new Out(false), result);
  } finally {
    spy.mockRestore();
  }
  return lines.join('');
}

test('a healthy pipeline passes with a measured freshness, and the run is recorded', async () => {
  const result = await verify();
  expect(result.problems).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.freshness.arrived).toBe(true);
  expect(result.freshness.freshnessMs).toBeGreaterThan(0);
  expect(result.freshness.freshnessMs).toBeLessThan(30_000);
  // It came out of every ADS table; the slowest of them is the freshness.
  const hops = result.freshness.hopsMs!;
  expect(Math.max(hops.health!, hops.capacity!, hops.dashboard!)).toBe(result.freshness.freshnessMs);
  expect(result.compare.tables.map((t) => [t.table, t.ok])).toEqual([
    ['dws_equipment_type_stats', true],
    ['dws_region_stats', true],
    ['dws_voltage_level_stats', true],
    ['ads_equipment_health', true],
    ['ads_capacity_planning', true],
    ['ads_grid_dashboard', true],
  ]);
  expect(result.compare.tables.find((t) => t.table === 'ads_equipment_health')!.actualCount).toBe(300);
  // Compared at a cut: on a quiet source every key held still, so every key was checked.
  expect(result.compare.cutMs).toBeGreaterThanOrEqual(0);
  expect(result.compare.tables.find((t) => t.table === 'ads_equipment_health')).toMatchObject({ checked: 300, movingKeys: 0, stale: { count: 0 } });
  expect(result.replication).toMatchObject({ ok: true, error: null });
  if (result.replication.error === null) {
    expect(result.replication.slots.map((s) => [s.name, s.active, s.walStatus])).toEqual([
      ['gridflow_e2e_power_equipment', true, 'reserved'],
      ['gridflow_e2e_equipment_reading', true, 'reserved'],
    ]);
  }
  expect(result.recorded).toBe(true);

  const [run] = await listVerificationRuns(resolveConnection(spec.sink.connection), spec.name, 1);
  expect(run).toMatchObject({ id: result.runId, ok: true, freshnessMs: result.freshness.freshnessMs });
  expect(run.details).toMatchObject({ summary: result.summary, durationMs: result.durationMs });
  // The probe really travelled: each hop logged it (or a newer probe) in the sink.
  expect(await sinkSql('SELECT DISTINCT hop FROM gridflow.probe_log WHERE pipeline = $1 AND probe_value >= $2::numeric ORDER BY hop', [spec.name, result.freshness.value])).toEqual([
    { hop: 'capacity' },
    { hop: 'dashboard' },
    { hop: 'health' },
  ]);

  const text = rendered(result);
  expect(text).toMatch(/^verification of e2e: PASS in /);
  expect(text).toMatch(/freshness {4}[\d.]+ m?s \(health \+[\d.]+ m?s, capacity \+[\d.]+ m?s, dashboard \+[\d.]+ m?s\)/);
});

test('a sink row corrupted by hand is reported with that exact row and column', async () => {
  const [before] = await sinkSql("SELECT running_count FROM dw.dws_region_stats WHERE region = '华北'");
  const good = Number(before.running_count); // bigint: pg sends it as text
  await sinkSql("UPDATE dw.dws_region_stats SET running_count = running_count + 100 WHERE region = '华北'");
  try {
    const result = await verify({ compareAttempts: 2 });
    expect(result.ok).toBe(false);
    expect(result.compare.attempts).toBe(2);
    const region = result.compare.tables.find((t) => t.table === 'dws_region_stats')!;
    expect(region).toMatchObject({ ok: false, missing: { count: 0 }, extra: { count: 0 }, different: { count: 1, columns: { running_count: 1 } } });
    expect(region.different.examples).toEqual([{ key: { region: '华北' }, column: 'running_count', expected: String(good), actual: String(good + 100) }]);
    expect(result.compare.tables.filter((t) => !t.ok).map((t) => t.table)).toEqual(['dws_region_stats']);
    expect(result.problems).toEqual([
      `dws_region_stats: 1 different (running_count 1); e.g. region=华北: running_count is ${good + 100} in the sink, ${good} by the contract.`,
    ]);
    expect(result.freshness.arrived).toBe(true);
    const [run] = await listVerificationRuns(resolveConnection(spec.sink.connection), spec.name, 1);
    expect(run).toMatchObject({ id: result.runId, ok: false });
  } finally {
    await sinkSql("UPDATE dw.dws_region_stats SET running_count = running_count - 100 WHERE region = '华北'");
  }
});

test('under continuous writes: no false alarm, and a bogus sink row is still caught', async () => {
  const controller = new AbortController();
  const load = runLoad(resolveConnection(spec.source.connection), { ratePerSecond: 100, durationSeconds: 600, seed: 5, signal: controller.signal });
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const busy = await verify({ compareRetryWait: '2s' });
    expect(busy.problems).toEqual([]);
    expect(busy.ok).toBe(true);
    expect(busy.freshness.arrived).toBe(true);
    // The comparison saw changes in flight and told them from real differences.
    expect(busy.compare.consistent || busy.compare.moving > 0).toBe(true);
    expect(busy.compare.tables.map((t) => t.stale?.count)).toEqual([0, 0, 0, 0, 0, 0]);

    await sinkSql("INSERT INTO dw.dws_region_stats (region, equipment_count, running_count, maintenance_count, outage_count, total_capacity_mw) VALUES ('zz_bogus', 1, 1, 0, 0, 1.00)");
    const caught = await verify({ compareRetryWait: '2s' });
    expect(caught.ok).toBe(false);
    expect(caught.problems).toEqual(['dws_region_stats: 1 extra; e.g. region=zz_bogus in the sink but not in the contract.']);
    const region = caught.compare.tables.find((t) => t.table === 'dws_region_stats')!;
    expect(region.extra.examples).toEqual([
      { key: { region: 'zz_bogus' }, row: { region: 'zz_bogus', equipment_count: '1', running_count: '1', maintenance_count: '0', outage_count: '0', total_capacity_mw: '1.00' } },
    ]);
  } finally {
    controller.abort();
    await load;
    await sinkSql("DELETE FROM dw.dws_region_stats WHERE region = 'zz_bogus'");
  }
  const { result } = await waitConsistent(spec, 120_000);
  if (!result.ok) throw new Error(`not consistent after the load:\n${describeMismatch(result)}`);
});

test('at 2,000 readings/s (issue 22): no run fails on the correct pipeline, the DWS keys are all checked, and a corrupted DWS row is caught at once', async () => {
  const controller = new AbortController();
  const readingsOnly = { readingInsert: 1, lateReading: 0, unknownReading: 0, readingDelete: 0, equipmentInsert: 0, equipmentUpdate: 0, equipmentDelete: 0 };
  const load = runLoad(resolveConnection(spec.source.connection), { ratePerSecond: 2000, durationSeconds: 600, seed: 22, mix: readingsOnly, signal: controller.signal });
  try {
    await new Promise((r) => setTimeout(r, 5000));
    for (let i = 0; i < 3; i++) {
      const busy = await verify({ compareRetryWait: '2s' });
      expect([i, busy.problems]).toEqual([i, []]);
      const byTable = Object.fromEntries(busy.compare.tables.map((t) => [t.table, t]));
      // Telemetry does not touch power_equipment: every DWS key held still and was compared.
      for (const t of ['dws_equipment_type_stats', 'dws_region_stats', 'dws_voltage_level_stats']) {
        expect(byTable[t]).toMatchObject({ ok: true, movingKeys: 0, checked: byTable[t].actualCount });
      }
      expect(busy.compare.tables.every((t) => t.stale?.count === 0)).toBe(true);
      // Every health key is either compared or moving (the earlier test's load inserted and deleted equipment: not 300 any more).
      expect(byTable.ads_equipment_health.checked! + byTable.ads_equipment_health.movingKeys!).toBe(byTable.ads_equipment_health.expectedCount);
    }

    const [before] = await sinkSql('SELECT equipment_count FROM dw.dws_voltage_level_stats ORDER BY voltage_level_kv LIMIT 1');
    await sinkSql('UPDATE dw.dws_voltage_level_stats SET equipment_count = equipment_count + 7 WHERE voltage_level_kv = (SELECT min(voltage_level_kv) FROM dw.dws_voltage_level_stats)');
    try {
      const caught = await verify({ compareRetryWait: '2s' });
      expect(caught.ok).toBe(false);
      expect(caught.problems).toEqual([expect.stringMatching(new RegExp(`^dws_voltage_level_stats: 1 different \\(equipment_count 1\\); e\\.g\\. voltage_level_kv=\\d+: equipment_count is ${Number(before.equipment_count) + 7} in the sink, ${before.equipment_count} by the contract\\.$`))]);
    } finally {
      await sinkSql('UPDATE dw.dws_voltage_level_stats SET equipment_count = equipment_count - 7 WHERE voltage_level_kv = (SELECT min(voltage_level_kv) FROM dw.dws_voltage_level_stats)');
    }
  } finally {
    controller.abort();
    await load;
  }
  const { result } = await waitConsistent(spec, 120_000);
  if (!result.ok) throw new Error(`not consistent after the load:\n${describeMismatch(result)}`);
});

test('the sink job stopped: a freshness failure naming it', async () => {
  const target = deployTarget(spec);
  const rest = target.flink.rest;
  const [sink] = (await rest.findJobsByName('gridflow/e2e/sink')).filter((j) => j.state === 'RUNNING');
  expect(sink).toBeDefined();
  const checkpoint = (await rest.checkpoints(sink.jid)).latest.completed?.externalPath ?? null;
  await rest.cancel(sink.jid);
  for (let i = 0; i < 60 && (await rest.job(sink.jid)).state !== 'CANCELED'; i++) await new Promise((r) => setTimeout(r, 500));
  let stalledProbe = '';
  try {
    const result = await verify({ probeTimeout: '15s', compareAttempts: 1 });
    stalledProbe = result.freshness.value!;
    expect(result.ok).toBe(false);
    expect(result.freshness).toMatchObject({ sent: true, arrived: false, freshnessMs: null, timeoutMs: 15_000 });
    expect(result.freshness.jobs!.find((j) => j.job === 'sink')).toEqual({ job: 'sink', flinkName: 'gridflow/e2e/sink', state: 'CANCELED' });
    expect(result.problems[0]).toBe(
      `Freshness: probe ${result.freshness.probeId} did not reach the sink within 15 s, so the pipeline is not moving data: job gridflow/e2e/sink is CANCELED.`,
    );
    const [run] = await listVerificationRuns(resolveConnection(spec.sink.connection), spec.name, 1);
    expect(run).toMatchObject({ id: result.runId, ok: false, freshnessMs: null });
  } finally {
    // Bring the sink job back from its retained checkpoint (the rules in sql/NOTES.md: never stateless).
    const again = await submitJob(target.flink, spec, 'sink', target.conns, checkpoint);
    await awaitJobRunning(rest, 'sink', again.jobId, 180_000);
  }
  // Restored from its checkpoint, the sink job delivers the probe that timed out: nothing was lost.
  const after = await verify();
  expect(after.problems).toEqual([]);
  expect(await sinkSql('SELECT DISTINCT hop FROM gridflow.probe_log WHERE pipeline = $1 AND probe_value >= $2::numeric', [spec.name, stalledProbe])).toHaveLength(3);
});

test('a table dropped from its publication: the replication check fails naming it', async () => {
  await sourceSql('ALTER PUBLICATION gridflow_e2e_power_equipment DROP TABLE power_equipment');
  try {
    const result = await verify({ compareAttempts: 1 });
    expect(result.ok).toBe(false);
    expect(result.replication.ok).toBe(false);
    if (result.replication.error !== null) throw new Error(result.replication.error);
    expect(result.replication.problems).toEqual([
      {
        kind: 'publication-missing-table',
        name: 'gridflow_e2e_power_equipment',
        message: 'Publication gridflow_e2e_power_equipment does not hold public.power_equipment: run prepareSource to set it to exactly that table.',
      },
    ]);
    expect(result.replication.publications.find((p) => p.table === 'power_equipment')).toEqual({
      name: 'gridflow_e2e_power_equipment',
      table: 'power_equipment',
      exists: true,
      tables: [],
    });
    expect(result.problems).toContain(result.replication.problems[0].message);
  } finally {
    await sourceSql('ALTER PUBLICATION gridflow_e2e_power_equipment ADD TABLE ONLY power_equipment');
  }
  const after = await verify();
  expect(after.problems).toEqual([]);
});

test('`gridflow verify schedule` makes one schedule with overlap SKIP, however often it runs; unschedule deletes it', async () => {
  const quiet = new Out(true, true);
  const cli = (...argv: string[]) => verifyCommand(parseArgs(argv, ['every', 'name', 'spec', 'n']), quiet);
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await cli('verify', 'schedule', '--name', SCHEDULED, '--every', '1h')).toBe(0);
    const handle = client.schedule.getHandle(verifyScheduleId(SCHEDULED));
    const first = await handle.describe();
    expect(first.policies.overlap).toBe('SKIP');
    expect(first.spec.intervals?.map((i) => i.every)).toEqual([3_600_000]);
    expect(first.action).toMatchObject({ type: 'startWorkflow', workflowType: 'VerifyPipelineWorkflow', taskQueue: 'gridflow', workflowId: 'verify:e2esched' });
    expect((first.action as { args: Array<{ spec: PipelineSpec }> }).args[0].spec.name).toBe(SCHEDULED);

    // Again, with another interval: the same schedule, updated.
    expect(await cli('verify', 'schedule', '--name', SCHEDULED, '--every', '2h')).toBe(0);
    const second = await handle.describe();
    expect(second.spec.intervals?.map((i) => i.every)).toEqual([7_200_000]);
    expect(second.policies.overlap).toBe('SKIP');
    // Listing goes through visibility, which lags a little behind: poll until the schedule shows.
    let ids: string[] = [];
    for (let i = 0; i < 40 && ids.length === 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 250));
      ids = [];
      for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(verifyScheduleId(SCHEDULED))) ids.push(s.scheduleId);
    }
    expect(ids).toEqual([verifyScheduleId(SCHEDULED)]);

    expect(await cli('verify', 'unschedule', '--name', SCHEDULED)).toBe(0);
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    // Idempotent.
    expect(await cli('verify', 'unschedule', '--name', SCHEDULED)).toBe(0);
  } finally {
    stdout.mockRestore();
  }
});
