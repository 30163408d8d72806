/**
 * Render the SGCC warehouse for one PipelineSpec: the Fluss DDL, and per job its temporary tables and
 * the statement set, with the Flink settings the job is submitted with. Credentials come in as
 * resolved connections (inside the worker) and are only ever placed in SQL string literals; so does
 * the Fluss cluster's address (the spec only names the cluster).
 */
import { createHash } from 'node:crypto';
import { PgConnection } from '../config';
import { PROBE_EQUIPMENT_ID } from '../constants';
import { flussDatabaseOf, jobNameOf, sinkSearchPath, versionTag } from '../core/versions';
import type { RepairNames } from '../core/repair';
import { JobName, PipelineSpec, durationMs } from '../core/spec';
import { PlaceholderValue, fillPlaceholders, flinkIdentifier, identifier, isDml, literal, splitStatements } from './sql';
import { readSqlFile } from './files';

export interface Connections {
  /** The CDC role, as Flink reaches the source. */
  sourceCdc: PgConnection;
  /** The sink writer, as Flink reaches the sink. */
  sink: PgConnection;
  /** The spec's Fluss cluster's coordinator(s), host:port[,host:port], as Flink reaches them. */
  flussBootstrap: string;
}

interface RenderedJob {
  job: JobName;
  flinkName: string;
  /** Session-scoped statements run before the job: the Fluss catalog, then temporary tables. */
  setup: string[];
  /** The INSERT / EXECUTE STATEMENT SET that becomes the Flink job. */
  dml: string;
  /** Settings for this statement only (a SET would leak into every later job of the session). */
  executionConfig: Record<string, string>;
  /** Changes when anything that defines the job changes (SQL, parallelism, settings); no secrets. */
  fingerprint: string;
}

function values(spec: PipelineSpec, conns: Connections, mask: boolean, variant?: RepairNames): Record<string, PlaceholderValue> {
  const secret = (s: string) => literal(mask ? '***' : s);
  return {
    // The repair's sink reports its probe arrivals under a name of its own (never the pipeline's).
    pipeline: identifier(variant ? variant.probePipeline : spec.name),
    // The version's replication slots and publications (src/core/versions.ts).
    slot_tag: identifier(versionTag(spec)),
    fluss_bootstrap: { kind: 'hostPorts', value: conns.flussBootstrap },
    fluss_database: flinkIdentifier(flussDatabaseOf(spec)),
    /** The same name inside a string literal (a UDF argument), unquoted. */
    fluss_database_name: literal(flussDatabaseOf(spec)),
    sink_schema: identifier(spec.sink.schema),
    source_host: { kind: 'host', value: conns.sourceCdc.host },
    source_port: { kind: 'port', value: conns.sourceCdc.port },
    // A connector option inside quotes: any database name Postgres allows (upper case too).
    source_database: literal(conns.sourceCdc.database),
    source_schema: identifier(spec.source.schema),
    source_user: literal(conns.sourceCdc.user),
    source_password: secret(conns.sourceCdc.password),
    sink_jdbc_url: { kind: 'jdbcUrl', value: `jdbc:postgresql://${urlHost(conns.sink.host)}:${conns.sink.port}/${urlPart(conns.sink.database)}${jdbcQuery(conns.sink, sinkSearchPath(spec))}` },
    source_tls_options: {
      kind: 'options',
      value: conns.sourceCdc.ssl
        ? [['debezium.database.sslmode', conns.sourceCdc.ssl.mode], ...(conns.sourceCdc.ssl.rootCert ? [['debezium.database.sslrootcert', conns.sourceCdc.ssl.rootCert] as [string, string]] : [])]
        : [],
    },
    sink_user: literal(conns.sink.user),
    sink_password: secret(conns.sink.password),
    probe_equipment: literal(PROBE_EQUIPMENT_ID),
  };
}

/** Percent-encoded for a URL path, quotes included (the URL sits inside a SQL string). */
function urlPart(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A host as a URL writes it: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * pgjdbc's query: the search path the sink job's unqualified table names resolve in (src/core/versions.ts:
 * its own tables, wherever a switch has put them), and the connection's TLS (same names and modes as libpq).
 */
function jdbcQuery(conn: PgConnection, searchPath: readonly string[]): string {
  const q = [`currentSchema=${searchPath.join('%2C')}`];
  if (conn.ssl) q.push(`sslmode=${conn.ssl.mode}`, ...(conn.ssl.rootCert ? [`sslrootcert=${encodeURI(conn.ssl.rootCert)}`] : []));
  return `?${q.join('&')}`;
}

function render(file: string, spec: PipelineSpec, conns: Connections, mask: boolean, variant?: RepairNames): string[] {
  return splitStatements(fillPlaceholders(readSqlFile(file), values(spec, conns, mask, variant)));
}

/** The catalog and Fluss tables (DWD, DWS, ADS): run once per deployment, idempotent. */
export function renderFlussDdl(spec: PipelineSpec, conns: Connections): string[] {
  return [...render('flink/catalog.sql', spec, conns, false), ...render('flink/ddl.sql', spec, conns, false)];
}

function jobExecutionConfig(spec: PipelineSpec, job: JobName, restorePath?: string, variant?: RepairNames): Record<string, string> {
  const config: Record<string, string> = {
    'pipeline.name': variant ? variant.flinkName : jobNameOf(spec, job),
    'parallelism.default': String(spec.jobs[job].parallelism),
    'execution.checkpointing.interval': `${durationMs(spec.checkpointInterval)} ms`,
    // Explicit, so a cluster configured otherwise still keeps what a lost job must restart from.
    'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    // The JDBC sink writes TIMESTAMP_LTZ through java.sql.Timestamp; the stack runs JVMs in UTC.
    'table.local-time-zone': 'UTC',
    ...spec.jobs[job].config,
  };
  if (restorePath) config['execution.state-recovery.path'] = restorePath;
  return config;
}

/**
 * One job of the pipeline, ready for the SQL Gateway. With `variant` (the repair's sink only): the same
 * statements — the same operators, so its savepoint restores into the pipeline's sink job — writing the
 * shadow schema, under its own Flink name and probe name (src/core/repair.ts repairNames).
 */
export function renderJob(spec: PipelineSpec, job: JobName, conns: Connections, restorePath?: string, variant?: RepairNames): RenderedJob {
  if (variant && job !== 'sink') throw new Error(`only the sink job has a repair variant, not ${job}`);
  if (variant) spec = { ...spec, sink: { ...spec.sink, schema: variant.shadowSchema } };
  const split = (statements: string[]) => {
    const dml = statements.filter(isDml);
    if (dml.length !== 1) throw new Error(`sql/flink/${job}.sql must hold exactly one INSERT or statement set, found ${dml.length}`);
    return { setup: statements.filter((s) => !isDml(s)), dml: dml[0] };
  };
  const catalog = render('flink/catalog.sql', spec, conns, false);
  const real = split(render(`flink/${job}.sql`, spec, conns, false, variant));
  const masked = split(render(`flink/${job}.sql`, spec, conns, true, variant));
  const executionConfig = jobExecutionConfig(spec, job, restorePath, variant);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ sql: [...masked.setup, masked.dml], config: jobExecutionConfig(spec, job) }))
    .digest('hex')
    .slice(0, 16);
  return {
    job,
    flinkName: variant ? variant.flinkName : jobNameOf(spec, job),
    setup: [...catalog, ...real.setup],
    dml: real.dml,
    executionConfig,
    fingerprint,
  };
}
