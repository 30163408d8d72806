/**
 * AlertsWorkflow on the real Temporal dev server, delivering with the real delivery activity to a real
 * HTTP receiver (node:http on 127.0.0.1) that can be down (connection refused), refuse (400), or take
 * messages. The observations (pipeline status, ADS tables) come from a model of recorded shapes.
 * Continue-as-new is suggested every few dozen events, so the outbox is carried across runs in every test.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createAlertActivities } from '../../src/activities/alerts';
import { alertsStatus, startAlerts } from '../../src/alerts-client';
import { AlertObservation, PipelineObservation, WarehouseObservation } from '../../src/core/alerts';
import { parseSpec } from '../../src/core/spec';
import { AlertsWorkflow } from '../../src/workflows/alerts';
import { AlertsStatus, alertsStatusQuery, alertsStopSignal, alertsTestUpdate } from '../../src/workflows/alerts-definitions';
import { freePort } from '../support/net';
import { createTestEnv, workflowBundle } from '../support/temporal';
import { testSpec } from './doubles';
import { saveHistory } from './histories/record';
import { main } from '../../src/cli';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let bundle: { code: string };

beforeAll(async () => {
  env = await createTestEnv({ 'limit.historyCount.suggestContinueAsNew': 60 });
  bundle = await workflowBundle();
});

afterAll(async () => {
  await env?.teardown();
});

// ------------------------------------------------------------------------------------------ receiver

interface Received {
  path: string;
  body: Record<string, any>;
  notification: string;
}

/** A webhook receiver that is up (answers `status`), or down (nothing listens: connection refused). */
class Receiver {
  received: Received[] = [];
  status = 200;
  /** What a platform robot answers when it took the message (DingTalk: errcode 0); null: that default. */
  answer: string | null = null;
  private server: http.Server | null = null;
  constructor(readonly port: number) {}

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        if (this.status >= 200 && this.status < 300) {
          this.received.push({ path: req.url ?? '', body: JSON.parse(data), notification: String(req.headers['x-gridflow-notification'] ?? '') });
        }
        res.writeHead(this.status, { 'content-type': 'application/json' });
        res.end(this.answer ?? (req.url === '/ding' ? '{"errcode":0,"errmsg":"ok"}' : ''));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Distinct notifications (at least once: a message may arrive twice, with the same id). */
  distinct(path?: string): Received[] {
    const seen = new Map<string, Received>();
    for (const r of this.received) if (!path || r.path === path) seen.set(`${r.path} ${r.notification}`, r);
    return [...seen.values()];
  }
}

// ------------------------------------------------------------------------------------------ model

class AlertModel {
  now = 1_750_000_000_000;
  observations = 0;
  warehouse: WarehouseObservation | { error: string } = { overloaded: [], alarming: [], alarmCount: 0 };
  pipeline: PipelineObservation | { error: string } = { state: 'RUNNING', reason: null, lagMs: 500, lastVerification: null, events: [] };

  activities(receiver: Receiver) {
    const real = createAlertActivities({
      pipelineStatus: () => Promise.reject(new Error('not used')),
      connection: () => {
        throw new Error('not used');
      },
      // Two webhooks on the same receiver, told apart by path.
      webhook: (name) => ({ name, url: receiver.url(`/${name}`) }),
      now: () => Date.now(),
      timeoutMs: 2_000,
    });
    return {
      observeAlerts: async (): Promise<AlertObservation> => {
        this.observations++;
        this.now += 1000;
        return { at: this.now, warehouse: structuredClone(this.warehouse), pipeline: structuredClone(this.pipeline) };
      },
      deliverAlert: real.deliverAlert,
    };
  }
}

const SPEC = parseSpec(
  testSpec({
    name: 'alerting',
    alerts: {
      webhooks: [
        { name: 'ops', format: 'generic' },
        { name: 'ding', format: 'dingtalk' },
      ],
      every: '1s',
      alarmCountAbove: 10,
    },
  }),
);
const FAST = { initialIntervalMs: 200, maximumIntervalMs: 1_000, giveUpAfterMs: 10 * 60_000 };

type Handle = WorkflowHandle<typeof AlertsWorkflow>;

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function startWorker(taskQueue: string, model: AlertModel, receiver: Receiver) {
  return Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: model.activities(receiver) });
}

async function withAlerts(body: (ctx: { handle: Handle & { signaledRunId: string }; pipeline: string; model: AlertModel; receiver: Receiver; taskQueue: string; status: () => Promise<AlertsStatus> }) => Promise<void>, spec = SPEC) {
  const receiver = new Receiver(await freePort());
  const model = new AlertModel();
  const taskQueue = `alerts-${randomUUID()}`;
  const worker = await startWorker(taskQueue, model, receiver);
  const specHere = { ...spec, name: `${spec.name}${randomUUID().slice(0, 6)}` };
  try {
    await worker.runUntil(async () => {
      const handle = (await startAlerts(env.client, specHere, { taskQueue, delivery: FAST }))!;
      await body({ handle, pipeline: specHere.name, model, receiver, taskQueue, status: () => handle.query(alertsStatusQuery) });
      await handle.terminate('test over').catch(() => undefined);
    });
  } finally {
    await receiver.down();
  }
}

// ------------------------------------------------------------------------------------------ tests

describe('AlertsWorkflow', () => {
  test('a condition is delivered firing once while it holds, then resolved, to every webhook in its format', async () => {
    await withAlerts(async ({ model, receiver, status }) => {
      await receiver.up();
      await until('a first evaluation', () => model.observations >= 1);
      model.warehouse = { overloaded: [{ region: '华北', utilization: '0.9312', currentLoadMw: '931.20', installedCapacityMw: '1000.00' }], alarming: [], alarmCount: 0 };
      await until('the firing message on both webhooks', () => receiver.distinct('/ops').length >= 1 && receiver.distinct('/ding').length >= 1);
      // It holds for several more evaluations: nothing more is sent.
      const seen = model.observations;
      await until('three more evaluations', () => model.observations >= seen + 3);
      expect((await status()).active.map((c) => c.key)).toEqual(['overload:华北']);
      model.warehouse = { overloaded: [], alarming: [], alarmCount: 0 };
      await until('the resolved message on both webhooks', () => receiver.distinct('/ops').length >= 2 && receiver.distinct('/ding').length >= 2);

      const ops = receiver.distinct('/ops').map((r) => r.body);
      expect(ops.map((b) => [b.status, b.keys])).toEqual([
        ['firing', ['overload:华北']],
        ['resolved', ['overload:华北']],
      ]);
      expect(ops[0]).toMatchObject({ source: 'gridflow', version: 1, rule: 'overload', severity: 'critical' });
      // Every format carries the delivery id in a header (a receiver dedups with it: delivery is at least once).
      expect(decodeURIComponent(receiver.distinct('/ops')[0].notification)).toBe(`${ops[0].id}>ops`);
      const ding = receiver.distinct('/ding').map((r) => r.body);
      expect(ding[0]).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.stringContaining('告警 region overloaded') } });
      expect(ding[1].markdown.title).toContain('已恢复');
      await until('the outbox empty', async () => (await status()).outbox.length === 0);
      const s = await status();
      expect(s.active).toEqual([]);
      expect(s.recent.filter((r) => r.outcome === 'delivered')).toHaveLength(4);
    });
  });

  test('the receiver down for a while: deliveries retry with backoff while evaluation goes on, and arrive once it is up', async () => {
    await withAlerts(async ({ handle, pipeline, model, receiver, status }) => {
      const firstRun = (await handle.describe()).runId;
      model.pipeline = { state: 'DEGRADED', reason: 'sink restarted 6 times in 10min', lagMs: 500, lastVerification: null, events: [] };
      // Retrying: Temporal's pending-activity view shows attempts and the connection refused.
      await until('a delivery retried twice', async () => (await alertsStatus(env.client, pipeline)).pending.some((p) => p.attempt >= 3));
      const pending = (await alertsStatus(env.client, pipeline)).pending;
      expect(pending.length).toBeGreaterThan(0);
      expect(pending.map((p) => p.lastError).join(' ')).toMatch(/unreachable/);
      expect((await status()).outbox.map((d) => d.notification.kind)).toContain('firing');

      // Evaluation is not held up by the deliveries: a new condition is seen meanwhile.
      model.warehouse = { overloaded: [], alarming: [], alarmCount: 25 };
      await until('the alarm-count condition active', async () => (await status()).active.some((c) => c.key === 'alarm-count'));
      expect(new Set((await status()).outbox.map((d) => d.notification.rule))).toEqual(new Set(['pipeline-degraded', 'alarm-count']));
      // Continue-as-new carries the undelivered outbox (and the active conditions, which do not fire again).
      await until('a continued run', async () => (await handle.describe()).runId !== firstRun);
      expect((await status()).outbox).toHaveLength(4);

      await receiver.up();
      await until('both conditions delivered to both webhooks', () => receiver.distinct('/ops').length >= 2 && receiver.distinct('/ding').length >= 2);
      expect(receiver.distinct('/ops').map((r) => r.body.rule).sort()).toEqual(['alarm-count', 'pipeline-degraded']);
      // Each condition fired once, across runs: no second firing for what still holds.
      expect(receiver.distinct('/ops').map((r) => r.body.id)).toHaveLength(2);
      await until('the outbox empty', async () => (await status()).outbox.length === 0);
      const delivered = (await status()).recent.filter((r) => r.outcome === 'delivered');
      expect(delivered.length).toBeGreaterThanOrEqual(4);
    });
  });

  test('a worker restart with deliveries pending loses none of them', async () => {
    const receiver = new Receiver(await freePort());
    const model = new AlertModel();
    const taskQueue = `alerts-${randomUUID()}`;
    const spec = { ...SPEC, name: `restart${randomUUID().slice(0, 6)}` };
    let handle!: Handle;
    const first = await startWorker(taskQueue, model, receiver);
    await first.runUntil(async () => {
      handle = (await startAlerts(env.client, spec, { taskQueue, delivery: FAST }))!;
      model.pipeline = { state: 'BLOCKED', reason: 'source not ready: wal_level is replica', lagMs: null, lastVerification: null, events: [] };
      await until('deliveries retrying', async () => (await alertsStatus(env.client, spec.name)).pending.some((p) => p.attempt >= 2));
      expect((await handle.query(alertsStatusQuery)).outbox).toHaveLength(2);
    });
    // No worker now: the outbox is in the workflow's history, the retries on the server.
    await receiver.up();
    const second = await startWorker(taskQueue, model, receiver);
    try {
      await second.runUntil(async () => {
        await until('the BLOCKED message on both webhooks', () => receiver.distinct('/ops').length >= 1 && receiver.distinct('/ding').length >= 1);
        expect(receiver.distinct('/ops')[0].body).toMatchObject({ rule: 'pipeline-blocked', status: 'firing' });
        await until('the outbox empty', async () => (await handle.query(alertsStatusQuery)).outbox.length === 0);
        await handle.terminate('test over');
      });
    } finally {
      await receiver.down();
    }
  });

  test('a 400 is not retried: recorded as failed, and evaluation goes on', async () => {
    await withAlerts(async ({ model, receiver, status }) => {
      receiver.status = 400;
      receiver.answer = '{"error":"bad token"}';
      await receiver.up();
      model.pipeline = { state: 'RUNNING', reason: null, lagMs: 95_000, lastVerification: null, events: [] };
      await until('two failures recorded', async () => (await status()).recent.filter((r) => r.outcome === 'failed').length >= 2);
      const failed = (await status()).recent.filter((r) => r.outcome === 'failed');
      expect(failed[0].error).toMatch(/HTTP 400 \(will not succeed on retry\)/);
      expect((await status()).outbox).toEqual([]);
      const seen = model.observations;
      await until('evaluation continuing', () => model.observations >= seen + 2);
      expect((await status()).active.map((c) => c.key)).toEqual(['falling-behind']);
    });
  });

  test('a DingTalk-style refusal in a 200 answer is not retried either', async () => {
    await withAlerts(async ({ model, receiver, status }) => {
      receiver.answer = '{"errcode":310000,"errmsg":"keywords not in content"}';
      await receiver.up();
      model.pipeline = { state: 'RUNNING', reason: null, lagMs: 500, lastVerification: null, events: [{ at: model.now, kind: 'redeploy-rolled-back', message: 'ads did not reach RUNNING: rolled back to v1' }] };
      await until('the generic delivery and the refused DingTalk one', async () => {
        const r = (await status()).recent;
        return r.some((x) => x.webhook === 'ops' && x.outcome === 'delivered') && r.some((x) => x.webhook === 'ding' && x.outcome === 'failed');
      });
      const ding = (await status()).recent.find((x) => x.webhook === 'ding')!;
      expect(ding.error).toMatch(/dingtalk refused the message: code 310000/);
      expect(receiver.distinct('/ops')[0].body).toMatchObject({ kind: 'event', rule: 'redeploy-rolled-back' });
    });
  });

  test('gridflow alerts test: a test message reaches every webhook; stop drains and ends the workflow', async () => {
    await withAlerts(async ({ handle, model, receiver }) => {
      await receiver.up();
      const ids = await handle.executeUpdate(alertsTestUpdate, { args: [{ requestId: 'req-1', text: '测试 gridflow' }] });
      expect(ids).toEqual(['test:req-1>ops', 'test:req-1>ding']);
      await until('the test message on both webhooks', () => receiver.distinct('/ops').length === 1 && receiver.distinct('/ding').length === 1);
      expect(receiver.distinct('/ops')[0].body).toMatchObject({ kind: 'test', lines: ['测试 gridflow'] });
      // A stateless start event, then stop while nothing is pending.
      model.pipeline = { state: 'RUNNING', reason: null, lagMs: 500, lastVerification: null, events: [{ at: model.now, kind: 'stateless-start', message: 'dws starts without state' }] };
      await until('the event on both webhooks', () => receiver.distinct('/ops').length === 2 && receiver.distinct('/ding').length === 2);
      await handle.signal(alertsStopSignal, { reason: 'decommissioned' });
      const final = await handle.result();
      expect(final.stopping).toBe(true);
      expect(final.outbox).toEqual([]);
      // GRIDFLOW_RECORD_HISTORIES=1 stores the first run's history for the replay test (on purpose only).
      if (process.env.GRIDFLOW_RECORD_HISTORIES === '1') {
        saveHistory('alerts-test-event-stop.json', await env.client.workflow.getHandle(handle.workflowId, handle.signaledRunId).fetchHistory());
      }
    });
  });

  test('the CLI: alerts status shows what holds and what is retrying with its last error; alerts test waits for the outcome', async () => {
    await withAlerts(async ({ pipeline, model, receiver }) => {
      model.pipeline = { state: 'DEGRADED', reason: 'sink restarted 6 times in 10min', lagMs: 500, lastVerification: null, events: [] };
      await until('deliveries retrying', async () => (await alertsStatus(env.client, pipeline)).pending.some((p) => p.attempt >= 2));

      const text = await cli(['alerts', 'status', '--name', pipeline]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/pipeline:DEGRADED\s+critical/);
      expect(text.stdout).toMatch(/PENDING DELIVERY\s+WEBHOOK\s+ATTEMPT/);
      expect(text.stdout).toMatch(/webhook (ops|ding) unreachable: fetch failed \(.*ECONNREFUSED/);
      const json = await cli(['alerts', 'status', '--name', pipeline, '--json']);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.active.map((c: { key: string }) => c.key)).toEqual(['pipeline:DEGRADED']);
      expect(parsed.pending.length).toBeGreaterThan(0);

      await receiver.up();
      const sent = await cli(['alerts', 'test', '--name', pipeline, '--timeout', '60', '--text', 'hello']);
      expect(sent.code).toBe(0);
      expect(sent.stdout).toMatch(/ops\s+delivered/);
      expect(sent.stdout).toMatch(/ding\s+delivered/);
      expect(receiver.distinct('/ops').map((r) => r.body.kind)).toContain('test');

      const none = await cli(['alerts', 'status', '--name', 'nosuchpipeline']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/pipeline nosuchpipeline has no alerts workflow \(alerts:nosuchpipeline\)/);
    });
  });
});

/** Run the CLI against this file's Temporal server, capturing its output. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = process.env.GRIDFLOW_TEMPORAL_ADDRESS;
  process.env.GRIDFLOW_TEMPORAL_ADDRESS = env.address;
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  try {
    return { code: await main(argv), stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
    if (saved === undefined) delete process.env.GRIDFLOW_TEMPORAL_ADDRESS;
    else process.env.GRIDFLOW_TEMPORAL_ADDRESS = saved;
  }
}
