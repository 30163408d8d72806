/**
 * Repair, measured (issue 22): from a difference appearing in the sink to the sink proven equal again,
 * and how long readers saw no update meanwhile — beside a savepoint restart of the sink job (`redeploy
 * --jobs sink`) in the same run, the reference for a reader's pause.
 *
 *   GRIDFLOW_HOME=$PWD/.gridflow-test GRIDFLOW_PORT_OFFSET=20000 \
 *     npx ts-node -T bench/repair.ts [--equipment 300] [--readings 3] [--load 200] [--name benchrep]
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
 * Prints a Markdown block. Leaves the pipeline's jobs running (the next e2e file resets the stack).
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, defaultDeps } from '../src/activities';
import { allowFlags, intFlag, parseArgs } from '../src/cli/args';
import { loadConfig, resolveConnection } from '../src/config';
import { pipelineWorkflowId } from '../src/constants';
import { PipelineSpec, parseSpec } from '../src/core/spec';
import type { PipelineStatus } from '../src/core/state';
import { runLoad } from '../src/load/runner';
import { query, withClient } from '../src/postgres/connection';
import { compareAll } from '../src/postgres/reconcile';
import { localSpecInput } from '../src/stack/local-spec';
import { redeployUpdate, statusQuery } from '../src/workflows/definitions';
import { PipelineWorkflow } from '../src/workflows/pipeline';
import { VerifyPipelineWorkflow } from '../src/workflows/verify';

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const args = parseArgs(process.argv.slice(2), ['equipment', 'readings', 'load', 'name']);
allowFlags(args, ['equipment', 'readings', 'load', 'name']);
const EQUIPMENT = intFlag(args, 'equipment', 300);
const READINGS = intFlag(args, 'readings', 3);
const LOAD = intFlag(args, 'load', 200);
const NAME = typeof args.flags.name === 'string' ? args.flags.name : 'benchrep';

const config = loadConfig();
const base = localSpecInput(config);
const spec: PipelineSpec = parseSpec({ ...base, name: NAME, fluss: { cluster: 'local', database: `sgcc_${NAME}` }, sink: { ...base.sink!, schema: `dw_${NAME}` } });
const source = resolveConnection(spec.source.connection);
const sink = resolveConnection(spec.sink.connection);
const sql = (conn: typeof source, text: string, params: unknown[] = []) => withClient(conn, async (c) => (await query(c, 'bench', text, params)).rows, { statementTimeoutMs: 600_000 });

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

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
  Runtime.install({ logger: new DefaultLogger('WARN') });
  log(`source: ${EQUIPMENT} equipment × ${READINGS} readings`);
  await sql(source, 'TRUNCATE equipment_reading, power_equipment');
  await sql(
    source,
    `INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status, commissioned_on)
     SELECT 'BR-' || lpad(g::text, 7, '0'), 'bench ' || g, (ARRAY['发电机','变压器','输电线路','配电设备'])[1 + g % 4],
            (ARRAY['华北','华东','华中','东北','西北','西南'])[1 + g % 6], (ARRAY[110,220,500,750])[1 + g % 4], 50 + (g % 400),
            (ARRAY['运行','运行','运行','检修','停运','备用'])[1 + g % 6], DATE '2010-01-01' + (g % 4000)
       FROM generate_series(1, $1::int) g`,
    [EQUIPMENT],
  );
  await sql(
    source,
    `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
     SELECT 'BR-' || lpad((1 + (g % $1::int))::text, 7, '0'), (g::bigint * 7919 % 50000) / 100.0, 20 + (g % 70), 110, now() - (g || ' seconds')::interval
       FROM generate_series(1, $1::int * $2::int) g`,
    [EQUIPMENT, READINGS],
  );

  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = `bench-repair-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows'),
    activities: createActivities(defaultDeps()),
  });
  const running = worker.run();
  const old = client.workflow.getHandle(pipelineWorkflowId(NAME));
  if ((await old.describe().catch(() => null))?.status.name === 'RUNNING') await old.terminate('bench: a new run');
  const t0 = Date.now();
  const handle = await client.workflow.start(PipelineWorkflow, { taskQueue, workflowId: pipelineWorkflowId(NAME), args: [{ spec }] });
  const status = () => handle.query(statusQuery);
  const allRunning = (s: PipelineStatus) => s.state === 'RUNNING' && s.jobs.every((j) => j.flinkState === 'RUNNING');
  await until('RUNNING', async () => allRunning(await status()), 15 * 60_000);
  await until('sink equal', async () => (await compareAll(source, sink, { sinkSchema: spec.sink.schema })).ok, 15 * 60_000);
  log(`deployed and equal in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

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
  await sql(sink, `INSERT INTO ${spec.sink.schema}.dws_voltage_level_stats (voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw) VALUES (999999, 1, 1, 1)`);
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
  await handle.terminate('bench done');
  worker.shutdown();
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
