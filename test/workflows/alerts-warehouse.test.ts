/**
 * The alerts chain with every activity real: the ADS tables in a throwaway PostgreSQL made by the sink's
 * own DDL (sql/sink/dw.sql), the worker's own dependencies (GRIDFLOW_PG_*, GRIDFLOW_WEBHOOK_*, a real Temporal
 * client for the pipeline's status), AlertsWorkflow on the
 * dev server, and a real HTTP receiver speaking WeCom's answers. Rows change in the sink; messages arrive.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createAlertActivities, defaultAlertDeps } from '../../src/activities/alerts';
import { alertsStatus, startAlerts } from '../../src/alerts-client';
import { parseSpec } from '../../src/core/spec';
import { withClient } from '../../src/postgres/connection';
import { applySinkSchema } from '../../src/postgres/sink';
import { alertsStatusQuery } from '../../src/workflows/alerts-definitions';
import { freePort } from '../support/net';
import { createTestEnv, workflowBundle } from '../support/temporal';
import { ThrowawayPostgres, startThrowawayPostgres } from '../support/throwaway-postgres';
import { testSpec } from './doubles';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let bundle: { code: string };
let pg: ThrowawayPostgres;
const SCHEMA = 'dw_alerting';

beforeAll(async () => {
  [env, pg] = await Promise.all([createTestEnv(), startThrowawayPostgres({})]);
  bundle = await workflowBundle();
  await applySinkSchema(pg.admin, SCHEMA);
});

afterAll(async () => {
  await env?.teardown();
  await pg?.stop();
});

const sql = (text: string, params: unknown[] = []) => withClient(pg.admin, (c) => c.query(text, params));

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('rows in the sink raise and clear alerts that reach a WeCom-style receiver', async () => {
  const received: Array<{ msgtype: string; markdown: { content: string } }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));

  const key = `wx-${randomUUID()}`;
  process.env.GRIDFLOW_WEBHOOK_WX = `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=${key}`;
  process.env.GRIDFLOW_PG_ALERTSINK = `postgres://${pg.admin.user}:${encodeURIComponent(pg.admin.password)}@127.0.0.1:${pg.port}/postgres`;
  const name = `alerting${randomUUID().slice(0, 6)}`;
  const spec = parseSpec(testSpec({ name, sink: { connection: 'alertsink', schema: SCHEMA }, alerts: { webhooks: [{ name: 'wx', format: 'wecom' }], every: '1s', alarmCountAbove: 1 } }));
  const taskQueue = `alerts-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    // The worker's own dependencies: the sink connection and the webhook resolved from the environment.
    activities: createAlertActivities(defaultAlertDeps(async () => env.client)),
  });
  try {
    await worker.runUntil(async () => {
      const handle = (await startAlerts(env.client, spec, { taskQueue, delivery: { initialIntervalMs: 200, maximumIntervalMs: 1000 } }))!;
      // No pipeline workflow: that source is unknown (said in the status), the warehouse is still judged.
      await until('an evaluation', async () => (await handle.query(alertsStatusQuery)).lastEvaluation !== null);
      const first = (await handle.query(alertsStatusQuery)).lastEvaluation!;
      expect(first.pipelineError).toMatch(/cannot read the status of pipeline:alerting/);
      expect(first.warehouseError).toBeNull();

      await sql(
        `INSERT INTO ${SCHEMA}.ads_capacity_planning (region, installed_capacity_mw, current_load_mw, utilization, headroom_mw, overload_alert)
         VALUES ('华北', 1000, 931.2, 0.9312, 68.8, true), ('华东', 1000, 500, 0.5, 500, false)`,
      );
      await sql(
        `INSERT INTO ${SCHEMA}.ads_equipment_health (equipment_id, equipment_name, equipment_type, region, status, health_score, risk_level)
         VALUES ('GEN-0001', '一号机组', '发电机', '华北', '停运', 30, '告警'), ('GEN-0002', '二号机组', '发电机', '华北', '运行', 100, '正常')`,
      );
      await sql(
        `INSERT INTO ${SCHEMA}.ads_grid_dashboard (dashboard_id, equipment_total, running_total, installed_capacity_mw, current_load_mw, alarm_count, attention_count)
         VALUES ('grid', 2, 1, 2000, 1431.2, 2, 0)`,
      );
      await until('three firing messages', () => received.length >= 3);
      const contents = received.map((m) => m.markdown.content);
      expect(received.every((m) => m.msgtype === 'markdown')).toBe(true);
      expect(contents.some((c) => c.includes('告警 region overloaded') && c.includes('华北 overloaded: utilization 0.9312'))).toBe(true);
      expect(contents.some((c) => c.includes('GEN-0001 一号机组 (华北) 告警, health score 30'))).toBe(true);
      expect(contents.some((c) => c.includes('2 equipment in 告警 (threshold 1)'))).toBe(true);
      expect((await alertsStatus(env.client, name)).active.map((c) => c.key).sort()).toEqual(['alarm-count', 'equipment-alarm:GEN-0001', 'overload:华北']);

      await sql(`UPDATE ${SCHEMA}.ads_capacity_planning SET overload_alert = false, utilization = 0.8 WHERE region = '华北'`);
      await until('the resolved message', () => received.length >= 4);
      expect(received[3].markdown.content).toMatch(/<font color="info">\[gridflow alerting\w+\] 已恢复 resolved: region overloaded/);
      expect(received).toHaveLength(4);
      await handle.terminate('test over');
    });
    // The webhook's key never shows: not in the workflow's state, not in its history.
    const history = JSON.stringify(await env.client.workflow.getHandle(`alerts:${name}`).fetchHistory());
    expect(history).not.toContain(key);
    expect(history).not.toContain(String(port) + '/cgi-bin');
  } finally {
    delete process.env.GRIDFLOW_WEBHOOK_WX;
    delete process.env.GRIDFLOW_PG_ALERTSINK;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
