/**
 * Repair on the real stack (issue 22): an outside writer changes, deletes and adds sink rows; the
 * verification workflow finds them, the pipeline says DEGRADED "sink differs", repairs by itself
 * (repair.policy auto: the sink rebuilt from Fluss beside the live tables, switched once proven equal)
 * and is RUNNING with the sink equal to the contract afterwards. A reader polling every table as the
 * dashboard's role the whole time never sees an empty or half-filled table, nor an error.
 */
import { randomUUID } from 'node:crypto';
import { resolveConnection } from '../../src/config';
import { pipelineWorkflowId } from '../../src/constants';
import { PipelineSpec } from '../../src/core/spec';
import { query, withClient } from '../../src/postgres/connection';
import { WAREHOUSE_TABLE_NAMES } from '../../src/postgres/warehouse-tables';
import { VerifyPipelineWorkflow } from '../../src/workflows/verify';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { deployTarget, describeMismatch, releasePipeline, resetWarehouse, sinkSql, sourceSql, testSpec, waitConsistent } from '../support/warehouse';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../../src/flink/rest';

jest.setTimeout(10 * 60_000);

// A short repair.timeout: the second test's rebuild from Fluss cannot become equal, and escalates after it.
const spec: PipelineSpec = testSpec({ name: 'e2erep', fluss: { cluster: 'local', database: 'sgcc_e2erep' }, sink: { ...testSpec().sink, schema: 'dw_e2erep' }, repair: { timeout: '40s' } });
let pipeline: RunningPipeline;

beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec);
  pipeline = await runPipeline(spec, { workflowId: pipelineWorkflowId(spec.name) });
  await pipeline.waitStatus('RUNNING', allRunning, 5 * 60_000);
  const { result } = await waitConsistent(spec, 180_000);
  if (!result.ok) throw new Error(`the warehouse did not settle after deploy:\n${describeMismatch(result)}`);
}, STACK_UP_TIMEOUT_MS);

afterAll(async () => {
  await pipeline?.stop();
  await releasePipeline(spec);
}, 5 * 60_000);

/** Counts every table as the dashboard's read-only role, every 100 ms, until stopped: the smallest count seen per table, and any error. */
function watchReaders(): { stop: () => Promise<{ min: Record<string, number>; reads: number; errors: string[] }> } {
  const min: Record<string, number> = {};
  const errors: string[] = [];
  let reads = 0;
  let on = true;
  const loop = withClient(resolveConnection('sink_reader'), async (c) => {
    while (on) {
      for (const t of WAREHOUSE_TABLE_NAMES) {
        try {
          const n = Number((await query<{ n: string }>(c, 'count', `SELECT count(*) AS n FROM ${spec.sink.schema}.${t}`)).rows[0].n);
          min[t] = Math.min(min[t] ?? Infinity, n);
        } catch (err) {
          errors.push(`${t}: ${(err as Error).message}`);
        }
      }
      reads++;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  return {
    stop: async () => {
      on = false;
      await loop;
      return { min, reads, errors };
    },
  };
}

test('rows changed, deleted and added by an outside writer: found, DEGRADED, rebuilt beside and switched, RUNNING and equal; readers never see an empty table', async () => {
  const s = spec.sink.schema;
  const before = Object.fromEntries(
    await Promise.all(WAREHOUSE_TABLE_NAMES.map(async (t) => [t, Number((await sinkSql(`SELECT count(*) AS n FROM ${s}.${t}`))[0].n)] as const)),
  );
  const region = String((await sinkSql(`SELECT region FROM ${s}.dws_region_stats ORDER BY region LIMIT 1`))[0].region);
  const gone = String((await sinkSql(`SELECT equipment_id FROM ${s}.ads_equipment_health ORDER BY equipment_id LIMIT 1`))[0].equipment_id);
  await sinkSql(`UPDATE ${s}.dws_region_stats SET running_count = running_count + 7 WHERE region = $1`, [region]);
  await sinkSql(`DELETE FROM ${s}.ads_equipment_health WHERE equipment_id = $1`, [gone]);
  await sinkSql(`INSERT INTO ${s}.dws_voltage_level_stats (voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw) VALUES (999999, 1, 1, 1)`);
  const readers = watchReaders();

  const result = await pipeline.client.workflow.execute(VerifyPipelineWorkflow, {
    taskQueue: pipeline.taskQueue,
    workflowId: `verify:${spec.name}:e2e-${randomUUID().slice(0, 8)}`,
    args: [{ spec, options: { compareRetryWait: '1s' } }],
  });
  expect(result.ok).toBe(false);
  expect(result.signal.delivered).toBe(true);
  const wrong = Object.fromEntries(result.compare.tables.filter((t) => !t.ok).map((t) => [t.table, [t.missing.count, t.extra.count, t.different.count]]));
  expect(wrong).toEqual({ dws_region_stats: [0, 0, 1], dws_voltage_level_stats: [0, 1, 0], ads_equipment_health: [1, 0, 0] });

  // DEGRADED at once, naming it (the repair may already be under way: it is in the same status).
  const degraded = await pipeline.waitStatus('sink differs', (x) => x.sinkDifference !== null && x.sinkDifference !== undefined, 60_000);
  expect(degraded.sinkDifference).toMatchObject({ rows: 3, tables: ['dws_region_stats', 'dws_voltage_level_stats', 'ads_equipment_health'] });
  const done = await pipeline.waitStatus('repaired', (x) => x.repair?.outcome === 'repaired' || x.repair?.outcome === 'failed' || x.repair?.outcome === 'not-equal', 8 * 60_000);
  const seen = await readers.stop();
  expect({ outcome: done.repair?.outcome, note: done.repair?.note }).toMatchObject({ outcome: 'repaired' });
  expect(done.repair!.plan.steps.filter((x) => !x.rollback).every((x) => x.status === 'done')).toBe(true);
  expect(done.sinkDifference).toBeNull();
  expect(done.lastEqualAt).not.toBeNull();
  const running = await pipeline.waitStatus('RUNNING after the repair', allRunning, 120_000);
  expect(running.reason).toBeNull();
  process.stderr.write(`[repair] ${done.repair!.note}; readers frozen ${done.repair!.readersFrozenMs} ms; ${seen.reads} reads, min counts ${JSON.stringify(seen.min)}\n`);

  // Readers: never an error, never an empty or half-filled table (the deleted row was gone before the repair began).
  expect(seen.errors).toEqual([]);
  expect(seen.reads).toBeGreaterThan(10);
  for (const t of WAREHOUSE_TABLE_NAMES) expect(seen.min[t]).toBeGreaterThanOrEqual(before[t] - (t === 'ads_equipment_health' ? 1 : 0));

  // The sink equals the contract, the rebuilt tables are the live ones (the row is back, the extra gone), nothing is left behind.
  const { result: after } = await waitConsistent(spec, 120_000);
  if (!after.ok) throw new Error(`the sink differs after the repair:\n${describeMismatch(after)}`);
  expect(await sinkSql(`SELECT equipment_id FROM ${s}.ads_equipment_health WHERE equipment_id = $1`, [gone])).toHaveLength(1);
  const leftovers = await sinkSql(`SELECT nspname FROM pg_namespace WHERE nspname IN ($1, $2)`, [`${s}_repair`, `${s}_replaced`]);
  expect(leftovers).toEqual([]);
  expect(await sinkSql(`SELECT name FROM gridflow.ownership WHERE name IN ($1, $2)`, [`${s}_repair`, `${s}_replaced`])).toEqual([]);
  // The updated_at trigger came along: a change the sink job makes now is stamped.
  const trig = await sinkSql(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'stamp_updated_at'`, [`${s}.dws_region_stats`]);
  expect(trig[0].n).toBe(1);
});

/** Write a row into the pipeline's Fluss DWD the source never had (a batch job): the stand-in for data Fluss lost or corrupted. */
async function corruptFluss(sql: string): Promise<void> {
  const target = deployTarget(spec);
  const session = await target.flink.gateway.openSession({}, 'gridflow-e2e-corrupt-fluss');
  try {
    await target.flink.gateway.runStatement(session, `CREATE CATALOG IF NOT EXISTS fluss_catalog WITH ('type' = 'fluss', 'bootstrap.servers' = '${target.conns.flussBootstrap}')`);
    const jobId = await target.flink.gateway.submitDml(session, sql, { 'execution.runtime-mode': 'batch', 'pipeline.name': 'gridflow-e2e/corrupt-fluss' }, { timeoutMs: 120_000 });
    const rest: FlinkRestClient = target.flink.rest;
    for (let i = 0; i < 240; i++) {
      const d = await rest.job(jobId);
      if (TERMINAL_JOB_STATES.has(d.state)) {
        if (d.state !== 'FINISHED') throw new Error(`the batch write into Fluss ended ${d.state}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('the batch write into Fluss did not finish in 2 min');
  } finally {
    await target.flink.gateway.closeSession(session).catch(() => undefined);
  }
}

test('Fluss itself wrong (a DWD row the source never had): the rebuild from Fluss cannot make it equal, one from the source follows by itself and does; readers never see an empty table', async () => {
  const s = spec.sink.schema;
  const [row] = await sourceSql("SELECT equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw::text AS cap FROM power_equipment WHERE status = '运行' ORDER BY equipment_id LIMIT 1");
  const q = (v: unknown) => `'${String(v).replace(/'/g, "''")}'`;
  await corruptFluss(
    `INSERT INTO fluss_catalog.\`${spec.fluss.database}\`.dwd_power_equipment VALUES (${q(row.equipment_id)}, ${q(row.equipment_name)}, ${q(row.equipment_type)}, ${q(row.region)}, ` +
      `${Number(row.voltage_level_kv)}, ${row.cap === null ? 'CAST(NULL AS DECIMAL(12, 2))' : `CAST(${row.cap} AS DECIMAL(12, 2))`}, '停运', CAST(NULL AS DATE), CAST(NULL AS DATE), TO_TIMESTAMP_LTZ(0, 3))`,
  );
  // The wrong status flows through DWS and ADS into the sink.
  await until(async () => (await sinkSql(`SELECT status FROM ${s}.ads_equipment_health WHERE equipment_id = $1`, [row.equipment_id]))[0]?.status === '停运', 120_000);
  const before = Object.fromEntries(
    await Promise.all(WAREHOUSE_TABLE_NAMES.map(async (t) => [t, Number((await sinkSql(`SELECT count(*) AS n FROM ${s}.${t}`))[0].n)] as const)),
  );
  const readers = watchReaders();
  const started = Date.now();
  const result = await pipeline.client.workflow.execute(VerifyPipelineWorkflow, {
    taskQueue: pipeline.taskQueue,
    workflowId: `verify:${spec.name}:e2e-${randomUUID().slice(0, 8)}`,
    args: [{ spec, options: { compareRetryWait: '1s' } }],
  });
  expect(result.ok).toBe(false);
  const done = await pipeline.waitStatus('rebuilt from the source', (x) => x.repair?.from === 'source' && x.repair.outcome !== 'running' && (x.repair.startedAt ?? 0) >= started, 10 * 60_000);
  const seen = await readers.stop();
  expect({ outcome: done.repair?.outcome, note: done.repair?.note }).toMatchObject({ outcome: 'repaired' });
  expect(done.alerts.some((a) => a.kind === 'repair-not-equal' && /from ads/.test(a.message))).toBe(true);
  expect(done.repair!.reason).toMatch(/did not make it equal/);
  process.stderr.write(`[repair] from the source: ${done.repair!.note}; readers frozen ${done.repair!.readersFrozenMs} ms; min counts ${JSON.stringify(seen.min)}\n`);
  expect(seen.errors).toEqual([]);
  for (const t of WAREHOUSE_TABLE_NAMES) expect(seen.min[t]).toBeGreaterThanOrEqual(before[t]);
  await pipeline.waitStatus('RUNNING after the rebuild', allRunning, 180_000);
  const { result: after } = await waitConsistent(spec, 180_000);
  if (!after.ok) throw new Error(`the sink differs after the rebuild from the source:\n${describeMismatch(after)}`);
  expect((await sinkSql(`SELECT status FROM ${s}.ads_equipment_health WHERE equipment_id = $1`, [row.equipment_id]))[0].status).toBe('运行');
});

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 500));
  }
}
