/**
 * Typed client for the Flink SQL Gateway REST API (/v2, Flink 1.20): sessions, statements, result
 * paging, and three helpers the activities use — runStatement (DDL/DML, wait for FINISHED),
 * submitDml (returns the Flink job id) and query (a bounded read that always returns).
 *
 * Sessions live only in the gateway's memory and expire after 10 min idle: every call on a lost
 * session throws FlinkApiError with `sessionExpired` (the gateway itself answers HTTP 500).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { FlinkApiError } from './errors';
import { redact } from '../core/redact';
import {
  GatewayInfo,
  infoSchema,
  OperationStatus,
  operationHandleSchema,
  operationStatusSchema,
  ResultColumn,
  ResultPage,
  resultPageSchema,
  ResultRow,
  sessionConfigSchema,
  sessionHandleSchema,
} from './gateway-schemas';
import { emptyObjectSchema, endpoint, fillPath, FlinkHttp, HttpClientOptions } from './http';

const S = '/v2/sessions/:session';
const OP = `${S}/operations/:operation` as const;

/** The gateway endpoints gridflow uses (always with the explicit /v2 prefix). */
const api = {
  info: endpoint('GET', '/v2/info', infoSchema),
  openSession: endpoint('POST', '/v2/sessions', sessionHandleSchema),
  sessionConfig: endpoint('GET', S, sessionConfigSchema),
  closeSession: endpoint('DELETE', S, emptyObjectSchema),
  heartbeat: endpoint('POST', `${S}/heartbeat`, emptyObjectSchema),
  configureSession: endpoint('POST', `${S}/configure-session`, emptyObjectSchema),
  executeStatement: endpoint('POST', `${S}/statements`, operationHandleSchema),
  operationStatus: endpoint('GET', `${OP}/status`, operationStatusSchema),
  cancelOperation: endpoint('POST', `${OP}/cancel`, operationStatusSchema),
  closeOperation: endpoint('DELETE', `${OP}/close`, operationStatusSchema),
  fetchResults: endpoint('GET', `${OP}/result/:token`, resultPageSchema, { losslessNumbers: true }),
} as const;

/** Flink configuration for one statement's job, e.g. `pipeline.name`, `execution.state-recovery.path`. */
type ExecutionConfig = Readonly<Record<string, string>>;

interface GatewayClientOptions extends HttpClientOptions {
  /** First wait between status polls; grows to 1 s. */
  pollIntervalMs?: number;
}

interface RunStatementOptions {
  /** Applies to this statement's job only (a `SET` would stick to the session and every later job). */
  executionConfig?: ExecutionConfig;
  /** Until FINISHED and all result pages are read. Default 60 s. */
  timeoutMs?: number;
}

interface StatementResult {
  /** The submitted Flink job, for INSERT / STATEMENT SET (and a SELECT). */
  readonly jobId: string | null;
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly ResultRow[];
}

interface QueryOptions extends RunStatementOptions {
  /** Stop after this many rows (default 1000). */
  maxRows?: number;
}

interface QueryResult extends StatementResult {
  /** Why reading stopped: end of a bounded result, the row cap, or the time limit (partial rows). */
  readonly end: 'eos' | 'max-rows' | 'timeout';
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ROWS = 1000;
const MAX_POLL_MS = 1000;

export class SqlGatewayClient {
  private readonly http: FlinkHttp;
  private readonly pollMs: number;

  constructor(baseUrl: string, options: GatewayClientOptions = {}) {
    this.http = new FlinkHttp(baseUrl, options);
    this.pollMs = options.pollIntervalMs ?? 100;
  }

  info(): Promise<GatewayInfo> {
    return this.http.call(api.info, {});
  }

  /** Opens a session; `properties` are session-wide Flink options (prefer per-statement executionConfig). */
  openSession(properties: Readonly<Record<string, string>> = {}, sessionName?: string): Promise<string> {
    return this.http.call(api.openSession, {}, { body: { properties, sessionName } });
  }

  /** The session's effective configuration; also a cheap "does this session still exist?". */
  sessionConfig(session: string): Promise<Record<string, string>> {
    return this.http.call(api.sessionConfig, { session });
  }

  /** Idempotent: a session the gateway no longer has counts as closed. */
  async closeSession(session: string): Promise<void> {
    try {
      await this.http.call(api.closeSession, { session });
    } catch (err) {
      if (err instanceof FlinkApiError && err.sessionExpired) return;
      throw err;
    }
  }

  /** Keeps the session from expiring (10 min idle by default). */
  async heartbeat(session: string): Promise<void> {
    await this.http.call(api.heartbeat, { session });
  }

  /** Runs a session-scoped statement synchronously: SET, RESET, CREATE/DROP (TEMPORARY) TABLE/VIEW/CATALOG, USE, ADD JAR. */
  async configureSession(session: string, statement: string): Promise<void> {
    await this.http.call(api.configureSession, { session }, { body: { statement } });
  }

  /** Submits one statement (one; the gateway rejects "a; b"); returns the operation handle at once. */
  executeStatement(session: string, statement: string, executionConfig?: ExecutionConfig): Promise<string> {
    return this.http.call(api.executeStatement, { session }, { body: { statement, executionConfig } });
  }

  operationStatus(session: string, operation: string): Promise<OperationStatus> {
    return this.http.call(api.operationStatus, { session, operation });
  }

  /**
   * Cancels a statement still running in the gateway. Once FINISHED (which for a SELECT happens as
   * soon as its job is submitted) the gateway refuses with HTTP 500; use closeOperation instead.
   */
  cancelOperation(session: string, operation: string): Promise<OperationStatus> {
    return this.http.call(api.cancelOperation, { session, operation });
  }

  /**
   * Frees the operation. For a SELECT this also cancels its Flink job; for INSERT / STATEMENT SET
   * the job keeps running (verified on 1.20.3). Idempotent.
   */
  async closeOperation(session: string, operation: string): Promise<void> {
    await this.http.call(api.closeOperation, { session, operation });
  }

  /**
   * One page of results. Asking for the same token again (a retry after a lost response) returns the
   * same rows, as long as the next token has not been fetched yet (verified on 1.20.3); once it has,
   * the old token answers with no rows.
   */
  fetchResults(session: string, operation: string, token = 0): Promise<ResultPage> {
    return this.http.call(api.fetchResults, { session, operation, token: String(token) }, { query: { rowFormat: 'JSON' } });
  }

  /** Follows a page's `nextResultUri`, which must point at the same session and operation. */
  async fetchResultsAt(session: string, operation: string, nextResultUri: string): Promise<ResultPage> {
    const prefix = fillPath(`${OP}/result/`, { session, operation });
    if (!nextResultUri.startsWith(prefix) || !/^\d+(\?rowFormat=JSON)?$/.test(nextResultUri.slice(prefix.length))) {
      throw new FlinkApiError({
        method: 'GET',
        path: nextResultUri,
        kind: 'invalid-request',
        detail: `nextResultUri does not belong to operation ${operation} of session ${session}`,
      });
    }
    return this.http.request('GET', nextResultUri, undefined, resultPageSchema, { losslessNumbers: true });
  }

  /**
   * Runs a DDL/DML statement to FINISHED and reads its result pages. For INSERT / STATEMENT SET,
   * FINISHED means the job was submitted (jobId set), not that it ended. A failed statement throws
   * FlinkApiError (kind 'statement') with the gateway's error text; a slow one throws kind 'timeout'.
   * Not for streaming SELECT: use query().
   */
  async runStatement(session: string, sql: string, options: RunStatementOptions = {}): Promise<StatementResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const operation = await this.executeStatement(session, sql, options.executionConfig);
    try {
      await this.waitUntilFinished(session, operation, sql, deadline, timeoutMs);
      const columns: ResultColumn[] = [];
      const rows: ResultRow[] = [];
      let jobId: string | null = null;
      for await (const page of this.pages(session, operation, sql, deadline)) {
        if (page === 'deadline') throw statementTimeout(session, sql, timeoutMs);
        if (page.columns.length > 0) columns.splice(0, columns.length, ...page.columns);
        rows.push(...page.rows);
        jobId ??= page.jobId;
      }
      return { jobId, columns, rows };
    } finally {
      await this.closeQuietly(session, operation);
    }
  }

  /**
   * Submits INSERT or `EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END` and returns the Flink
   * job id. Put `pipeline.name` (and a restore path) in `executionConfig`.
   */
  async submitDml(
    session: string,
    sql: string,
    executionConfig: ExecutionConfig,
    options: Omit<RunStatementOptions, 'executionConfig'> = {},
  ): Promise<string> {
    const result = await this.runStatement(session, sql, { ...options, executionConfig });
    const jobIdColumn = result.columns.findIndex((c) => c.name === 'job id');
    const fromRow = jobIdColumn >= 0 ? result.rows[0]?.fields[jobIdColumn] : undefined;
    const jobId = result.jobId ?? (typeof fromRow === 'string' ? fromRow : null);
    if (jobId === null) {
      throw new FlinkApiError({
        method: 'POST',
        path: fillPath(`${S}/statements`, { session }),
        kind: 'statement',
        detail: `${describe(sql)} finished without submitting a job (not an INSERT or STATEMENT SET?)`,
        transient: false,
      });
    }
    return jobId;
  }

  /**
   * A bounded read: runs a query and collects rows until EOS, `maxRows`, or `timeoutMs` (then returns
   * what it has, `end: 'timeout'`). Always closes the operation, which cancels a streaming query's job.
   */
  async query(session: string, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
    const operation = await this.executeStatement(session, sql, options.executionConfig);
    let columns: readonly ResultColumn[] = [];
    const rows: ResultRow[] = [];
    let jobId: string | null = null;
    try {
      for await (const page of this.pages(session, operation, sql, deadline)) {
        if (page === 'deadline') return { jobId, columns, rows, end: 'timeout' };
        if (page.columns.length > 0) columns = page.columns;
        jobId ??= page.jobId;
        rows.push(...page.rows);
        if (rows.length >= maxRows) return { jobId, columns, rows: rows.slice(0, maxRows), end: 'max-rows' };
      }
      return { jobId, columns, rows, end: 'eos' };
    } finally {
      await this.closeQuietly(session, operation);
    }
  }

  /**
   * Yields result pages with rows until EOS, waiting on NOT_READY and on empty pages; yields
   * 'deadline' (once, then stops) when time runs out. A statement ERROR throws its gateway text.
   */
  private async *pages(
    session: string,
    operation: string,
    sql: string,
    deadline: number,
  ): AsyncGenerator<ResultPage | 'deadline'> {
    let page: ResultPage | undefined;
    let wait = this.pollMs;
    for (;;) {
      if (Date.now() >= deadline) {
        yield 'deadline';
        return;
      }
      try {
        page = page?.nextResultUri
          ? await this.fetchResultsAt(session, operation, page.nextResultUri)
          : await this.fetchResults(session, operation, 0);
      } catch (err) {
        throw await this.explainFetchFailure(session, operation, sql, err);
      }
      if (page.resultType !== 'NOT_READY' && (page.rows.length > 0 || page.jobId !== null)) yield page;
      if (page.resultType === 'EOS') return;
      if (page.rows.length > 0) {
        wait = this.pollMs;
        continue;
      }
      // NOT_READY, or a PAYLOAD without rows (a streaming query between records): don't spin.
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      wait = Math.min(wait * 2, MAX_POLL_MS);
    }
  }

  /** Polls status until FINISHED; ERROR/CANCELED/CLOSED/TIMEOUT throw, so does the deadline. */
  private async waitUntilFinished(
    session: string,
    operation: string,
    sql: string,
    deadline: number,
    timeoutMs: number,
  ): Promise<void> {
    let wait = this.pollMs;
    for (;;) {
      const status = await this.operationStatus(session, operation);
      if (status === 'FINISHED') return;
      if (status === 'ERROR') throw await this.statementError(session, operation, sql);
      if (status === 'CANCELED' || status === 'CLOSED' || status === 'TIMEOUT') {
        throw new FlinkApiError({
          method: 'GET',
          path: fillPath(`${OP}/status`, { session, operation }),
          kind: 'statement',
          detail: `${describe(sql)} ended ${status}`,
          transient: false,
        });
      }
      if (Date.now() >= deadline) throw statementTimeout(session, sql, timeoutMs);
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      wait = Math.min(wait * 2, MAX_POLL_MS);
    }
  }

  /** The status endpoint says only ERROR; the error text comes back as the 500 of a result fetch. */
  private async statementError(session: string, operation: string, sql: string): Promise<FlinkApiError> {
    try {
      await this.fetchResults(session, operation, 0);
    } catch (err) {
      if (err instanceof FlinkApiError && err.flinkErrors.length > 0) return statementFailure(session, sql, err);
    }
    return new FlinkApiError({
      method: 'POST',
      path: fillPath(`${S}/statements`, { session }),
      kind: 'statement',
      detail: `${describe(sql)} failed (the gateway gave no error text)`,
    });
  }

  /** A 500 while fetching is either the statement's own ERROR or a gateway problem; ask which. */
  private async explainFetchFailure(session: string, operation: string, sql: string, err: unknown): Promise<unknown> {
    if (!(err instanceof FlinkApiError) || err.status === undefined || err.sessionExpired || err.flinkErrors.length === 0) {
      return err;
    }
    const status = await this.operationStatus(session, operation).catch(() => undefined);
    return status === 'ERROR' ? statementFailure(session, sql, err) : err;
  }

  private async closeQuietly(session: string, operation: string): Promise<void> {
    // Best effort: the result is already in hand (or an error is on its way); an unclosed operation
    // only costs gateway memory until the session ends.
    await this.closeOperation(session, operation).catch(() => undefined);
  }
}

function statementFailure(session: string, sql: string, fetchError: FlinkApiError): FlinkApiError {
  return new FlinkApiError({
    method: 'POST',
    path: fillPath(`${S}/statements`, { session }),
    kind: 'statement',
    detail: `${describe(sql)} failed`,
    flinkErrors: fetchError.flinkErrors,
    cause: fetchError,
  });
}

function statementTimeout(session: string, sql: string, timeoutMs: number): FlinkApiError {
  return new FlinkApiError({
    method: 'POST',
    path: fillPath(`${S}/statements`, { session }),
    kind: 'timeout',
    detail: `${describe(sql)} did not finish within ${timeoutMs} ms`,
  });
}

/** The start of a statement for messages: one line, short, connector secrets blanked. */
function describe(sql: string): string {
  const oneLine = redact(sql).replace(/\s+/g, ' ').trim();
  return `statement "${oneLine.length > 60 ? oneLine.slice(0, 57) + '...' : oneLine}"`;
}
