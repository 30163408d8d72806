import { FlinkApiError, summarizeJavaTrace } from '../../../src/flink/errors';
import { redact as redactSecrets } from '../../../src/core/redact';
import { fixture } from './fixture-server';

const errorsOf = (name: string): string[] => (fixture(name).body as { errors: string[] }).errors;

describe('summarizeJavaTrace picks the readable root cause out of real Flink traces', () => {
  test.each([
    ['error-job-not-found', 'FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)'],
    ['error-bad-job-id', 'HandlerRequestException: Cannot resolve path parameter (jobid) from value "not-a-job-id".'],
    ['gateway-error-statement-result', "SqlValidatorException: Object 'no_such_table' not found"],
    ['gateway-error-multiple-statements', 'IllegalArgumentException: only single statement supported'],
    ['gateway-error-session-not-found', "SqlGatewayException: Session '7d0e3b0c-0000-4000-8000-000000000000' does not exist."],
  ])('%s', (name, expected) => {
    expect(summarizeJavaTrace(errorsOf(name).join('\n'))).toBe(expected);
  });

  test('a single-line message stays as it is', () => {
    expect(summarizeJavaTrace('Unable to load requested file /nope.')).toBe('Unable to load requested file /nope.');
  });
});

describe('FlinkApiError classification', () => {
  const base = { method: 'POST', path: '/v2/sessions/s/statements' };

  test('gateway "session does not exist" is HTTP 500 but permanent, and says what to do', () => {
    const e = new FlinkApiError({ ...base, kind: 'http', status: 500, flinkErrors: errorsOf('gateway-error-session-not-found') });
    expect(e).toMatchObject({ sessionExpired: true, notFound: true, transient: false });
    expect(e.message).toMatch(/^POST \/v2\/sessions\/s\/statements failed: HTTP 500: the SQL Gateway no longer has this session .*open a new session$/);
  });

  test('gateway "operation not found" is permanent', () => {
    const e = new FlinkApiError({ ...base, kind: 'http', status: 500, flinkErrors: errorsOf('gateway-error-operation-not-found') });
    expect(e).toMatchObject({ sessionExpired: false, notFound: true, transient: false });
  });

  test('other gateway 500s stay transient', () => {
    const e = new FlinkApiError({ ...base, kind: 'http', status: 500, flinkErrors: errorsOf('gateway-error-cancel-finished') });
    expect(e.transient).toBe(true);
  });

  test('a statement error is permanent unless the gateway could not reach the JobManager', () => {
    const sqlError = new FlinkApiError({ ...base, kind: 'statement', flinkErrors: errorsOf('gateway-error-statement-result') });
    expect(sqlError.transient).toBe(false);
    const unreachable = new FlinkApiError({
      ...base,
      kind: 'statement',
      flinkErrors: ['org.apache.flink.table.api.TableException: Failed to execute sql\nCaused by: java.net.ConnectException: Connection refused'],
    });
    expect(unreachable.transient).toBe(true);
  });

  test('keeps cause and is an Error', () => {
    const cause = new Error('socket');
    const e = new FlinkApiError({ method: 'GET', path: '/overview', kind: 'connection', detail: 'ECONNRESET', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('FlinkApiError');
    expect(e.message).toBe('GET /overview failed: ECONNRESET');
  });
});

describe('redactSecrets', () => {
  test('blanks connector secrets in echoed statements, leaves the rest', () => {
    const sql = "CREATE TABLE src (id INT) WITH ('connector'='postgres-cdc', 'password' = 'p@ss''word', 'username'='gf', 'debezium.database.password'='x')";
    expect(redactSecrets(sql)).toBe(
      "CREATE TABLE src (id INT) WITH ('connector'='postgres-cdc', 'password' = '***', 'username'='gf', 'debezium.database.password'='***')",
    );
  });

  test('applies to the error text kept on FlinkApiError', () => {
    const e = new FlinkApiError({
      method: 'POST',
      path: '/v2/sessions/s/configure-session',
      kind: 'http',
      status: 500,
      flinkErrors: ["Caused by: java.lang.UnsupportedOperationException: Unsupported statement for configuring session:CREATE TABLE t WITH ('password'='hunter2')"],
    });
    expect(e.fullText).not.toContain('hunter2');
    expect(e.message).not.toContain('hunter2');
  });
});
