/**
 * What the repair and verification benches share: a generated source (N equipment, K readings each), and
 * a pipeline of its own (Fluss database sgcc_<name>, sink schema dw_<name>) deployed by its workflow on an
 * in-process worker under its real id `pipeline:<name>`, so a verification's signal reaches it.
 */
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, defaultDeps } from '../../src/activities';
import { loadConfig, resolveConnection } from '../../src/config';
import { pipelineWorkflowId } from '../../src/constants';
import { PipelineSpec, PipelineSpecInput, parseSpec } from '../../src/core/spec';
import type { PipelineStatus } from '../../src/core/state';
import { query, withClient } from '../../src/postgres/connection';
import { compareAll } from '../../src/postgres/reconcile';
import { localSpecInput } from '../../src/stack/local-spec';
import { decommissionSignal, statusQuery } from '../../src/workflows/definitions';
import { PipelineWorkflow } from '../../src/workflows/pipeline';

export const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

export function benchSpec(name: string, overrides: Partial<PipelineSpecInput> = {}): PipelineSpec {
  const base = localSpecInput(loadConfig());
  return parseSpec({ ...base, name, fluss: { cluster: 'local', database: `sgcc_${name}` }, sink: { ...base.sink!, schema: `dw_${name}` }, ...overrides });
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One statement on a configured connection (by name), rows back. */
export const sql = (connection: string, text: string, params: unknown[] = []) =>
  withClient(resolveConnection(connection), async (c) => (await query(c, 'bench', text, params)).rows, { statementTimeoutMs: 1_800_000 });

/** Replace the source's rows with `equipment` generated equipment and `readings` readings each. */
export async function generateSource(spec: PipelineSpec, equipment: number, readings: number): Promise<void> {
  const c = spec.source.connection;
  await sql(c, 'TRUNCATE equipment_reading, power_equipment');
  await sql(
    c,
    `INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status, commissioned_on)
     SELECT 'BR-' || lpad(g::text, 7, '0'), 'bench ' || g, (ARRAY['发电机','变压器','输电线路','配电设备'])[1 + g % 4],
            (ARRAY['华北','华东','华中','东北','西北','西南'])[1 + g % 6], (ARRAY[110,220,500,750])[1 + g % 4], 50 + (g % 400),
            (ARRAY['运行','运行','运行','检修','停运','备用'])[1 + g % 6], DATE '2010-01-01' + (g % 4000)
       FROM generate_series(1, $1::int) g`,
    [equipment],
  );
  await sql(
    c,
    `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
     SELECT 'BR-' || lpad((1 + (g % $1::int))::text, 7, '0'), (g::bigint * 7919 % 50000) / 100.0, 20 + (g % 70), 110, now() - (g || ' seconds')::interval
       FROM generate_series(1, $1::int * $2::int) g`,
    [equipment, readings],
  );
  await sql(c, 'ANALYZE power_equipment');
  await sql(c, 'ANALYZE equipment_reading');
}

export interface BenchPipeline {
  client: Client;
  taskQueue: string;
  handle: WorkflowHandle<typeof PipelineWorkflow>;
  status(): Promise<PipelineStatus>;
  close(): Promise<void>;
}

/** Deploy `spec` by its workflow (a run left by an earlier bench is replaced) and wait until the sink equals the contract. */
export async function deployBenchPipeline(spec: PipelineSpec, taskQueue: string): Promise<BenchPipeline> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
    activities: createActivities(defaultDeps()),
  });
  const running = worker.run();
  const old = client.workflow.getHandle(pipelineWorkflowId(spec.name));
  if ((await old.describe().catch(() => null))?.status.name === 'RUNNING') await old.terminate('bench: a new run');
  const t0 = Date.now();
  const handle = await client.workflow.start(PipelineWorkflow, { taskQueue, workflowId: pipelineWorkflowId(spec.name), args: [{ spec }] });
  const status = () => handle.query(statusQuery);
  await until(
    'RUNNING',
    async () => {
      const s = await status();
      return s.state === 'RUNNING' && s.jobs.every((j) => j.flinkState === 'RUNNING');
    },
    30 * 60_000,
  );
  const source = resolveConnection(spec.source.connection);
  const sink = resolveConnection(spec.sink.connection);
  await until('sink equal', async () => (await compareAll(source, sink, { sinkSchema: spec.sink.schema })).ok, 30 * 60_000);
  log(`deployed and equal in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return {
    client,
    taskQueue,
    handle,
    status,
    // Decommissioned with its slots dropped: nothing of the bench keeps reading the source or holding WAL.
    close: async () => {
      await handle.signal(decommissionSignal, { dropSourceArtifacts: true, reason: 'bench done' }).catch(() => undefined);
      await Promise.race([handle.result().catch(() => undefined), new Promise((r) => setTimeout(r, 180_000))]);
      await handle.terminate('bench done').catch(() => undefined);
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
