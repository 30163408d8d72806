/**
 * The one error type of src/flink: every failure talking to the JobManager REST API or the SQL Gateway
 * becomes a FlinkApiError that names the call (`METHOD /path`), says what went wrong in one readable
 * line, keeps Flink's full text, and tells activities whether trying again can help.
 */
import { redact } from '../core/redact';

/** What kind of failure this was; `transient` is derived from it (plus the HTTP status and Flink's text). */
type FlinkErrorKind =
  /** Nothing answered: connection refused/reset, DNS failure. */
  | 'connection'
  /** The request was sent but no complete answer arrived within the timeout. */
  | 'timeout'
  /** Flink answered with a non-2xx status. */
  | 'http'
  /** Flink answered 2xx, but the body was not JSON or did not match the expected shape. */
  | 'parse'
  /** A SQL statement reached ERROR (or did not finish in time) inside the SQL Gateway. */
  | 'statement'
  /** Refused before anything was sent (e.g. a malformed triggerId). */
  | 'invalid-request';

interface FlinkApiErrorInit {
  method: string;
  path: string;
  kind: FlinkErrorKind;
  status?: number;
  /** Flink's `errors` array, verbatim (each entry may be a whole Java stack trace). */
  flinkErrors?: readonly string[];
  /** For parse failures: one entry per problem, `path.to.field: message`. */
  issues?: readonly string[];
  /** Extra words for the message when there is no Flink text (e.g. "connect ECONNREFUSED 127.0.0.1:8081"). */
  detail?: string;
  /** Overrides the derived value, for callers that know better (e.g. a statement that cannot reach the JobManager). */
  transient?: boolean;
  cause?: unknown;
}

/** Node/axios error codes meaning "the network or the peer failed, not the request". */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
}

// The gateway answers HTTP 500 for everything, including cases where retrying the same call can never
// succeed. These markers (verified against Flink 1.20.3) let us call those permanent.
const SESSION_GONE = /Session '([0-9a-f-]+)' does not exist/;
const OPERATION_GONE = /Can not find the submitted operation/;
// ...and these mean the gateway (or JobManager) could not reach a peer: worth retrying even inside a
// statement failure.
const PEER_UNREACHABLE = /java\.net\.ConnectException|Connection refused|java\.util\.concurrent\.TimeoutException|RecipientUnreachableException/;

export class FlinkApiError extends Error {
  override readonly name = 'FlinkApiError';
  readonly method: string;
  readonly path: string;
  readonly kind: FlinkErrorKind;
  readonly status: number | undefined;
  /** Flink's own error text, full length (redacted of connector passwords). */
  readonly flinkErrors: readonly string[];
  /** The single most useful line of Flink's text (the deepest "Caused by"), or undefined. */
  readonly rootCause: string | undefined;
  /** For parse failures: which fields of the response were wrong and how. */
  readonly issues: readonly string[];
  /** True when the same call may succeed later: connection failures, timeouts, 5xx, 408/429. */
  readonly transient: boolean;
  /** The thing addressed does not exist (HTTP 404, or the gateway no longer knows the session/operation). */
  readonly notFound: boolean;
  /** The SQL Gateway no longer has this session (idle > 10 min, closed, or the gateway restarted). */
  readonly sessionExpired: boolean;

  constructor(init: FlinkApiErrorInit) {
    // Flink echoes statements back in some errors, and CDC/JDBC DDL carries `'password' = '...'`.
    const flinkErrors = (init.flinkErrors ?? []).map((e) => redact(e));
    const joined = flinkErrors.join('\n');
    const rootCause = flinkErrors.length > 0 ? summarizeJavaTrace(joined) : undefined;
    const sessionExpired = SESSION_GONE.test(joined);
    const operationGone = OPERATION_GONE.test(joined);
    const issues = init.issues ?? [];

    super(
      composeMessage(init, rootCause, issues, sessionExpired),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.method = init.method;
    this.path = init.path;
    this.kind = init.kind;
    this.status = init.status;
    this.flinkErrors = flinkErrors;
    this.rootCause = rootCause;
    this.issues = issues;
    this.sessionExpired = sessionExpired;
    this.notFound = init.status === 404 || sessionExpired || operationGone;
    this.transient = init.transient ?? deriveTransient(init, joined, sessionExpired || operationGone);
  }

  /** Flink's full text (every stack trace), for logs that want all of it. */
  get fullText(): string {
    return this.flinkErrors.join('\n');
  }
}

function deriveTransient(init: FlinkApiErrorInit, flinkText: string, gone: boolean): boolean {
  switch (init.kind) {
    case 'connection':
    case 'timeout':
      return true;
    case 'parse':
    case 'invalid-request':
      return false;
    case 'statement':
      // A SQL error is the statement's fault, unless the gateway could not reach the JobManager.
      return PEER_UNREACHABLE.test(flinkText);
    case 'http': {
      if (gone) return false;
      const s = init.status ?? 0;
      return s >= 500 || s === 408 || s === 429;
    }
  }
}

function composeMessage(
  init: FlinkApiErrorInit,
  rootCause: string | undefined,
  issues: readonly string[],
  sessionExpired: boolean,
): string {
  const call = `${init.method} ${init.path}`;
  const parts: string[] = [];
  if (init.status !== undefined) parts.push(`HTTP ${init.status}`);
  if (sessionExpired) {
    parts.push(
      'the SQL Gateway no longer has this session (idle longer than its timeout, 10 min by default, ' +
        'closed, or the gateway restarted); open a new session',
    );
  }
  if (init.detail) parts.push(init.detail);
  if (rootCause && !sessionExpired) parts.push(rootCause);
  if (issues.length > 0) parts.push(`unexpected response: ${issues.join('; ')}`);
  return parts.length > 0 ? `${call} failed: ${parts.join(': ')}` : `${call} failed`;
}

/**
 * One readable line out of a Java stack trace (or several concatenated): the deepest non-empty
 * "Caused by:" with package names dropped from the exception class, else the first meaningful line.
 * e.g. "SqlValidatorException: Object 'no_such_table' not found".
 */
export function summarizeJavaTrace(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  let best: string | undefined;
  for (const line of lines) {
    if (line.startsWith('Caused by: ')) {
      const msg = line.slice('Caused by: '.length);
      if (msg.length > 0) best = msg;
    }
  }
  if (best === undefined) {
    // The gateway prefixes its traces with these two placeholder lines; skip them.
    best = lines.find(
      (l) => l.length > 0 && l !== 'Internal server error.' && !l.startsWith('<Exception on server side') && !l.startsWith('at '),
    );
  }
  if (best === undefined) return text.slice(0, 200);
  return shortenClassName(best);
}

function shortenClassName(line: string): string {
  // "org.apache.flink.runtime.rest.NotFoundException: Job x not found" -> "NotFoundException: Job x not found"
  return line.replace(/^(?:[a-z_$][\w$]*\.)+([A-Z][\w$]*(?::|$))/, '$1');
}


