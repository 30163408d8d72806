/**
 * PostgreSQL failures as one structured `PostgresError`, classified by SQLSTATE code (never by message
 * text), so activities can tell "retry later" from "fix something"; and what may be said about a
 * connection in a log (never its password).
 */
import { redact } from '../core/redact';
import { DatabaseError } from 'pg';
import { PgConnection } from '../config';

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/** What went wrong, in domain terms. Derived from the SQLSTATE (or the network error code). */
type PostgresErrorKind =
  /** Nothing answered, the connection broke, or the server is shutting down / starting (08xxx, 57P0x, ECONNREFUSED...). */
  | 'connection'
  /** Wrong password or no pg_hba entry (28xxx). */
  | 'authentication'
  /** The database named by the connection does not exist (3D000). */
  | 'undefined-database'
  /** 3F000 */
  | 'undefined-schema'
  /** 42P01 */
  | 'undefined-table'
  /** 42703 */
  | 'undefined-column'
  /** 42883 */
  | 'undefined-function'
  /** A role, slot, publication, ... (42704). */
  | 'undefined-object'
  /** 42710 (and 42P04/42P06/42P07: database, schema, table). */
  | 'duplicate-object'
  /** 42501 */
  | 'insufficient-privilege'
  /** Someone is using it: an active replication slot, a database with sessions (55006). */
  | 'object-in-use'
  /** Server state forbids it, e.g. logical decoding with wal_level below logical (55000). */
  | 'prerequisite'
  /** lock_timeout or NOWAIT (55P03). */
  | 'lock-not-available'
  /** Serialization failure or deadlock: run the transaction again (40001, 40P01). */
  | 'serialization'
  /** statement_timeout or a cancel (57014). */
  | 'timeout'
  /** Disk full, out of memory, too many connections, ... (class 53). */
  | 'resources'
  /** A write in a read-only transaction or on a standby (25006). */
  | 'read-only'
  /** unique, check, not-null, foreign-key, exclusion (class 23). */
  | 'constraint-violation'
  /** Bad input value: out of range, invalid text representation (class 22). */
  | 'invalid-data'
  /** Syntax error or other statement error: a bug in the SQL (42601 and the rest of class 42). */
  | 'invalid-statement'
  | 'other';

interface Classification {
  kind: PostgresErrorKind;
  transient: boolean;
  /** A few words for the message. */
  label: string;
}

const BY_CODE: Record<string, Classification> = {
  '3D000': { kind: 'undefined-database', transient: false, label: 'database does not exist' },
  '3F000': { kind: 'undefined-schema', transient: false, label: 'schema does not exist' },
  '42P01': { kind: 'undefined-table', transient: false, label: 'table does not exist' },
  '42703': { kind: 'undefined-column', transient: false, label: 'column does not exist' },
  '42883': { kind: 'undefined-function', transient: false, label: 'function does not exist' },
  '42704': { kind: 'undefined-object', transient: false, label: 'object does not exist' },
  '42710': { kind: 'duplicate-object', transient: false, label: 'object already exists' },
  '42P04': { kind: 'duplicate-object', transient: false, label: 'database already exists' },
  '42P06': { kind: 'duplicate-object', transient: false, label: 'schema already exists' },
  '42P07': { kind: 'duplicate-object', transient: false, label: 'table already exists' },
  '42501': { kind: 'insufficient-privilege', transient: false, label: 'insufficient privilege' },
  '55006': { kind: 'object-in-use', transient: false, label: 'object in use' },
  '55000': { kind: 'prerequisite', transient: false, label: 'object not in prerequisite state' },
  '55P03': { kind: 'lock-not-available', transient: true, label: 'lock not available' },
  '40001': { kind: 'serialization', transient: true, label: 'serialization failure' },
  '40P01': { kind: 'serialization', transient: true, label: 'deadlock detected' },
  '57014': { kind: 'timeout', transient: true, label: 'statement canceled (timeout)' },
  '57P01': { kind: 'connection', transient: true, label: 'server is shutting down' },
  '57P02': { kind: 'connection', transient: true, label: 'server crashed' },
  '57P03': { kind: 'connection', transient: true, label: 'server is not accepting connections yet' },
  '25006': { kind: 'read-only', transient: false, label: 'read-only transaction' },
  '42601': { kind: 'invalid-statement', transient: false, label: 'syntax error' },
};

const BY_CLASS: Record<string, Classification> = {
  '08': { kind: 'connection', transient: true, label: 'connection failure' },
  '28': { kind: 'authentication', transient: false, label: 'authentication failed' },
  '53': { kind: 'resources', transient: true, label: 'insufficient resources' },
  '23': { kind: 'constraint-violation', transient: false, label: 'constraint violation' },
  '22': { kind: 'invalid-data', transient: false, label: 'invalid data' },
  '42': { kind: 'invalid-statement', transient: false, label: 'invalid statement' },
  '40': { kind: 'serialization', transient: true, label: 'transaction rollback' },
};

/** Node network error codes: the peer or the network failed, not the request. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The domain meaning of a SQLSTATE (or of a Node network error code). Pure. */
export function classifyCode(code: string): Classification {
  if (NETWORK_CODES.has(code)) return { kind: 'connection', transient: true, label: 'cannot reach the server' };
  const exact = BY_CODE[code];
  if (exact) return exact;
  if (SQLSTATE.test(code)) {
    const byClass = BY_CLASS[code.slice(0, 2)];
    if (byClass) return byClass;
  }
  return { kind: 'other', transient: false, label: 'error' };
}

interface PostgresErrorInit {
  /** SQLSTATE, or the Node error code for network failures; undefined when neither exists. */
  code: string | undefined;
  kind: PostgresErrorKind;
  transient: boolean;
  /** The server's (or driver's) message, verbatim apart from secrets. */
  serverMessage: string;
  /** What we were doing, e.g. "create replication slot gridflow_p_power_equipment". */
  operation?: string;
  /** Connection name (never credentials). */
  connection?: string;
  /** The object the server named in the error fields: schema.table, constraint, column. */
  object?: string;
  detail?: string;
  hint?: string;
  cause?: unknown;
}

export class PostgresError extends Error {
  override readonly name = 'PostgresError';
  readonly code: string | undefined;
  readonly kind: PostgresErrorKind;
  /** True when the same call may succeed later without anyone changing anything. */
  readonly transient: boolean;
  readonly serverMessage: string;
  readonly operation: string | undefined;
  readonly connection: string | undefined;
  readonly object: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  private declare readonly init: PostgresErrorInit;

  constructor(init: PostgresErrorInit) {
    super(composeMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    // Kept for onConnection(); not enumerable, so serialising the error shows only the public fields.
    Object.defineProperty(this, 'init', { value: init, enumerable: false });
    this.code = init.code;
    this.kind = init.kind;
    this.transient = init.transient;
    this.serverMessage = init.serverMessage;
    this.operation = init.operation;
    this.connection = init.connection;
    this.object = init.object;
    this.detail = init.detail;
    this.hint = init.hint;
  }

  /** The same error, naming the connection it happened on (and blanking its password). */
  onConnection(conn: PgConnection): PostgresError {
    if (this.connection) return this;
    const clean = (s: string | undefined) => (s === undefined ? undefined : redact(s, [conn.password]));
    return new PostgresError({
      ...this.init,
      cause: safeCause(this.init.cause, conn.password),
      connection: describeConnection(conn),
      serverMessage: clean(this.init.serverMessage) ?? '',
      object: clean(this.init.object),
      detail: clean(this.init.detail),
      hint: clean(this.init.hint),
    });
  }
}

function composeMessage(init: PostgresErrorInit): string {
  const where = init.connection ? ` on ${init.connection}` : '';
  const what = init.operation ?? 'query';
  const code = init.code ? ` (${init.code})` : '';
  let text = `${what}${where} failed: ${classifyLabel(init)}${code}: ${init.serverMessage}`;
  if (init.object && !init.serverMessage.includes(init.object)) text += ` [${init.object}]`;
  if (init.detail) text += `; ${init.detail}`;
  if (init.hint) text += ` (hint: ${init.hint})`;
  return text;
}

function classifyLabel(init: PostgresErrorInit): string {
  return init.code ? classifyCode(init.code).label : init.kind;
}

export function isPostgresError(err: unknown, kind?: PostgresErrorKind): err is PostgresError {
  return err instanceof PostgresError && (kind === undefined || err.kind === kind);
}

interface ErrorContext {
  connection?: PgConnection;
  operation?: string;
  /**
   * True when the error happened while connecting, or after the connection broke: an error without a
   * SQLSTATE then means "could not talk to the server" (pg's "timeout expired", "Connection terminated").
   */
  connectionFailed?: boolean;
}

/**
 * Turn what pg (or the network) threw into a PostgresError. Anything else — a bug in the caller's own
 * code, a PostgresError already mapped — is returned unchanged.
 */
export function mapPostgresError(err: unknown, ctx: ErrorContext = {}): unknown {
  if (err instanceof PostgresError) return err;
  if (!isErrorLike(err)) return err;
  const secret = ctx.connection?.password;
  const clean = (s: string | undefined) => (s === undefined ? undefined : redact(s, secret ? [secret] : []));
  const connection = ctx.connection ? describeConnection(ctx.connection) : undefined;
  const code = (err as { code?: unknown }).code;

  if (err instanceof DatabaseError || (typeof code === 'string' && SQLSTATE.test(code) && 'severity' in err)) {
    const db = err as DatabaseError;
    const sqlstate = db.code ?? 'XX000';
    const c = classifyCode(sqlstate);
    const object = db.table ? (db.schema ? `${db.schema}.${db.table}` : db.table) : (db.constraint ?? db.column ?? db.dataType);
    return new PostgresError({
      code: sqlstate,
      kind: c.kind,
      transient: c.transient,
      serverMessage: clean(db.message) ?? '',
      operation: ctx.operation,
      connection,
      object: clean(object),
      detail: clean(db.detail),
      hint: clean(db.hint),
      cause: safeCause(err, secret),
    });
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    const c = classifyCode(code);
    return new PostgresError({
      code,
      kind: c.kind,
      transient: true,
      serverMessage: clean(err.message) ?? '',
      operation: ctx.operation,
      connection,
      cause: safeCause(err, secret),
    });
  }
  if (ctx.connectionFailed) {
    return new PostgresError({
      code: typeof code === 'string' ? code : undefined,
      kind: 'connection',
      transient: true,
      serverMessage: clean(err.message) ?? '',
      operation: ctx.operation,
      connection,
      cause: safeCause(err, secret),
    });
  }
  return err;
}

/**
 * The original error is kept as `cause` (loggers and Temporal print cause chains) only when none of its
 * texts holds a secret; otherwise the redacted PostgresError stands alone.
 */
function safeCause(err: unknown, password: string | undefined): unknown {
  if (!isErrorLike(err)) return err;
  const texts = ['message', 'detail', 'hint', 'where', 'internalQuery'].map((k) => (err as unknown as Record<string, unknown>)[k]);
  const leaks = texts.some((t) => typeof t === 'string' && redact(t, password ? [password] : []) !== t);
  return leaks ? undefined : err;
}

/**
 * Duck-typed: errors made by Node's own socket code come from another realm under jest's vm (and in any
 * embedding that isolates globals), where `instanceof Error` is false.
 */
function isErrorLike(err: unknown): err is Error {
  return typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string';
}


/** "source_admin (gridflow_admin@127.0.0.1:15432/sgcc_source)": safe to log, never a password. */
export function describeConnection(conn: PgConnection): string {
  return `${conn.name} (${conn.user}@${conn.host}:${conn.port}/${conn.database})`;
}
