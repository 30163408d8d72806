/**
 * How gridflow talks to PostgreSQL: one connection per unit of work (`withClient`), a small pool helper,
 * values kept exact, every failure mapped to a PostgresError (errors.ts), idempotent SQL files applied
 * under an advisory lock, and validated identifiers.
 *
 * Values: NUMERIC, BIGINT, DATE and TIMESTAMP[TZ] come back as the strings Postgres sent (session
 * TimeZone = UTC), never as JS numbers or Dates: a NUMERIC(20,4) or a microsecond timestamp survives.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { Client, ClientConfig, Pool, PoolConfig, QueryResult, QueryResultRow, types } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { readSqlFile } from '../warehouse/files';
import { PostgresError, mapPostgresError } from './errors';

// ---------------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------------

interface ClientOptions {
  /** Give up connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout (default 30 s). */
  statementTimeoutMs?: number;
  /** Server-side lock_timeout (default 10 s), so DDL never queues forever behind a long transaction. */
  lockTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

const DEFAULTS = { connectTimeoutMs: 5_000, statementTimeoutMs: 30_000, lockTimeoutMs: 10_000 };

/** OIDs whose values we keep as the server's text: exact decimals, 64-bit integers, timestamps, dates. */
const TEXT_OIDS = new Set([
  20, // int8
  1700, // numeric
  1082, // date
  1114, // timestamp
  1184, // timestamptz
]);
const TEXT_ARRAY_OIDS = new Set([1016 /* int8[] */, 1231 /* numeric[] */, 1182 /* date[] */, 1115, 1185]);
const parseTextArray = (types.getTypeParser as (oid: number, format: 'text') => (value: string) => string[])(1009 /* text[] */, 'text');

/** Per-client type parsers: nothing global, so another library's setTypeParser cannot change our values. */
const EXACT_TYPES: ClientConfig['types'] = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (TEXT_OIDS.has(oid)) return (value: string) => value;
    if (TEXT_ARRAY_OIDS.has(oid)) return parseTextArray;
    return format === 'binary' ? types.getTypeParser(oid, 'binary') : types.getTypeParser(oid, 'text');
  }) as typeof types.getTypeParser,
};

/** The pg client configuration for a connection (also used for replication clients in tests). */
export function clientConfig(conn: PgConnection, options: ClientOptions = {}): ClientConfig {
  const o = { ...DEFAULTS, ...options };
  return {
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    password: conn.password,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    lock_timeout: o.lockTimeoutMs,
    // A dead network must not hang an activity: the client gives up a little after the server would.
    query_timeout: o.statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: o.applicationName ?? 'gridflow',
    options: '-c TimeZone=UTC -c DateStyle=ISO',
    types: EXACT_TYPES,
    ssl: tlsOptions(conn),
  };
}

/** node-postgres' TLS options for libpq's sslmode (src/config.ts PgTls). */
export function tlsOptions(conn: PgConnection): ClientConfig['ssl'] {
  const tls = conn.ssl;
  if (!tls) return false;
  const ca = tls.rootCert ? fs.readFileSync(tls.rootCert, 'utf8') : undefined;
  switch (tls.mode) {
    case 'require':
      // libpq: with a root certificate, require verifies the chain as verify-ca does.
      return ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    case 'verify-ca':
      return { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ca, rejectUnauthorized: true }; // and the host name must match the certificate (node's default check)
    default:
      return false;
  }
}

/** The same connection pointed at another database on the same server (scratch databases, per-database slots). */
export function withDatabase(conn: PgConnection, database: string): PgConnection {
  if (!IDENTIFIER.test(database)) throw new Error(`database name ${JSON.stringify(database)} must match ${IDENTIFIER}`);
  const copy = { name: conn.name, host: conn.host, port: conn.port, database, user: conn.user } as PgConnection;
  Object.defineProperty(copy, 'password', { value: conn.password, enumerable: false });
  return copy;
}

/**
 * Connect, run `fn`, always end the connection. Errors from pg or the network come out as
 * PostgresError (naming the connection, never its password); errors of `fn`'s own making pass through.
 */
export async function withClient<T>(
  conn: PgConnection,
  fn: (client: Client) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const client = new Client(clientConfig(conn, options));
  let broken = false;
  // Without a listener, a connection that breaks between queries would crash the process.
  client.on('error', () => {
    broken = true;
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw mapPostgresError(err, { connection: conn, operation: `connect to ${conn.database}`, connectionFailed: true });
  }
  try {
    return await fn(client);
  } catch (err) {
    const mapped = mapPostgresError(err, { connection: conn, connectionFailed: broken });
    throw mapped instanceof PostgresError ? mapped.onConnection(conn) : mapped;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One statement with an operation name for the error message ("grant SELECT on public.x to cdc"). */
export async function query<R extends QueryResultRow = QueryResultRow>(
  client: Client,
  operation: string,
  sql: string,
  params: unknown[] = [],
): Promise<QueryResult<R>> {
  try {
    return await client.query<R>(sql, params);
  } catch (err) {
    throw mapPostgresError(err, { operation });
  }
}

/** Run fn in a transaction (BEGIN [mode] ... COMMIT, ROLLBACK on any error). */
export async function inTransaction<T>(
  client: Client,
  fn: () => Promise<T>,
  mode = '',
): Promise<T> {
  await client.query(mode ? `BEGIN ${mode}` : 'BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * A pool for callers that run many short statements (the load generator, benchmarks). An idle client
 * that loses its connection is discarded instead of crashing the process; errors of queries still
 * need mapPostgresError (or `query`).
 */
export function createPool(conn: PgConnection, options: ClientOptions & { max?: number } = {}): Pool {
  const config: PoolConfig = { ...clientConfig(conn, options), max: options.max ?? 4, idleTimeoutMillis: 10_000 };
  const pool = new Pool(config);
  pool.on('error', () => undefined);
  return pool;
}

// ---------------------------------------------------------------------------------------------------
// SQL files and identifiers
// ---------------------------------------------------------------------------------------------------

/**
 * Apply an idempotent SQL file in one transaction, serialised with any concurrent apply of the same file
 * by an advisory lock (two workers applying at once would otherwise race on CREATE ... IF NOT EXISTS).
 */
export async function applySqlFile(client: Client, relative: string, names: Record<string, string> = {}): Promise<void> {
  // ${name} placeholders take validated identifiers only, double-quoted (quoteIdent).
  const text = readSqlFile(relative).replace(/\$\{([a-z_]+)\}/g, (_m, name: string) => {
    if (!(name in names)) throw new Error(`sql/${relative}: placeholder \${${name}} has no value`);
    return quoteIdent(names[name]);
  });
  await inTransaction(client, async () => {
    await query(client, `lock for sql/${relative}`, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`gridflow:sql/${relative}:${JSON.stringify(names)}`]);
    // Simple-protocol multi-statement query: the file may hold DO blocks and functions.
    await query(client, `apply sql/${relative}`, text);
  });
}

/** A validated identifier, double-quoted. Names reaching SQL must come from validated input. */
export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`identifier ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  return `"${name}"`;
}

/** Rows validated against a schema: an unexpected shape is an error naming the row, the query and the field. */
export function parseRows<T>(schema: z.ZodType<T>, rows: unknown[], what: string): T[] {
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`unexpected row ${i} from ${what}: ${issue.path.join('.')}: ${issue.message}`);
    }
    return parsed.data;
  });
}
