import { z } from 'zod';

import { FlinkApiError } from '../../../src/flink/errors';
import { endpoint, FlinkHttp } from '../../../src/flink/http';
import { FlinkRestClient } from '../../../src/flink/rest';
import { closedPort, fixture, FixtureServer, Handler, serve } from './fixture-server';

let server: FixtureServer | undefined;

async function start(handler: Handler, timeoutMs = 2000): Promise<FlinkHttp> {
  server = await serve(handler);
  return new FlinkHttp(server.baseUrl, { timeoutMs });
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const point = z.object({ x: z.number(), y: z.object({ z: z.string() }) });
const getPoint = endpoint('GET', '/points/:id', point);

async function failure(p: Promise<unknown>): Promise<FlinkApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FlinkApiError)) throw new Error(`expected FlinkApiError, got ${String(err)}`);
  return err;
}

test('validates a 2xx body and returns the parsed value', async () => {
  const http = await start(() => ({ status: 200, body: { x: 1, y: { z: 'a' }, extra: true } }));
  await expect(http.call(getPoint, { id: '7' })).resolves.toEqual({ x: 1, y: { z: 'a' } });
  expect(server?.requests[0]).toMatchObject({ method: 'GET', path: '/points/7' });
});

test('path parameters are URI-encoded, so an id cannot walk to another endpoint', async () => {
  const http = await start(() => ({ status: 200, body: { x: 1, y: { z: 'a' } } }));
  await http.call(getPoint, { id: '../jobs/x?mode=cancel' });
  expect(server?.requests[0]?.path).toBe('/points/..%2Fjobs%2Fx%3Fmode%3Dcancel');
});

test('a wrong shape names METHOD /path, the status and the zod path of each problem', async () => {
  const http = await start(() => ({ status: 200, body: { x: 'one', y: { z: 2 } } }));
  const err = await failure(http.call(getPoint, { id: '7' }));
  expect(err).toMatchObject({ kind: 'parse', status: 200, transient: false, method: 'GET', path: '/points/7' });
  expect(err.issues).toEqual(['x: Expected number, received string', 'y.z: Expected string, received number']);
  expect(err.message).toBe(
    'GET /points/7 failed: HTTP 200: unexpected response: x: Expected number, received string; y.z: Expected string, received number',
  );
  expect(err.cause).toBeInstanceOf(z.ZodError);
});

test('a recorded Flink response with a field changed fails on that field', async () => {
  const ov = fixture('overview');
  server = await serve(() => ({ ...ov, body: { ...(ov.body as object), 'slots-total': '8' } }));
  const err = await failure(new FlinkRestClient(server.baseUrl).overview());
  expect(err.message).toBe('GET /overview failed: HTTP 200: unexpected response: slots-total: Expected number, received string');
});

test('a body that is not JSON is a parse failure that shows its start', async () => {
  const http = await start(() => ({ status: 200, text: '<html>proxy says hi</html>' }));
  const err = await failure(http.call(getPoint, { id: '1' }));
  expect(err).toMatchObject({ kind: 'parse', transient: false });
  expect(err.message).toBe('GET /points/1 failed: HTTP 200: unexpected response: body is not JSON: "<html>proxy says hi</html>"');
});

test('4xx is permanent and carries Flink\'s errors', async () => {
  const rec = fixture('error-bad-trigger-id');
  const http = await start(() => rec);
  const err = await failure(http.request('POST', '/jobs/x/savepoints', { triggerId: 'nope' }, z.unknown()));
  expect(err).toMatchObject({ kind: 'http', status: 400, transient: false, notFound: false });
  expect(err.rootCause).toBe('NumberFormatException: For input string: "no" under radix 16');
  expect(err.flinkErrors).toEqual((rec.body as { errors: string[] }).errors);
});

test('5xx is transient; 408 and 429 too', async () => {
  let status = 503;
  const http = await start(() => ({ status, body: { errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'] } }));
  const e503 = await failure(http.call(getPoint, { id: '1' }));
  expect(e503).toMatchObject({ kind: 'http', status: 503, transient: true });
  expect(e503.message).toBe('GET /points/1 failed: HTTP 503: Service temporarily unavailable due to an ongoing leader election. Please refresh.');
  status = 429;
  expect((await failure(http.call(getPoint, { id: '1' }))).transient).toBe(true);
  status = 409;
  expect((await failure(http.call(getPoint, { id: '1' }))).transient).toBe(false);
});

test('an error body that is not Flink\'s envelope is shown, briefly', async () => {
  const http = await start(() => ({ status: 502, text: 'Bad Gateway' }));
  const err = await failure(http.call(getPoint, { id: '1' }));
  expect(err).toMatchObject({ status: 502, transient: true, flinkErrors: [] });
  expect(err.message).toBe('GET /points/1 failed: HTTP 502: body: "Bad Gateway"');
});

test('connection refused is transient and names the call', async () => {
  const port = await closedPort();
  const http = new FlinkHttp(`http://127.0.0.1:${port}`, { timeoutMs: 2000 });
  const err = await failure(http.call(getPoint, { id: '1' }));
  expect(err).toMatchObject({ kind: 'connection', transient: true, status: undefined, method: 'GET', path: '/points/1' });
  expect(err.message).toMatch(/^GET \/points\/1 failed: ECONNREFUSED/);
  // The cause is the socket error, not the AxiosError with its request config (and body).
  expect(err.cause).toBeInstanceOf(Error);
  expect((err.cause as { config?: unknown }).config).toBeUndefined();
});

test('a server that never answers hits the timeout, transient', async () => {
  const http = await start(() => ({ status: 0, hang: true }), 150);
  const started = Date.now();
  const err = await failure(http.request('POST', '/v2/sessions/s/statements', { statement: "CREATE TABLE t WITH ('password'='hunter2')" }, z.unknown()));
  expect(Date.now() - started).toBeLessThan(1500);
  expect(err).toMatchObject({ kind: 'timeout', transient: true });
  expect(err.message).toMatch(/^POST \/v2\/sessions\/s\/statements failed: ETIMEDOUT/);
  expect(JSON.stringify(err)).not.toContain('hunter2');
  expect(err.message).not.toContain('hunter2');
});

test('a trailing slash on the base URL does not double up', async () => {
  server = await serve(() => ({ status: 200, body: { x: 1, y: { z: 'a' } } }));
  await new FlinkHttp(server.baseUrl + '/').call(getPoint, { id: '1' });
  expect(server.requests[0]?.path).toBe('/points/1');
});
