/**
 * Repair, measured (issue 22): from a difference appearing in the sink to the sink proven equal again,
 * and how long readers saw no update meanwhile — beside a savepoint restart of the sink job (`redeploy
 * --jobs sink`) in the same run, the reference for a reader's pause.
 *
 *   GRIDFLOW_HOME=$PWD/.gridflow-test GRIDFLOW_PORT_OFFSET=20000 \
 *     npx ts-node -T bench/repair.ts [--equipment 300] [--readings 3] [--load 200] [--fluss] [--timeout 60s] [--name benchrep]
 *
 * 1. the source gets --equipment equipment with --readings readings each (generated), and a pipeline
 *    (its own Fluss database and sink schema) is deployed by its workflow on an in-process worker, under
 *    its real id `pipeline:<name>` so verification's signal reaches it; wait until the sink equals the
 *    contract;
 * 2. `gridflow load` writes --load changes/s into the source from here on, and a reader (the dashboard's
 *    role) reads max(updated_at) of ads_equipment_health every 100 ms: the longest time it did not move
 *    is what a wall display saw as "no update";
 * 3. reference: redeploy --jobs sink (stop with savepoint, start from it);
 * 4. an outside writer adds a sink row the contract does not have and changes another; a verification run
 *    starts at once (as the schedule's next run would); the pipeline repairs by itself (repair.policy auto).
 *    Reported: the verification, the repair, readers frozen (the repair's own measure: sink stopped →
 *    its successor RUNNING), the reader's longest stall, and difference → proven equal.
 * 5. with --fluss: a DWD row the source never had is written into Fluss (a batch job): the rebuild from
 *    Fluss cannot become equal (repair.timeout, --timeout), one from the source follows by itself.
 * Prints a Markdown block. The pipeline is decommissioned at the end, its slots dropped.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { runLoad } from '../src/load/runner';
import { allowFlags, intFlag, parseArgs } from '../src/cli/args';
import { loadConfig, resolveConnection } from '../src/config';
import { query, withClient } from '../src/postgres/connection';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../src/flink/rest';
import { SqlGatewayClient } from '../src/flink/gateway';
import { resolveEndpoints } from '../src/core/clusters';
import { redeployUpdate } from '../src/workflows/definitions';
import { VerifyPipelineWorkflow } from '../src/workflows/verify';
import type { PipelineStatus } from '../src/core/state';
import { BenchPipeline, benchSpec, deployBenchPipeline, generateSource, log, sql, until } from './support/pipeline';

const args = parseArgs(process.argv.slice(2), ['equipment', 'readings', 'load', 'name', 'timeout']);
allowFlags(args, ['equipment', 'readings', 'load', 'name', 'fluss', 'timeout']);
const EQUIPMENT = intFlag(args, 'equipment', 300);
const READINGS = intFlag(args, 'readings', 3);
const LOAD = intFlag(args, 'load', 200);
const NAME = typeof args.flags.name === 'string' ? args.flags.name : 'benchrep';
const FLUSS = args.flags.fluss === true;
const TIMEOUT = typeof args.flags.timeout === 'string' ? args.flags.timeout : '60s';
const spec = benchSpec(NAME, { repair: { timeout: TIMEOUT } });

/** max(updated_at) of ads_equipment_health every 100 ms: the longest stretch it did not advance, within [from, to]. */
function stallWatcher() {
  const seen: Array<{ at: number; max: string }> = [];
  let on = true;
  const loop = withClient(resolveConnection('sink_reader'), async (c) => {
    while (on) {
      const r = await query<{ m: string | null }>(c, 'max updated_at', `SELECT max(updated_at)::text AS m FROM ${spec.sink.schema}.ads_equipment_health`);
      seen.push({ at: Date.now(), max: r.rows[0].m ?? '' });
      await new Promise((res) => setTimeout(res, 100));
    }
  });
  return {
    longestStall(from: number, to: number): number {
      let longest = 0;
      let since = from;
      let last = '';
      for (const s of seen) {
        if (s.at < from) {
          last = s.max;
          continue;
        }
        if (s.at > to) break;
        if (s.max !== last) {
          longest = Math.max(longest, s.at - since);
          since = s.at;
          last = s.max;
        }
      }
      return Math.max(longest, to - since);
    },
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

async function main(): Promise<void> {
  log(`source: ${EQUIPMENT} equipment × ${READINGS} readings`);
  await generateSource(spec, EQUIPMENT, READINGS);
  const p = await deployBenchPipeline(spec, `bench-repair-${randomUUID().slice(0, 8)}`);
  const { client, taskQueue, handle, status } = p;
  const source = resolveConnection(spec.source.connection);
  const readers = stallWatcher();
  // Runs until the process exits (the end of the bench).
  if (LOAD > 0) void runLoad(source, { ratePerSecond: LOAD, durationSeconds: 3600, seed: 22 }).catch((err) => log(`load stopped: ${(err as Error).message}`));
  await new Promise((r) => setTimeout(r, 10_000));

  // Reference: a savepoint restart of the sink job.
  const r0 = Date.now();
  const outcome = await handle.executeUpdate(redeployUpdate, { args: [{ jobs: ['sink'], requestId: `bench-${randomUUID().slice(0, 8)}` }] });
  const r1 = Date.now();
  await new Promise((r) => setTimeout(r, 5_000));
  const redeployStall = readers.longestStall(r0, Date.now());
  log(`reference: redeploy --jobs sink ${outcome.outcome} in ${r1 - r0} ms, downtime ${outcome.downtimeMs} ms, reader stall ${redeployStall} ms`);
  await new Promise((r) => setTimeout(r, 10_000));

  // The difference: an extra row no group has, and a changed dws row.
  const c0 = Date.now();
  await sql(spec.sink.connection, `INSERT INTO ${spec.sink.schema}.dws_voltage_level_stats (voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw) VALUES (999999, 1, 1, 1)`);
  const v = await client.workflow.execute(VerifyPipelineWorkflow, { taskQueue, workflowId: `verify:${NAME}:bench-${randomUUID().slice(0, 8)}`, args: [{ spec }] });
  const c1 = Date.now();
  log(`verification: ${v.ok ? 'PASS' : 'FAIL'} in ${c1 - c0} ms: ${v.summary.split('\n')[0]}`);
  const done = await until(
    'repair finished',
    async () => {
      const s = await status();
      return s.repair && s.repair.startedAt >= c0 && s.repair.outcome !== 'running' ? s : null;
    },
    30 * 60_000,
  );
  const c2 = Date.now();
  await new Promise((r) => setTimeout(r, 3_000));
  const stall = readers.longestStall(done.repair!.startedAt, done.repair!.finishedAt ?? c2);
  await readers.stop();
  const rows = [
    ['equipment × readings', `${EQUIPMENT} × ${READINGS}`],
    ['load during', `${LOAD} changes/s`],
    ['verification (found it)', `${((c1 - c0) / 1000).toFixed(1)} s`],
    ['repair', `${done.repair!.outcome}, ${(((done.repair!.finishedAt ?? c2) - done.repair!.startedAt) / 1000).toFixed(1)} s`],
    ['difference → proven equal', `${((c2 - c0) / 1000).toFixed(1)} s`],
    ['readers frozen (sink stopped → successor RUNNING)', `${((done.repair!.readersFrozenMs ?? NaN) / 1000).toFixed(1)} s`],
    ['longest reader stall during the repair (max(updated_at) not moving)', `${(stall / 1000).toFixed(1)} s`],
    ['reference: redeploy --jobs sink, downtime / reader stall', `${((outcome.downtimeMs ?? NaN) / 1000).toFixed(1)} s / ${(redeployStall / 1000).toFixed(1)} s`],
    ['ratio: repair stall / redeploy stall', (stall / Math.max(1, redeployStall)).toFixed(2)],
  ];
  process.stdout.write(
    [`### Repair, ${EQUIPMENT} equipment (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB)`, '', '| measure | value |', '|---|---|', ...rows.map((r) => `| ${r[0]} | ${r[1]} |`), ''].join('\n') + '\n',
  );
  for (const st of done.repair!.plan.steps.filter((s) => !s.rollback)) log(`  ${st.status} ${st.n}. ${st.kind}${st.note ? ` — ${st.note}` : ''}`);
  if (FLUSS) process.stdout.write(await flussCase(p));
  await p.close();
  process.exit(0);
}

/** Write into Fluss what the source never had (a batch job through the SQL Gateway). */
async function corruptFluss(statement: string): Promise<void> {
  const { flink, fluss } = resolveEndpoints(spec, loadConfig().clusters);
  const gateway = new SqlGatewayClient(flink.gatewayUrl, { timeoutMs: 60_000 });
  const rest = new FlinkRestClient(flink.restUrl);
  const session = await gateway.openSession({}, 'gridflow-bench-corrupt-fluss');
  try {
    await gateway.runStatement(session, `CREATE CATALOG IF NOT EXISTS fluss_catalog WITH ('type' = 'fluss', 'bootstrap.servers' = '${fluss.bootstrap}')`);
    const jobId = await gateway.submitDml(session, statement, { 'execution.runtime-mode': 'batch', 'pipeline.name': 'gridflow-bench/corrupt-fluss' }, { timeoutMs: 120_000 });
    await until('the batch write', async () => TERMINAL_JOB_STATES.has((await rest.job(jobId)).state), 120_000);
  } finally {
    await gateway.closeSession(session).catch(() => undefined);
  }
}

/** Data wrong in Fluss itself: how long until the sink is proven equal again (from Fluss, not equal; then from the source). */
async function flussCase(p: BenchPipeline): Promise<string> {
  const [row] = await sql(spec.source.connection, "SELECT equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw::text AS cap FROM power_equipment WHERE status = '运行' ORDER BY equipment_id LIMIT 1");
  const q = (v: unknown) => `'${String(v).replace(/'/g, "''")}'`;
  const t0 = Date.now();
  await corruptFluss(
    `INSERT INTO fluss_catalog.\`${spec.fluss.database}\`.dwd_power_equipment VALUES (${q(row.equipment_id)}, ${q(row.equipment_name)}, ${q(row.equipment_type)}, ${q(row.region)}, ` +
      `${Number(row.voltage_level_kv)}, CAST(${row.cap ?? 'NULL'} AS DECIMAL(12, 2)), '停运', CAST(NULL AS DATE), CAST(NULL AS DATE), TO_TIMESTAMP_LTZ(0, 3))`,
  );
  const v = await p.client.workflow.execute(VerifyPipelineWorkflow, { taskQueue: p.taskQueue, workflowId: `verify:${NAME}:bench-${randomUUID().slice(0, 8)}`, args: [{ spec }] });
  const t1 = Date.now();
  const done: PipelineStatus = await until(
    'rebuilt from the source',
    async () => {
      const s = await p.status();
      return s.repair && s.repair.from === 'source' && s.repair.startedAt >= t0 && s.repair.outcome !== 'running' ? s : null;
    },
    60 * 60_000,
  );
  const t2 = Date.now();
  const r = done.repair!;
  return [
    `### Data wrong in Fluss, ${EQUIPMENT} equipment (repair.timeout ${TIMEOUT})`,
    '',
    '| measure | value |',
    '|---|---|',
    `| verification (found it) | ${v.ok ? 'PASS (not found!)' : 'FAIL'} in ${((t1 - t0) / 1000).toFixed(1)} s |`,
    `| rebuild from the source | ${r.outcome}, ${(((r.finishedAt ?? t2) - r.startedAt) / 1000).toFixed(1)} s |`,
    `| readers frozen (jobs stopped → sink RUNNING again) | ${((r.readersFrozenMs ?? NaN) / 1000).toFixed(1)} s |`,
    `| difference → proven equal (including the rebuild from Fluss that could not be equal) | ${((t2 - t0) / 1000).toFixed(1)} s |`,
    '',
  ].join('\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
