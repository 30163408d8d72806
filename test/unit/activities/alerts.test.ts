/** The alerts activities with their dependencies faked at the edges: what a status becomes, how a POST is signed and judged. */
import * as http from 'node:http';
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { AlertDeps, createAlertActivities } from '../../../src/activities/alerts';
import { testNotification } from '../../../src/core/alerts';
import { parseSpec } from '../../../src/core/spec';
import type { PipelineStatus } from '../../../src/core/state';
import { parseConnectionUrl } from '../../../src/config';
import { freePort } from '../../support/net';
import { testSpec } from '../../workflows/doubles';

const spec = parseSpec(testSpec({ name: 'east', alerts: { webhooks: [{ name: 'ops', format: 'dingtalk' }] } }));
const status: PipelineStatus = {
  pipeline: 'east',
  version: 3,
  state: 'DEGRADED',
  reason: 'falling behind: 45 s',
  jobs: [],
  lastVerification: { runId: 'r9', at: 5, ok: false, freshnessMs: null, summary: 'probe late' },
  lastRedeploy: null,
  alerts: [{ at: 7, kind: 'stateless-start', message: 'dws starts without state' }],
  observedAt: 9,
  freshness: { lagMs: 45_000, newestLatencyMs: 900, pendingForMs: 45_000, at: 9 },
};

const deps = (over: Partial<AlertDeps> = {}): AlertDeps => ({
  pipelineStatus: async () => status,
  // Nothing listens on port 1: the warehouse read fails at once.
  connection: () => parseConnectionUrl('sink', 'postgres://u:pw-not-shown@127.0.0.1:1/db'),
  webhook: (name) => ({ name, url: 'http://127.0.0.1:1/x' }),
  now: () => 1234,
  ...over,
});

describe('observeAlerts', () => {
  test('the status becomes the pipeline observation; a sink that is down is the warehouse error, not a failure', async () => {
    const obs = await createAlertActivities(deps()).observeAlerts({ spec });
    expect(obs.at).toBe(1234);
    expect(obs.pipeline).toEqual({
      state: 'DEGRADED',
      reason: 'falling behind: 45 s',
      lagMs: 45_000,
      lastVerification: { runId: 'r9', ok: false, at: 5, summary: 'probe late' },
      sinkDifference: null,
      events: [{ at: 7, kind: 'stateless-start', message: 'dws starts without state' }],
    });
    expect('error' in obs.warehouse && obs.warehouse.error).toMatch(/^cannot read the warehouse \(dw_east\): /);
    expect(JSON.stringify(obs)).not.toContain('pw-not-shown');
  });

  test('no pipeline workflow: the pipeline error names it', async () => {
    const obs = await createAlertActivities(deps({ pipelineStatus: () => Promise.reject(new Error('workflow not found')) })).observeAlerts({ spec });
    expect(obs.pipeline).toEqual({ error: 'cannot read the status of pipeline:east: workflow not found' });
  });
});

describe('deliverAlert', () => {
  const delivery = { id: 'test:r1>ops', webhook: { name: 'ops', format: 'dingtalk' as const }, notification: testNotification('east', 1000, 'r1') };

  async function withServer(answer: (req: http.IncomingMessage, body: string) => [number, string], fn: (url: string, seen: Array<{ url: string; body: any }>) => Promise<void>) {
    const seen: Array<{ url: string; body: any }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body: JSON.parse(body) });
        const [code, text] = answer(req, body);
        res.writeHead(code).end(text);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    try {
      await fn(`http://127.0.0.1:${port}`, seen);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  test('a signed DingTalk POST: markdown body, timestamp and sign in the query', async () => {
    await withServer(
      () => [200, '{"errcode":0,"errmsg":"ok"}'],
      async (base, seen) => {
        const act = createAlertActivities(deps({ webhook: (name) => ({ name, url: `${base}/robot/send?access_token=tok-123456`, secret: 'SECxyz' }), now: () => 1_700_000_000_000 }));
        expect(await act.deliverAlert({ delivery })).toEqual({ at: 1_700_000_000_000, attempt: 1, status: 200 });
        const u = new URL(seen[0].url, base);
        expect(u.searchParams.get('access_token')).toBe('tok-123456');
        expect(u.searchParams.get('sign')).toBe(createHmac('sha256', 'SECxyz').update('1700000000000\nSECxyz').digest('base64'));
        expect(seen[0].body).toMatchObject({ msgtype: 'markdown', markdown: { title: '[gridflow east] 测试 test message' } });
      },
    );
  });

  test('refused (non-retryable), unavailable (retryable), unreachable (retryable), not configured (non-retryable)', async () => {
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return err as ApplicationFailure;
      }
      throw new Error('expected a failure');
    };
    await withServer(
      (req) => (req.url === '/refuse' ? [200, '{"errcode":310000,"errmsg":"sign not match"}'] : [503, 'busy']),
      async (base) => {
        const at = (path: string) => createAlertActivities(deps({ webhook: (name) => ({ name, url: `${base}${path}` }) }));
        const refused = await failure(at('/refuse').deliverAlert({ delivery }));
        expect([refused.type, refused.nonRetryable, refused.message]).toEqual(['WebhookRefused', true, 'webhook ops: dingtalk refused the message: code 310000 sign not match']);
        const busy = await failure(at('/busy').deliverAlert({ delivery }));
        expect([busy.type, busy.nonRetryable]).toEqual(['WebhookUnavailable', false]);
        expect(busy.message).toMatch(/HTTP 503: busy/);
      },
    );
    const closed = await freePort(); // nothing listens there: connection refused
    const down = await failure(createAlertActivities(deps({ webhook: (name) => ({ name, url: `http://127.0.0.1:${closed}/x` }) })).deliverAlert({ delivery }));
    expect([down.type, down.nonRetryable]).toEqual(['WebhookUnreachable', false]);
    expect(down.message).toMatch(/webhook ops unreachable: fetch failed \(.*ECONNREFUSED/);
    const missing = await failure(
      createAlertActivities(
        deps({
          webhook: () => {
            throw new Error('webhook ops is not configured on this worker: set GRIDFLOW_WEBHOOK_OPS=https://…');
          },
        }),
      ).deliverAlert({ delivery }),
    );
    expect([missing.type, missing.nonRetryable]).toEqual(['WebhookNotConfigured', true]);
  });
});
