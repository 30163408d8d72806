/**
 * The stack, for real: one request through each component's own API. Nothing here is mocked.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client } from 'pg';
import { loadConfig, resolveConnection } from '../../src/config';
import { SEARCH_ATTRIBUTES } from '../../src/constants';
import { FlinkRestClient } from '../../src/flink/rest';
import { SqlGatewayClient } from '../../src/flink/gateway';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';

jest.setTimeout(5 * 60_000);

const config = () => loadConfig();

async function pgQuery<T extends object>(connection: string, sql: string): Promise<T[]> {
  const c = resolveConnection(connection);
  const client = new Client({ host: c.host, port: c.port, user: c.user, password: c.password, database: c.database });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(() => ensureStack(), STACK_UP_TIMEOUT_MS);

test('source Postgres: password login, logical WAL', async () => {
  const rows = await pgQuery<{ wal_level: string; db: string }>('source_admin', "SELECT current_setting('wal_level') AS wal_level, current_database() AS db");
  expect(rows).toEqual([{ wal_level: 'logical', db: 'sgcc_source' }]);
  const cdc = await pgQuery<{ rolreplication: boolean }>('source_cdc', 'SELECT rolreplication FROM pg_roles WHERE rolname = current_user');
  expect(cdc).toEqual([{ rolreplication: true }]);
});

test('sink Postgres: the writer owns the analytics database', async () => {
  const rows = await pgQuery<{ owner: string }>(
    'sink',
    'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
  );
  expect(rows).toEqual([{ owner: 'gridflow_writer' }]);
});

test('Flink REST: a session cluster with free task slots', async () => {
  const overview = await new FlinkRestClient(config().flink.restUrl).overview();
  expect(overview.flinkVersion).toBe('1.20.3');
  expect(overview.taskManagers).toBeGreaterThanOrEqual(1);
  expect(overview.slotsTotal).toBeGreaterThanOrEqual(config().stack.slotsPerTaskManager);
});

test('SQL Gateway: Fluss catalog, a primary-key table, rows written and read back by a bounded query', async () => {
  const { flink, stack } = config();
  const gateway = new SqlGatewayClient(flink.gatewayUrl);
  const session = await gateway.openSession({}, 'gridflow-smoke');
  const table = `t_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  try {
    await gateway.runStatement(
      session,
      `CREATE CATALOG fluss_catalog WITH ('type' = 'fluss', 'bootstrap.servers' = '${stack.host}:${stack.ports.flussCoordinator}')`,
    );
    await gateway.runStatement(session, 'CREATE DATABASE IF NOT EXISTS fluss_catalog.smoke');
    await gateway.runStatement(
      session,
      `CREATE TABLE fluss_catalog.smoke.${table} (id INT, reading DOUBLE, region STRING, PRIMARY KEY (id) NOT ENFORCED)`,
    );
    const jobId = await gateway.submitDml(
      session,
      `INSERT INTO fluss_catalog.smoke.${table} VALUES (1, 0.5, '华北'), (2, 1.5, '华东'), (1, 2.5, '西南')`,
      { 'pipeline.name': `gridflow/smoke/${table}` },
    );
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    const rest = new FlinkRestClient(flink.restUrl);
    let state = '';
    for (let i = 0; i < 120 && state !== 'FINISHED'; i++) {
      state = (await rest.job(jobId)).state;
      if (state === 'FAILED') throw new Error(JSON.stringify(await rest.jobExceptions(jobId)));
      if (state !== 'FINISHED') await new Promise((r) => setTimeout(r, 500));
    }
    expect(state).toBe('FINISHED');
    const result = await gateway.query(session, `SELECT id, reading, region FROM fluss_catalog.smoke.${table} LIMIT 10`, {
      executionConfig: { 'execution.runtime-mode': 'batch' },
      maxRows: 10,
      timeoutMs: 120_000,
    });
    // A primary-key table upserts: id 1 holds its last value.
    const rows = result.rows.map((r) => r.fields).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(rows).toEqual([
      [1, 2.5, '西南'],
      [2, 1.5, '华东'],
    ]);
    await gateway.runStatement(session, `DROP TABLE fluss_catalog.smoke.${table}`);
  } finally {
    await gateway.closeSession(session);
  }
});

test('Temporal: a workflow round trip through a real worker, search attributes registered', async () => {
  const { temporal } = config();
  const taskQueue = `smoke-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowsPath: path.join(__dirname, 'fixtures', 'roundtrip.ts'),
    activities: { echo: async (text: string) => `echo ${text}` },
  });
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const client = new TemporalClient({ connection, namespace: temporal.namespace });
    const result = await worker.runUntil(
      client.workflow.execute('roundTripWorkflow', { taskQueue, workflowId: taskQueue, args: ['电网'] }),
    );
    expect(result).toBe('workflow saw: echo 电网');
    const attrs = await connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(expect.arrayContaining(Object.values(SEARCH_ATTRIBUTES)));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});
