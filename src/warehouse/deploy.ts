/**
 * The warehouse's operations on Flink and Fluss, as plain functions over the clients: the Fluss DDL
 * (and its readiness check), a fresh start's reset, submitting one job (idempotent by job name) and
 * waiting for it to run. The pipeline workflow is the only thing that deploys: it calls these through
 * activities (src/activities/act.ts), one each, so each step is retried and recorded on its own.
 */
import { FlinkApiError } from '../flink/errors';
import { SqlGatewayClient } from '../flink/gateway';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../flink/rest';
import { truncateWarehouse } from '../postgres/sink';
import { Connections, renderFlussDdl, renderJob } from './render';
import type { RepairNames } from '../core/repair';
import { JobName, PipelineSpec } from '../core/spec';
import { Progress, isLiveState } from '../core/types';
import { flussDatabaseOf } from '../core/versions';

export interface FlinkClients {
  rest: FlinkRestClient;
  gateway: SqlGatewayClient;
}

export class DeployError extends Error {
  override name = 'DeployError';
  constructor(message: string, readonly kind: 'source-not-ready' | 'job-failed' | 'job-not-ready') {
    super(message);
  }
}

/**
 * The Fluss catalog, database and tables. Idempotent (IF NOT EXISTS). Tables it created are checked to
 * be served (every bucket has a leader) and, while still empty, recreated if not: Fluss 0.9.1's
 * coordinator can miss a table's creation (sql/udf/gridflow/udf/FlussTablesReady.java).
 */
export async function createFlussTables(flink: FlinkClients, spec: PipelineSpec, conns: Connections, progress: Progress = () => undefined): Promise<void> {
  const statements = renderFlussDdl(spec, conns);
  const session = await flink.gateway.openSession({}, `gridflow-${spec.name}-ddl`);
  const run = async (statement: string) => {
    progress(statement.split('\n')[0].slice(0, 80));
    await flink.gateway.runStatement(session, statement, { timeoutMs: 120_000 });
  };
  try {
    const tableStatements = statements.filter((st) => tableOf(st) !== null);
    for (const st of statements.filter((x) => tableOf(x) === null)) await run(st); // catalog, database
    const before = new Set(await listTables(flink.gateway, session, flussDatabaseOf(spec)));
    for (const st of tableStatements) await run(st);
    const created = expectedFlussTables(spec, conns).filter((t) => !before.has(t));
    for (let round = 1; created.length; round++) {
      const broken = await unservedTables(flink.gateway, session, spec, conns, created);
      if (broken.length === 0) return;
      if (round > 3) throw new DeployError(`Fluss tables without a serving bucket leader after recreating them twice: ${broken.map((b) => b.problem).join('; ')}`, 'job-not-ready');
      for (const { table, problem } of broken) {
        progress(`Fluss table ${table} is not served (${problem}): dropping and creating it again (it is new and empty)`);
        await run(`DROP TABLE IF EXISTS fluss_catalog.\`${flussDatabaseOf(spec)}\`.${table}`);
        for (const st of tableStatements.filter((x) => tableOf(x) === table)) await run(st);
      }
    }
  } finally {
    await flink.gateway.closeSession(session).catch(() => undefined);
  }
}

/** The table a DDL statement of ddl.sql creates or alters, null for the catalog and database statements. */
function tableOf(statement: string): string | null {
  const m = /^\s*(?:CREATE TABLE IF NOT EXISTS|ALTER TABLE)\s+fluss_catalog\.`?[A-Za-z0-9_]+`?\.([A-Za-z0-9_]+)/m.exec(statement);
  return m ? m[1] : null;
}

async function listTables(gateway: SqlGatewayClient, session: string, database: string): Promise<string[]> {
  const databases = await gateway.query(session, 'SHOW DATABASES IN fluss_catalog', { timeoutMs: 60_000 });
  if (!databases.rows.some((r) => r.fields[0] === database)) return [];
  const tables = await gateway.query(session, `SHOW TABLES IN fluss_catalog.\`${database}\``, { timeoutMs: 60_000 });
  return tables.rows.map((r) => String(r.fields[0])).sort();
}

/** Tables among `tables` that no bucket leader serves: one small batch job running FLUSS_TABLES_READY inside Flink. */
async function unservedTables(gateway: SqlGatewayClient, session: string, spec: PipelineSpec, conns: Connections, tables: string[]): Promise<Array<{ table: string; problem: string }>> {
  await gateway.runStatement(session, "CREATE TEMPORARY FUNCTION IF NOT EXISTS gridflow_fluss_tables_ready AS 'gridflow.udf.FlussTablesReady'");
  const result = await gateway.query(
    session,
    `SELECT gridflow_fluss_tables_ready('${conns.flussBootstrap}', '${flussDatabaseOf(spec)}', '${tables.join(',')}')`,
    { timeoutMs: 180_000, executionConfig: { 'execution.runtime-mode': 'batch', 'pipeline.name': `gridflow/${spec.name}/check-fluss-tables` } },
  );
  const text = String(result.rows[0]?.fields[0] ?? '');
  if (!text) return [];
  const problems = text.split('; ').map((problem) => ({ table: problem.split(':')[0], problem }));
  const other = problems.find((p) => !tables.includes(p.table));
  if (other) throw new DeployError(`cannot check the new Fluss tables: ${other.problem}`, 'job-not-ready');
  return problems;
}

/**
 * The pipeline's Fluss tables that exist now (names without catalog and database; empty when the
 * database itself is gone). Read-only: a resume checks the outputs its savepoints continue are still there.
 */
export async function existingFlussTables(flink: FlinkClients, spec: PipelineSpec, conns: Connections): Promise<string[]> {
  const session = await flink.gateway.openSession({}, `gridflow-${spec.name}-inspect`);
  try {
    const [catalog] = renderFlussDdl(spec, conns);
    await flink.gateway.runStatement(session, catalog, { timeoutMs: 60_000 });
    return await listTables(flink.gateway, session, flussDatabaseOf(spec));
  } finally {
    await flink.gateway.closeSession(session).catch(() => undefined);
  }
}

/** The Fluss tables the pipeline's DDL creates (names without catalog and database). */
export function expectedFlussTables(spec: PipelineSpec, conns: Connections): string[] {
  const names: string[] = [];
  for (const statement of renderFlussDdl(spec, conns)) {
    const m = /^\s*CREATE TABLE IF NOT EXISTS fluss_catalog\.`?[A-Za-z0-9_]+`?\.([A-Za-z0-9_]+)/m.exec(statement);
    if (m) names.push(m[1]);
  }
  return names.sort();
}

/**
 * A fresh start: the pipeline's replication slots are new, so no earlier state (checkpoint, savepoint,
 * Fluss table contents, sink rows) can continue from them — changes made between the old slot and the
 * new one were never captured, and a delete among them would leave a stale row forever. Drop the
 * pipeline's Fluss database and empty the sink's warehouse tables; the jobs then rebuild everything
 * from the source snapshot. Idempotent.
 */
export async function resetOutputs(flink: FlinkClients, spec: PipelineSpec, conns: Connections): Promise<void> {
  await dropFlussDatabase(flink, spec, conns);
  await truncateWarehouse(conns.sink, spec.name, spec.sink.schema);
}

/** Drop the pipeline's Fluss database and every table in it (a fresh start, a rebuild from the source). Idempotent. */
export async function dropFlussDatabase(flink: FlinkClients, spec: PipelineSpec, conns: Connections): Promise<void> {
  const session = await flink.gateway.openSession({}, `gridflow-${spec.name}-reset`);
  try {
    const [catalog] = renderFlussDdl(spec, conns);
    await flink.gateway.runStatement(session, catalog, { timeoutMs: 60_000 });
    await flink.gateway.runStatement(session, `DROP DATABASE IF EXISTS fluss_catalog.\`${flussDatabaseOf(spec)}\` CASCADE`, { timeoutMs: 120_000 });
  } finally {
    await flink.gateway.closeSession(session).catch(() => undefined);
  }
}

export interface Submitted {
  jobId: string;
  /** A live job of that name already existed and was returned instead of submitting another. */
  reused: boolean;
  fingerprint: string;
  submittedAt: number;
  /** Set when the job restored from a newer checkpoint than the one asked for (the path it used). */
  restorePath?: string;
}

/**
 * Submit one job unless a live job of that name exists: never two jobs for one name, and a retry
 * after a timed-out submission finds the job the first attempt started.
 */
export async function submitJob(
  flink: FlinkClients,
  spec: PipelineSpec,
  job: JobName,
  conns: Connections,
  restorePath: string | null,
  progress: Progress = () => undefined,
  variant?: RepairNames,
): Promise<Submitted> {
  const rendered = renderJob(spec, job, conns, restorePath ?? undefined, variant);
  const live = (await flink.rest.findJobsByName(rendered.flinkName)).filter((j) => isLiveState(j.state));
  if (live.length) {
    const oldest = live[live.length - 1];
    return { jobId: oldest.jid, reused: true, fingerprint: rendered.fingerprint, submittedAt: oldest.startTime };
  }
  const session = await flink.gateway.openSession({}, `gridflow-${spec.name}-${job}`);
  try {
    for (const statement of rendered.setup) {
      progress(`${job}: ${statement.split('\n')[0].slice(0, 80)}`);
      await flink.gateway.runStatement(session, statement, { timeoutMs: 120_000 });
    }
    progress(`${job}: submitting ${rendered.flinkName}${restorePath ? ` from ${restorePath}` : ''}`);
    const jobId = await flink.gateway.submitDml(session, rendered.dml, rendered.executionConfig, { timeoutMs: 180_000 });
    return { jobId, reused: false, fingerprint: rendered.fingerprint, submittedAt: Date.now() };
  } finally {
    await flink.gateway.closeSession(session).catch(() => undefined);
  }
}

/**
 * Wait until the job and all its tasks run. A job that fails (for instance because its savepoint
 * cannot be restored) or is not running within the timeout raises DeployError with Flink's root cause.
 */
export async function awaitJobRunning(
  rest: FlinkRestClient,
  job: JobName,
  jobId: string,
  timeoutMs: number,
  progress: Progress = () => undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ runningAt: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let detail;
    try {
      detail = await rest.job(jobId);
    } catch (err) {
      // Right after submission the JobManager may not list the job for a moment.
      if (!(err instanceof FlinkApiError && err.notFound) || Date.now() >= deadline) throw err;
      await sleep(500);
      continue;
    }
    progress(`${job}: ${detail.state}`);
    const tasksRunning = detail.vertices.every((v) => v.status === 'RUNNING' || v.status === 'FINISHED');
    if (detail.state === 'RUNNING' && tasksRunning) return { runningAt: Date.now() };
    if (TERMINAL_JOB_STATES.has(detail.state) || detail.state === 'FAILING') {
      const ex = await rest.jobExceptions(jobId).catch(() => null);
      throw new DeployError(`${job} (${jobId}) is ${detail.state}${ex?.rootCause ? `: ${ex.rootCause}` : ''}`, 'job-failed');
    }
    if (Date.now() >= deadline) {
      const ex = await rest.jobExceptions(jobId).catch(() => null);
      throw new DeployError(
        `${job} (${jobId}) not RUNNING after ${Math.round(timeoutMs / 1000)} s (state ${detail.state})${ex?.rootCause ? `: ${ex.rootCause}` : ''}`,
        'job-not-ready',
      );
    }
    await sleep(1000);
  }
}
