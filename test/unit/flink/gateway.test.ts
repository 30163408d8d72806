import { FlinkApiError } from '../../../src/flink/errors';
import { SqlGatewayClient } from '../../../src/flink/gateway';
import { Fixture, fixture, FixtureServer, Reply, serve } from './fixture-server';

const SESSION = (fixture('gateway-open-session').body as { sessionHandle: string }).sessionHandle;

/** One scripted operation: statuses in order (the last repeats) and result pages by token. */
interface ScriptedOp {
  statuses: string[];
  page: (token: number) => Fixture | Reply;
}

/**
 * A fake gateway built from recorded responses. Operations are handed out in order on
 * POST .../statements; result pages get their nextResultUri re-pointed at the current operation.
 */
async function fakeGateway(ops: ScriptedOp[]): Promise<{ server: FixtureServer; closed: string[]; handles: string[] }> {
  const handles = ops.map((_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const byHandle = new Map(handles.map((h, i) => [h, ops[i] as ScriptedOp]));
  let next = 0;
  const closed: string[] = [];
  const server = await serve((req) => {
    if (req.method === 'POST' && req.path === '/v2/sessions') return fixture('gateway-open-session');
    if (req.method === 'POST' && req.path === `/v2/sessions/${SESSION}/statements`) {
      return { status: 200, body: { operationHandle: handles[next++] } };
    }
    const m = /^\/v2\/sessions\/([^/]+)\/operations\/([^/]+)\/(status|result\/(\d+)\?rowFormat=JSON|close)$/.exec(req.path);
    const op = m ? byHandle.get(m[2] as string) : undefined;
    if (!m || !op || m[1] !== SESSION) return undefined;
    if (m[3] === 'status') {
      const status = op.statuses.length > 1 ? op.statuses.shift() : op.statuses[0];
      return { status: 200, body: { status } };
    }
    if (m[3] === 'close') {
      closed.push(m[2] as string);
      return fixture('gateway-close-operation');
    }
    return retarget(op.page(Number(m[4])), m[2] as string, Number(m[4]));
  });
  return { server, closed, handles };
}

/**
 * Points a recorded page's nextResultUri at the operation and token being served: the same token
 * again for NOT_READY, the next one otherwise (as the real gateway does).
 */
function retarget(reply: Fixture | Reply, operation: string, token: number): Fixture | Reply {
  const body = reply.body as { nextResultUri?: string; resultType?: string } | undefined;
  if (!body?.nextResultUri) return reply;
  const nextToken = body.resultType === 'NOT_READY' ? token : token + 1;
  const nextResultUri = `/v2/sessions/${SESSION}/operations/${operation}/result/${nextToken}?rowFormat=JSON`;
  const rawBody = 'rawBody' in reply && reply.rawBody ? reply.rawBody.replace(body.nextResultUri, nextResultUri) : undefined;
  return { ...reply, body: { ...body, nextResultUri }, ...(rawBody ? { rawBody } : {}) };
}

/** Pages by token from a list; past the end, the last one. */
const pages =
  (...names: string[]) =>
  (token: number): Fixture =>
    fixture(names[Math.min(token, names.length - 1)] as string);

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function clientFor(s: FixtureServer): SqlGatewayClient {
  return new SqlGatewayClient(s.baseUrl, { timeoutMs: 2000, pollIntervalMs: 5 });
}

describe('sessions', () => {
  test('openSession sends properties and name, returns the handle', async () => {
    const g = await fakeGateway([]);
    server = g.server;
    const handle = await clientFor(server).openSession({ 'table.local-time-zone': 'UTC' }, 'gridflow');
    expect(handle).toBe(SESSION);
    expect(server.requests[0]?.body).toEqual({ properties: { 'table.local-time-zone': 'UTC' }, sessionName: 'gridflow' });
  });

  test('an expired session gives a clear, permanent error; closing it again is fine', async () => {
    server = await serve((req) => {
      if (req.path.endsWith('/heartbeat')) return fixture('gateway-error-heartbeat-session-not-found');
      if (req.method === 'DELETE') return fixture('gateway-error-session-closed-twice');
      if (req.path.endsWith('/statements')) return fixture('gateway-error-session-not-found');
      return undefined;
    });
    const gw = clientFor(server);
    const gone = '7d0e3b0c-0000-4000-8000-000000000000';
    const err = await gw.heartbeat(gone).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ sessionExpired: true, transient: false, status: 500 });
    expect((err as Error).message).toMatch(/^POST \/v2\/sessions\/7d0e3b0c-[^ ]+\/heartbeat failed: HTTP 500: the SQL Gateway no longer has this session/);
    await expect(gw.runStatement(gone, 'SELECT 1')).rejects.toMatchObject({ sessionExpired: true });
    await expect(gw.closeSession(gone)).resolves.toBeUndefined();
  });

  test('configureSession refusing a statement surfaces the gateway text', async () => {
    server = await serve(() => fixture('gateway-error-configure-session'));
    const err = await clientFor(server).configureSession(SESSION, 'INSERT INTO snk SELECT * FROM src').catch((e: unknown) => e);
    expect((err as FlinkApiError).rootCause).toBe('UnsupportedOperationException: Unsupported statement for configuring session:INSERT INTO snk SELECT * FROM src');
  });
});

describe('runStatement / submitDml', () => {
  test('DDL: waits for FINISHED, reads PAYLOAD then EOS, closes the operation', async () => {
    const g = await fakeGateway([{ statuses: ['RUNNING', 'FINISHED'], page: pages('gateway-result-ddl-payload', 'gateway-result-ddl-eos') }]);
    server = g.server;
    const res = await clientFor(server).runStatement(SESSION, 'CREATE TEMPORARY TABLE t (id INT)');
    expect(res.jobId).toBeNull();
    expect(res.columns.map((c) => c.name)).toEqual(['result']);
    expect(res.rows).toEqual([{ kind: 'INSERT', fields: ['OK'] }]);
    expect(g.closed).toEqual([g.handles[0]]);
  });

  test('submitDml returns the job id and sends executionConfig with the statement', async () => {
    const g = await fakeGateway([{ statuses: ['RUNNING', 'FINISHED'], page: pages('gateway-result-insert-payload', 'gateway-result-insert-eos') }]);
    server = g.server;
    const config = { 'pipeline.name': 'gridflow/p/j', 'execution.state-recovery.path': 'file:/tmp/st/sp/savepoint-1' };
    const jobId = await clientFor(server).submitDml(SESSION, 'INSERT INTO snk SELECT * FROM src', config);
    expect(jobId).toBe((fixture('gateway-result-insert-payload').body as { jobID: string }).jobID);
    expect(server.requests.find((r) => r.path.endsWith('/statements'))?.body).toEqual({ statement: 'INSERT INTO snk SELECT * FROM src', executionConfig: config });
  });

  test('a STATEMENT SET yields one job id', async () => {
    const g = await fakeGateway([{ statuses: ['FINISHED'], page: pages('gateway-result-statement-set', 'gateway-result-statement-set-eos') }]);
    server = g.server;
    const sql = 'EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT * FROM s; INSERT INTO b SELECT * FROM s; END';
    const jobId = await clientFor(server).submitDml(SESSION, sql, { 'pipeline.name': 'gridflow/p/set' });
    expect(jobId).toBe((fixture('gateway-result-statement-set').body as { jobID: string }).jobID);
  });

  test('submitDml of a statement that starts no job is an error', async () => {
    const g = await fakeGateway([{ statuses: ['FINISHED'], page: pages('gateway-result-ddl-payload', 'gateway-result-ddl-eos') }]);
    server = g.server;
    await expect(clientFor(server).submitDml(SESSION, 'CREATE TABLE x (a INT)', {})).rejects.toMatchObject({
      kind: 'statement',
      transient: false,
      message: expect.stringMatching(/finished without submitting a job/),
    });
  });

  test('a failed statement throws the gateway\'s error text, permanent', async () => {
    const g = await fakeGateway([{ statuses: ['RUNNING', 'ERROR'], page: () => fixture('gateway-error-statement-result') }]);
    server = g.server;
    const err = await clientFor(server).runStatement(SESSION, 'SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    const e = err as FlinkApiError;
    expect(e).toMatchObject({ kind: 'statement', transient: false, rootCause: "SqlValidatorException: Object 'no_such_table' not found" });
    expect(e.message).toBe(
      `POST /v2/sessions/${SESSION}/statements failed: statement "SELECT * FROM no_such_table" failed: SqlValidatorException: Object 'no_such_table' not found`,
    );
    expect(e.fullText).toContain("From line 1, column 15 to line 1, column 27: Object 'no_such_table' not found");
    expect(g.closed).toEqual([g.handles[0]]);
  });

  test('a statement that never finishes times out (transient) and is closed', async () => {
    const g = await fakeGateway([{ statuses: ['RUNNING'], page: () => fixture('gateway-result-not-ready') }]);
    server = g.server;
    const started = Date.now();
    const err = await clientFor(server).runStatement(SESSION, "CREATE TABLE t WITH ('password'='hunter2')", { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err).toMatchObject({ kind: 'timeout', transient: true });
    expect((err as Error).message).toBe(
      `POST /v2/sessions/${SESSION}/statements failed: statement "CREATE TABLE t WITH ('password'='***')" did not finish within 200 ms`,
    );
    expect(g.closed).toEqual([g.handles[0]]);
  });
});

describe('query', () => {
  test('a bounded query pages through NOT_READY and empty PAYLOADs to EOS', async () => {
    let notReadyOnce = true;
    const g = await fakeGateway([
      {
        statuses: ['FINISHED'],
        page: (token) =>
          token === 0 && notReadyOnce
            ? ((notReadyOnce = false), fixture('gateway-result-not-ready'))
            : pages('gateway-query-values-empty', 'gateway-query-values-empty', 'gateway-query-values-rows', 'gateway-query-values-eos')(token),
      },
    ]);
    server = g.server;
    const res = await clientFor(server).query(SESSION, 'SELECT * FROM (VALUES ...)');
    expect(res.end).toBe('eos');
    expect(res.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['id:INTEGER', 'v:CHAR', 'ts:TIMESTAMP_WITHOUT_TIME_ZONE', 'd:DECIMAL', 'n:VARCHAR']);
    expect(res.rows).toEqual([
      { kind: 'INSERT', fields: [1, 'a', '2024-01-02T03:04:05.123', 1.5, null] },
      { kind: 'INSERT', fields: [2, 'b', '2024-01-02T03:04:06', 2.25, 'x'] },
    ]);
    // Paged by following nextResultUri: the NOT_READY token again, then 1, 2, 3.
    const tokens = server.requests.filter((r) => r.path.includes('/result/')).map((r) => /result\/(\d+)/.exec(r.path)?.[1]);
    expect(tokens).toEqual(['0', '0', '1', '2', '3']);
    expect(g.closed).toEqual([g.handles[0]]);
  });

  test('stops at maxRows, closes the operation (which cancels a streaming job), BIGINTs exact', async () => {
    const g = await fakeGateway([{ statuses: ['FINISHED'], page: () => fixture('gateway-query-stream-payload') }]);
    server = g.server;
    const res = await clientFor(server).query(SESSION, 'SELECT id, v FROM src', { maxRows: 7 });
    expect(res.end).toBe('max-rows');
    expect(res.rows).toHaveLength(7);
    expect(server.requests.filter((r) => r.path.includes('/result/'))).toHaveLength(2); // 5 rows a page: stop after the 2nd
    expect(res.jobId).toBe((fixture('gateway-query-stream-payload').body as { jobID: string }).jobID);
    const firstRawId = /"fields":\[(-?\d+),/.exec(fixture('gateway-query-stream-payload').rawBody as string)?.[1];
    expect(res.rows[0]?.fields[0]).toBe(firstRawId);
    expect(g.closed).toEqual([g.handles[0]]);
  });

  test('returns what it has when time runs out instead of hanging', async () => {
    const g = await fakeGateway([{ statuses: ['FINISHED'], page: () => fixture('gateway-query-values-empty') }]);
    server = g.server;
    const started = Date.now();
    const res = await clientFor(server).query(SESSION, 'SELECT count(*) FROM t', { timeoutMs: 250 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res).toMatchObject({ end: 'timeout', rows: [] });
    // It waits between empty pages (backing off), rather than spinning on the gateway.
    expect(server.requests.filter((r) => r.path.includes('/result/')).length).toBeLessThan(15);
    expect(res.columns).toHaveLength(5);
    expect(g.closed).toEqual([g.handles[0]]);
  });

  test('a query in ERROR throws the statement error, not a generic 500', async () => {
    const g = await fakeGateway([{ statuses: ['ERROR'], page: () => fixture('gateway-error-statement-result') }]);
    server = g.server;
    await expect(clientFor(server).query(SESSION, 'SELECT * FROM no_such_table')).rejects.toMatchObject({
      kind: 'statement',
      transient: false,
      rootCause: "SqlValidatorException: Object 'no_such_table' not found",
    });
  });

  test('a nextResultUri for another operation is refused', async () => {
    const g = await fakeGateway([{ statuses: ['FINISHED'], page: () => fixture('gateway-query-values-empty') }]);
    server = g.server;
    const gw = clientFor(server);
    await expect(gw.fetchResultsAt(SESSION, g.handles[0] as string, '/v2/sessions/x/operations/y/result/1?rowFormat=JSON')).rejects.toMatchObject({
      kind: 'invalid-request',
    });
    await expect(gw.fetchResultsAt(SESSION, g.handles[0] as string, `/v2/sessions/${SESSION}/operations/${g.handles[0]}/../../../jobs`)).rejects.toMatchObject({
      kind: 'invalid-request',
    });
  });

  test('the operation vanished (gateway restarted): notFound, permanent', async () => {
    server = await serve(() => fixture('gateway-error-operation-not-found'));
    await expect(clientFor(server).operationStatus(SESSION, '7d0e3b0c-0000-4000-8000-000000000000')).rejects.toMatchObject({
      notFound: true,
      transient: false,
      sessionExpired: false,
    });
  });
});
