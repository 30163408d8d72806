import { FlinkApiError } from '../../../src/flink/errors';
import { FlinkRestClient, newTriggerId } from '../../../src/flink/rest';
import { Fixture, fixture, FixtureServer, Handler, serve } from './fixture-server';

/** Serves fixtures by exact `METHOD path`; anything else is a loud 599. */
function routes(table: Record<string, Fixture | (() => Fixture)>): Handler {
  return (req) => {
    const hit = table[`${req.method} ${req.path}`];
    return typeof hit === 'function' ? hit() : hit;
  };
}

const jobOf = (name: string): string => {
  const path = fixture(name).request.path;
  return (/\/jobs\/([0-9a-f]{32})/.exec(path) as RegExpExecArray)[1] as string;
};

let server: FixtureServer;
let client: FlinkRestClient;

async function start(table: Record<string, Fixture | (() => Fixture)>): Promise<void> {
  server = await serve(routes(table));
  client = new FlinkRestClient(server.baseUrl, { timeoutMs: 2000 });
}

afterEach(async () => {
  await server?.close();
});

describe('reads', () => {
  test('overview and task managers', async () => {
    await start({ 'GET /overview': fixture('overview'), 'GET /taskmanagers': fixture('taskmanagers') });
    const ov = await client.overview();
    expect(ov).toMatchObject({ taskManagers: 1, slotsTotal: 8, flinkVersion: '1.20.3' });
    expect(ov.slotsAvailable).toBeLessThanOrEqual(ov.slotsTotal);
    const tms = await client.taskManagers();
    expect(tms).toHaveLength(1);
    expect(tms[0]).toMatchObject({ slotsTotal: 8 });
    expect(tms[0]?.lastHeartbeatAt).toBeGreaterThan(1_600_000_000_000); // an epoch, not a duration
  });

  test('findJobsByName returns every job with exactly that name, newest first', async () => {
    await start({ 'GET /jobs/overview': fixture('jobs-overview') });
    const all = await client.jobsOverview();
    const found = await client.findJobsByName('gridflow/fixture/a');
    const expected = all.filter((j) => j.name === 'gridflow/fixture/a');
    expect(found.length).toBe(expected.length);
    expect(found.length).toBeGreaterThanOrEqual(2); // the recorder submits the name twice
    expect(found.map((j) => j.startTime)).toEqual([...found.map((j) => j.startTime)].sort((a, b) => b - a));
    expect(found.filter((j) => j.state === 'RUNNING').length).toBeGreaterThanOrEqual(2);
    expect(found.find((j) => j.state === 'RUNNING')?.endTime).toBeNull();
    expect(await client.findJobsByName('gridflow/fixture')).toEqual([]); // exact, not prefix
  });

  test('job detail in running, stopped and failed states', async () => {
    const running = jobOf('job-running');
    const stopped = jobOf('job-stopped');
    const failed = jobOf('job-failed');
    await start({
      [`GET /jobs/${running}`]: fixture('job-running'),
      [`GET /jobs/${stopped}`]: fixture('job-stopped'),
      [`GET /jobs/${failed}`]: fixture('job-failed'),
    });
    expect(await client.job(running)).toMatchObject({ jid: running, name: 'gridflow/fixture/a', state: 'RUNNING', jobType: 'STREAMING', endTime: null });
    expect((await client.job(stopped)).state).toBe('FINISHED'); // stop-with-savepoint ends FINISHED
    const f = await client.job(failed);
    expect(f.state).toBe('FAILED');
    expect(f.stateTimestamps.FAILED).toBeGreaterThan(0);
    expect(f.vertices.length).toBeGreaterThan(0);
  });

  test('exceptions: none, and a failure summarized to its root cause', async () => {
    const running = jobOf('job-exceptions-none');
    const failed = jobOf('job-exceptions-failed');
    await start({
      [`GET /jobs/${running}/exceptions`]: fixture('job-exceptions-none'),
      [`GET /jobs/${failed}/exceptions`]: fixture('job-exceptions-failed'),
    });
    expect(await client.jobExceptions(running)).toMatchObject({ rootException: null, rootCause: null, history: [] });
    const ex = await client.jobExceptions(failed);
    expect(ex.rootCause).toMatch(/^NumberFormatException: For input string/);
    expect(ex.rootException).toContain('\tat '); // the full trace is still there
    expect(ex.history[0]?.rootCause).toMatch(/NumberFormatException/);
  });

  test('checkpoints: latest completed, savepoint, failed and restored', async () => {
    const a = jobOf('checkpoints');
    const b = jobOf('checkpoints-restored');
    await start({
      [`GET /jobs/${a}/checkpoints`]: fixture('checkpoints'),
      [`GET /jobs/${b}/checkpoints`]: fixture('checkpoints-restored'),
      [`GET /jobs/${a}/checkpoints/config`]: fixture('checkpoint-config'),
    });
    const cp = await client.checkpoints(a);
    expect(cp.counts.completed).toBeGreaterThan(0);
    expect(cp.counts.failed).toBe(1);
    expect(cp.latest.completed?.externalPath).toMatch(/^file:\/tmp\/st\/ckpt\/[0-9a-f]{32}\/chk-\d+$/);
    expect(cp.latest.savepoint).toMatchObject({ isSavepoint: true, status: 'COMPLETED', savepointFormat: 'CANONICAL' });
    expect(cp.latest.savepoint?.externalPath).toMatch(/^file:\/tmp\/st\/sp\/savepoint-/);
    expect(cp.latest.failed).toMatchObject({ status: 'FAILED', isSavepoint: true });
    expect(cp.latest.failed?.failureMessage).toMatch(/IO-problem/);
    expect(cp.history.some((h) => h.status === 'FAILED')).toBe(true);

    const restored = await client.checkpoints(b);
    expect(restored.latest.restored).toMatchObject({ isSavepoint: true });
    expect(restored.latest.restored?.externalPath).toBe(cp.latest.savepoint?.externalPath);

    expect(await client.checkpointConfig(a)).toMatchObject({ intervalMs: 2000, retainedOnCancellation: true });
  });

  test('checkpointing off: Long.MAX_VALUE interval reads as null', async () => {
    const body = { ...(fixture('checkpoint-config').body as Record<string, unknown>) };
    // Flink sends 9223372036854775807; JSON.parse makes it 2^63, which is what the client sees.
    await start({ 'GET /jobs/abc/checkpoints/config': { ...fixture('checkpoint-config'), body: { ...body, interval: 2 ** 63 } } });
    expect((await client.checkpointConfig('abc')).intervalMs).toBeNull();
  });
});

describe('savepoints and stop', () => {
  test('triggerSavepoint sends the kebab-case body with our triggerId and returns it', async () => {
    const rec = fixture('savepoint-trigger');
    const job = jobOf('savepoint-trigger');
    const triggerId = (rec.request.body as { triggerId: string }).triggerId;
    await start({ [`POST /jobs/${job}/savepoints`]: rec });
    const res = await client.triggerSavepoint(job, { targetDirectory: 'file:///tmp/st/sp', formatType: 'CANONICAL', triggerId });
    expect(res).toEqual({ triggerId });
    expect(server.requests[0]?.body).toEqual({ 'target-directory': 'file:///tmp/st/sp', 'cancel-job': false, formatType: 'CANONICAL', triggerId });
    expect(server.requests[0]?.body).toEqual(rec.request.body); // exactly what the real cluster accepted
  });

  test('a retried trigger with the same triggerId is acknowledged, not a new operation', async () => {
    const job = jobOf('savepoint-trigger');
    const replies = [fixture('savepoint-trigger'), fixture('savepoint-trigger-repeat'), fixture('savepoint-trigger-after-completed')];
    await start({ [`POST /jobs/${job}/savepoints`]: () => replies.shift() as Fixture });
    const triggerId = (fixture('savepoint-trigger').request.body as { triggerId: string }).triggerId;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.triggerSavepoint(job, { triggerId })).triggerId);
    expect(new Set(ids)).toEqual(new Set([triggerId]));
    expect(server.requests.map((r) => (r.body as { triggerId: string }).triggerId)).toEqual([triggerId, triggerId, triggerId]);
  });

  test('without a triggerId, one is generated (32 hex) and sent', async () => {
    server = await serve((req) => ({ status: 202, body: { 'request-id': (req.body as { triggerId: string }).triggerId } }));
    client = new FlinkRestClient(server.baseUrl);
    const { triggerId } = await client.triggerSavepoint('j1');
    expect(triggerId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.requests[0]?.body).toEqual({ 'cancel-job': false, triggerId });
    expect(newTriggerId()).not.toBe(newTriggerId());
  });

  test('a malformed triggerId is refused before anything is sent', async () => {
    await start({});
    const err = await client.triggerSavepoint('j1', { triggerId: 'NOT-HEX' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ kind: 'invalid-request', transient: false });
    expect((err as Error).message).toMatch(/^POST \/jobs\/j1\/savepoints failed: .*32 lowercase hex/);
    expect(server.requests).toHaveLength(0);
  });

  test('a request-id that is not our triggerId is an error (idempotent retries would break)', async () => {
    await start({ 'POST /jobs/j1/stop': { ...fixture('stop-trigger'), body: { 'request-id': 'ffffffffffffffffffffffffffffffff' } } });
    await expect(client.stopWithSavepoint('j1', { triggerId: newTriggerId() })).rejects.toMatchObject({ kind: 'parse', issues: [expect.stringMatching(/^request-id:/)] });
  });

  test('stopWithSavepoint sends the camelCase body', async () => {
    const rec = fixture('stop-trigger');
    const job = jobOf('stop-trigger');
    const body = rec.request.body as { targetDirectory: string; triggerId: string };
    await start({ [`POST /jobs/${job}/stop`]: rec });
    const res = await client.stopWithSavepoint(job, { targetDirectory: body.targetDirectory, drain: false, formatType: 'CANONICAL', triggerId: body.triggerId });
    expect(res.triggerId).toBe(body.triggerId);
    expect(server.requests[0]?.body).toEqual(rec.request.body);
    expect(Object.keys(server.requests[0]?.body as object)).toEqual(['targetDirectory', 'drain', 'formatType', 'triggerId']);
  });

  test('savepointStatus: IN_PROGRESS, COMPLETED with location, FAILED with a readable cause', async () => {
    const job = jobOf('savepoint-status-completed');
    const t = (name: string) => fixture(name).request.path.split('/').pop() as string;
    expect(t('savepoint-status-in-progress')).toBe(t('savepoint-status-completed'));
    const sequence = [fixture('savepoint-status-in-progress')];
    await start({
      // The recorder polled one trigger: IN_PROGRESS first, then COMPLETED.
      [`GET /jobs/${job}/savepoints/${t('savepoint-status-completed')}`]: () => sequence.shift() ?? fixture('savepoint-status-completed'),
      [`GET /jobs/${job}/savepoints/${t('savepoint-status-failed')}`]: fixture('savepoint-status-failed'),
      [`GET ${fixture('savepoint-status-job-not-found').request.path}`]: fixture('savepoint-status-job-not-found'),
      [`GET ${fixture('stop-status-completed').request.path}`]: fixture('stop-status-completed'),
    });
    expect(await client.savepointStatus(job, t('savepoint-status-in-progress'))).toEqual({ state: 'IN_PROGRESS' });

    const done = await client.savepointStatus(job, t('savepoint-status-completed'));
    expect(done).toEqual({ state: 'COMPLETED', location: expect.stringMatching(/^file:\/tmp\/st\/sp\/savepoint-/) });

    const failed = await client.savepointStatus(job, t('savepoint-status-failed'));
    expect(failed.state).toBe('FAILED');
    if (failed.state !== 'FAILED') throw new Error('unreachable');
    expect(failed.failureCause).toBe('IOException: Failed to create savepoint directory at file:/proc/gridflow-no-such-dir');
    expect(failed.jobNotFound).toBe(false);

    const ghost = fixture('savepoint-status-job-not-found').request.path.split('/');
    const gone = await client.savepointStatus(ghost[2] as string, ghost[4] as string);
    expect(gone).toMatchObject({ state: 'FAILED', jobNotFound: true });

    const stop = fixture('stop-status-completed').request.path.split('/');
    expect(await client.savepointStatus(stop[2] as string, stop[4] as string)).toEqual({
      state: 'COMPLETED',
      location: expect.stringContaining('/gridflow-fixture-stop/'), // the camelCase targetDirectory was honoured
    });
  });
});

describe('errors and cancel', () => {
  test('unknown job id: 404, notFound, permanent, message names the call and the cause', async () => {
    const rec = fixture('error-job-not-found');
    await start({ [`GET ${rec.request.path}`]: rec, [`GET ${rec.request.path}/checkpoints`]: rec });
    const err = await client.job('00000000000000000000000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    const e = err as FlinkApiError;
    expect(e).toMatchObject({ status: 404, notFound: true, transient: false, kind: 'http', method: 'GET', path: '/jobs/00000000000000000000000000000000' });
    expect(e.message).toBe(
      'GET /jobs/00000000000000000000000000000000 failed: HTTP 404: FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)',
    );
    expect(e.fullText).toContain('\tat org.apache.flink'); // the whole trace stays available
    await expect(client.checkpoints('00000000000000000000000000000000')).rejects.toMatchObject({ notFound: true });
  });

  test('unknown trigger id and malformed ids are permanent 4xx', async () => {
    const unknown = fixture('error-unknown-trigger');
    const bad = fixture('error-bad-job-id');
    await start({ [`GET ${unknown.request.path}`]: unknown, [`GET ${bad.request.path}`]: bad });
    const u = unknown.request.path.split('/');
    await expect(client.savepointStatus(u[2] as string, u[4] as string)).rejects.toMatchObject({
      status: 404,
      notFound: true,
      rootCause: expect.stringMatching(/^RestHandlerException: There is no savepoint operation with triggerId=/),
    });
    await expect(client.job('not-a-job-id')).rejects.toMatchObject({ status: 400, transient: false, notFound: false });
  });

  test('cancel: accepted, already canceled, already failed (409), unknown (404)', async () => {
    const accepted = fixture('cancel-accepted');
    const failed = fixture('cancel-already-failed');
    const unknown = fixture('error-cancel-unknown-job');
    const replies = [accepted, fixture('cancel-already-canceled')];
    await start({
      [`PATCH ${accepted.request.path}`]: () => replies.shift() as Fixture,
      [`PATCH ${failed.request.path}`]: failed,
      [`PATCH ${unknown.request.path}`]: unknown,
    });
    const id = (p: string) => (/\/jobs\/([0-9a-f]{32})/.exec(p) as RegExpExecArray)[1] as string;
    expect(await client.cancel(id(accepted.request.path))).toBe('cancelling');
    expect(await client.cancel(id(accepted.request.path))).toBe('cancelling');
    expect(server.requests[0]).toMatchObject({ method: 'PATCH', path: accepted.request.path });
    expect(await client.cancel(id(failed.request.path))).toBe('already-terminal');
    await expect(client.cancel(id(unknown.request.path))).rejects.toMatchObject({ status: 404, notFound: true });
  });
});
