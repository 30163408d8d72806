/**
 * For end-to-end tests of the warehouse: reset the test stack to a known state, deploy, and wait until
 * the sink equals the contract. Everything here talks to the real services.
 */
import { PgConnection, loadConfig, resolveConnection } from '../../src/config';
import { SqlGatewayClient } from '../../src/flink/gateway';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../../src/flink/rest';
import { FlinkClients } from '../../src/warehouse/deploy';
import { Connections } from '../../src/warehouse/render';
import { localSpecInput } from '../../src/stack/local-spec';
import { PipelineSpec, PipelineSpecInput, parseSpec } from '../../src/core/spec';
import { resolveEndpoints } from '../../src/core/clusters';
import { query, withClient } from '../../src/postgres/connection';
import { Reconciliation, summarize } from '../../src/postgres/compare';
import { compareAll } from '../../src/postgres/reconcile';
import { applySinkSchema, truncateWarehouse } from '../../src/postgres/sink';
import { applySourceSchema, loadSampleData } from '../../src/postgres/source/schema';
import { SourceStateError } from '../../src/postgres/source/names';
import { dropSourceArtifacts } from '../../src/postgres/source/prepare';

/**
 * The local spec under the tests' own names: pipeline e2e, Fluss database sgcc_e2e, and the contract's
 * sink schema dw (the tests read dw.* as an operator of sgcc would).
 */
export function testSpec(overrides: Partial<PipelineSpecInput> = {}): PipelineSpec {
  const base = localSpecInput(loadConfig());
  // Savepoint redeploys unless a test asks for blue/green (test/e2e/bluegreen.test.ts): what the lifecycle tests measure.
  return parseSpec({ ...base, name: 'e2e', fluss: { cluster: 'local', database: 'sgcc_e2e' }, sink: { ...base.sink!, schema: 'dw' }, redeploy: { strategy: 'savepoint' }, ...overrides });
}

/** What the tests reach a pipeline's services with: its Flink clients and its connections. */
export interface DeployTarget {
  flink: FlinkClients;
  sourceAdmin: PgConnection;
  conns: Connections;
}

export function deployTarget(spec: PipelineSpec): DeployTarget {
  const { flink, fluss } = resolveEndpoints(spec, loadConfig().clusters);
  return {
    flink: { rest: new FlinkRestClient(flink.restUrl), gateway: new SqlGatewayClient(flink.gatewayUrl, { timeoutMs: 60_000 }) },
    sourceAdmin: resolveConnection(spec.source.connection),
    conns: { sourceCdc: resolveConnection(spec.source.cdcConnection), sink: resolveConnection(spec.sink.connection), flussBootstrap: fluss.bootstrap },
  };
}

export async function sourceSql(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return withClient(resolveConnection('source_admin'), async (c) => (await query(c, 'test statement', sql, params)).rows);
}

export async function sinkSql(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return withClient(resolveConnection('sink'), async (c) => (await query(c, 'test statement', sql, params)).rows);
}

/** Cancel every gridflow job on the test cluster and wait until they are terminal. */
export async function cancelAllJobs(rest: FlinkRestClient): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const live = (await rest.jobsOverview()).filter((j) => j.name.startsWith('gridflow/') && !TERMINAL_JOB_STATES.has(j.state));
    if (live.length === 0) return;
    for (const j of live) if (j.state !== 'CANCELLING') await rest.cancel(j.jid).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('gridflow jobs still live 60 s after cancel');
}

/**
 * A clean warehouse: no gridflow jobs, no gridflow replication slots, the sample data in the source,
 * empty sink tables, and no Fluss database for the spec.
 */
export async function resetWarehouse(spec: PipelineSpec): Promise<void> {
  const target = deployTarget(spec);
  await cancelAllJobs(target.flink.rest);
  await withClient(target.sourceAdmin, async (c) => {
    const slots = await query<{ slot_name: string }>(c, 'list slots', "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'gridflow\\_%' AND NOT active");
    for (const s of slots.rows) await query(c, 'drop slot', 'SELECT pg_drop_replication_slot($1)', [s.slot_name]);
    const pubs = await query<{ pubname: string }>(c, 'list publications', "SELECT pubname FROM pg_publication WHERE pubname LIKE 'gridflow\\_%'");
    for (const p of pubs.rows) await query(c, 'drop publication', `DROP PUBLICATION ${p.pubname}`);
  });
  await applySourceSchema(target.sourceAdmin);
  await sourceSql('DELETE FROM equipment_reading; DELETE FROM power_equipment');
  await loadSampleData(target.sourceAdmin);
  await applySinkSchema(target.conns.sink, spec.sink.schema);
  await truncateWarehouse(target.conns.sink, spec.name, spec.sink.schema);
  // Nobody owns anything on a clean stack (the tests' pipelines are terminated, not dropped).
  await sinkSql('DELETE FROM gridflow.ownership');
  const session = await target.flink.gateway.openSession({}, 'gridflow-e2e-reset');
  try {
    await target.flink.gateway.runStatement(
      session,
      `CREATE CATALOG IF NOT EXISTS fluss_catalog WITH ('type' = 'fluss', 'bootstrap.servers' = '${target.conns.flussBootstrap}')`,
    );
    await target.flink.gateway.runStatement(session, `DROP DATABASE IF EXISTS fluss_catalog.\`${spec.fluss.database}\` CASCADE`, { timeoutMs: 120_000 });
  } finally {
    await target.flink.gateway.closeSession(session);
  }
}

/** Wait until the sink equals the contract; throw naming the label, the schema and every difference otherwise. Returns how long it took. */
export async function assertConsistent(spec: PipelineSpec, label: string, timeoutMs: number): Promise<number> {
  const { result, ms } = await waitConsistent(spec, timeoutMs);
  if (!result.ok) throw new Error(`${label}: ${spec.name}'s sink (${spec.sink.schema}) differs from the contract after ${ms} ms\n${describeMismatch(result)}`);
  return ms;
}

/**
 * Poll until every sink table equals the contract on the source (or the timeout passes). Returns the
 * last comparison and how long it took from the call.
 */
export async function waitConsistent(spec: PipelineSpec, timeoutMs = 120_000): Promise<{ result: Reconciliation; ms: number }> {
  const started = Date.now();
  const source = resolveConnection(spec.source.connection);
  const sink = resolveConnection(spec.sink.connection);
  let result = await compareAll(source, sink, { sinkSchema: spec.sink.schema });
  while (!result.ok && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 250));
    result = await compareAll(source, sink, { sinkSchema: spec.sink.schema });
  }
  return { result, ms: Date.now() - started };
}

export function describeMismatch(result: Reconciliation): string {
  return `${summarize(result)}\n${JSON.stringify(
    result.tables.filter((t) => !t.ok).map((t) => ({ table: t.table, missing: t.missing.examples, extra: t.extra.examples, different: t.different.examples })),
    null,
    1,
  )}`;
}

/**
 * Free what a test file's pipeline holds, for the files after it: its jobs cancelled, its replication
 * slots and publications dropped (the walsender lets go of a slot a moment after the cancel).
 */
export async function releasePipeline(spec: PipelineSpec): Promise<void> {
  const target = deployTarget(spec);
  await cancelAllJobs(target.flink.rest);
  for (let i = 0; ; i++) {
    try {
      await dropSourceArtifacts(target.sourceAdmin, { pipeline: spec.name });
      return;
    } catch (err) {
      if (!(err instanceof SourceStateError) || i >= 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
