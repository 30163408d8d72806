/**
 * `gridflow demo`: the real stack, the worker, the SGCC pipeline deployed by its workflow, sample data
 * and a burst of live changes flowing through it, and the results read back from the sink.
 */
import { loadConfig, resolveConnection } from '../config';
import { pipelineHandle, startPipeline } from '../client';
import { TASK_QUEUE, pipelineWorkflowId } from '../constants';
import { localSpec } from '../stack/local-spec';
import { verificationStartMetadata } from '../core/metadata';
import type { PipelineStatus } from '../core/state';
import { query, withClient } from '../postgres/connection';
import { runLoad } from '../load/runner';
import { compareAll } from '../postgres/reconcile';
import { summarize } from '../postgres/compare';
import { applySourceSchema, loadSampleData } from '../postgres/source/schema';
import { createContext, stackUp } from '../stack/manager';
import { statusQuery } from '../workflows/definitions';
import { ParsedArgs, bind, defineCommand } from './args';
import { temporalClient, temporalUiLink } from './common';
import { describeLoad } from './load';
import { Out } from './output';
import { follow, renderStatus } from './pipeline';
import { ensureDetachedWorker } from './worker';
import { ensureDetachedDashboard } from './dashboard';
import { renderVerification, scheduleVerification } from './verify';
import type { VerifyPipelineWorkflow } from '../workflows/verify';

async function waitConsistent(timeoutMs: number): Promise<{ ok: boolean; ms: number; summary: string }> {
  const spec = localSpec(loadConfig());
  const started = Date.now();
  for (;;) {
    const result = await compareAll(resolveConnection(spec.source.connection), resolveConnection(spec.sink.connection), { sinkSchema: spec.sink.schema });
    if (result.ok || Date.now() - started > timeoutMs) return { ok: result.ok, ms: Date.now() - started, summary: summarize(result) };
    await new Promise((r) => setTimeout(r, 250));
  }
}

const SHOW: Array<{ title: string; sql: string }> = [
  {
    title: 'dws_equipment_type_stats — by equipment type (the original system\'s table)',
    sql: 'SELECT equipment_type, equipment_count, running_count, total_capacity_mw, avg_capacity_mw, updated_at::timestamp(0) AS updated_at FROM dw.dws_equipment_type_stats ORDER BY equipment_type',
  },
  { title: 'dws_region_stats — by region', sql: 'SELECT region, equipment_count, running_count, maintenance_count, outage_count, total_capacity_mw FROM dw.dws_region_stats ORDER BY region' },
  { title: 'dws_voltage_level_stats — by voltage level', sql: 'SELECT voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw FROM dw.dws_voltage_level_stats ORDER BY voltage_level_kv' },
  {
    title: 'ads_capacity_planning — installed capacity, load and headroom per region',
    sql: 'SELECT region, installed_capacity_mw, current_load_mw, utilization, headroom_mw, overload_alert FROM dw.ads_capacity_planning ORDER BY region',
  },
  {
    title: 'ads_equipment_health — the ten least healthy pieces of equipment',
    sql: "SELECT equipment_id, equipment_name, status, latest_load_mw, load_ratio, latest_temperature_c, health_score, risk_level FROM dw.ads_equipment_health ORDER BY health_score, equipment_id LIMIT 10",
  },
  {
    title: 'ads_grid_dashboard — the grid at a glance',
    sql: 'SELECT equipment_total, running_total, installed_capacity_mw, current_load_mw, alarm_count, attention_count, updated_at::timestamp(0) AS updated_at FROM dw.ads_grid_dashboard',
  },
];

async function showResults(out: Out): Promise<void> {
  const spec = localSpec(loadConfig());
  await withClient(resolveConnection(spec.sink.connection), async (client) => {
    for (const { title, sql } of SHOW) {
      const rows = (await query<Record<string, unknown>>(client, title, sql)).rows;
      out.text(`\n${title}`);
      if (!rows.length) {
        out.text('  (no rows)');
        continue;
      }
      const headers = Object.keys(rows[0]);
      out.table(rows, headers, (r) => headers.map((h) => (r[h] === null ? 'NULL' : String(r[h]))));
    }
  });
}

export const DEMO_COMMAND = defineCommand({
  name: 'demo',
  title: 'the whole thing: stack, worker, SGCC pipeline, data, results',
  options: {
    rate: { type: 'integer', value: 'N', min: 1, default: 20, description: 'operations per second of the live changes in step 5' },
    duration: { type: 'integer', value: 'S', min: 1, default: 15, description: 'seconds of live changes in step 5' },
  },
  subcommands: [
    {
      name: '',
      summary:
        'start the local stack, the worker and the dashboard, load the SGCC sample, deploy the SGCC pipeline through its workflow, ' +
        'write live changes, schedule verification and run one, and print the results read from the sink',
      options: ['rate', 'duration'],
    },
  ],
  notes: `The first run fetches jars and builds the Temporal CLI (several minutes). Everything keeps running
afterwards: the pipeline, its workflow, the worker and the dashboard (gridflow stack down stops the stack).`,
});

export async function demoCommand(args: ParsedArgs, out: Out): Promise<number> {
  const call = bind(DEMO_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const { rate, duration } = call.values;
  const config = loadConfig();
  const spec = localSpec(config);
  const t0 = Date.now();
  const step = (n: number, text: string) => out.progress(`── ${n}/6 ${text}`);

  step(1, 'the local stack (first run fetches jars and builds the Temporal CLI: several minutes)');
  await stackUp(createContext(config, (m) => out.progress(m)));

  step(2, 'the gridflow worker');
  await ensureDetachedWorker(out);

  step(3, 'source data: schema and the SGCC sample (300 pieces of equipment, their readings)');
  const source = resolveConnection(spec.source.connection);
  await applySourceSchema(source);
  const [{ n }] = await withClient(source, async (c) => (await query<{ n: number }>(c, 'count equipment', 'SELECT count(*)::int AS n FROM power_equipment')).rows);
  if (n === 0) await loadSampleData(source);
  out.progress(n === 0 ? 'loaded the sample' : `the source already holds ${n} pieces of equipment; keeping them`);

  step(4, `deploy pipeline ${spec.name} through its workflow (${pipelineWorkflowId(spec.name)})`);
  const { client, close } = await temporalClient(config);
  let status: PipelineStatus;
  let dashboard: { url: string } | undefined;
  try {
    await startPipeline(client, spec);
    out.progress(`follow it in the Temporal UI: ${temporalUiLink(config, pipelineWorkflowId(spec.name))}`);
    const handle = pipelineHandle(client, spec.name);
    const deadline = Date.now() + 10 * 60_000;
    // DEGRADED during a deploy is retried by the workflow: keep following until RUNNING or the deadline.
    for (;;) {
      status = await follow(out, handle, Math.max(1000, deadline - Date.now()));
      if (status.state !== 'DEGRADED' || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    if (status.state !== 'RUNNING' || !status.jobs.every((j) => j.flinkState === 'RUNNING')) {
      renderStatus(out, status);
      return 1;
    }
    const initial = await waitConsistent(120_000);
    out.progress(`the sink equals the contract on the source ${initial.ok ? `(${initial.ms} ms after RUNNING)` : 'NOT YET'}`);
    // Started now, so that step 5's changes can be watched arriving on the page.
    dashboard = await ensureDetachedDashboard(out, { host: '127.0.0.1', port: config.stack.ports.dashboard, pipelines: [spec.name] });
    out.progress(`dashboard at ${dashboard.url}/ (the grid) and ${dashboard.url}/pipeline: open it to watch the next step arrive live`);

    step(5, 'live changes: readings, moves between groups, deletes');
    const load = await runLoad(source, { ratePerSecond: rate, durationSeconds: duration, seed: 20261126 });
    out.progress(describeLoad(load));
    const settled = await waitConsistent(120_000);
    out.progress(settled.ok ? `settled: sink equals the contract ${settled.ms} ms after the last change` : `not settled:\n${settled.summary}`);

    step(6, 'verification: scheduled every 5 minutes, and one run now (probe through the real path + the contract)');
    const schedule = await scheduleVerification(client, spec, 5 * 60_000);
    out.progress(`schedule ${schedule.scheduleId} ${schedule.outcome} (every 5 min, overlapping runs skipped)`);
    const verification = await client.workflow.execute<typeof VerifyPipelineWorkflow>('VerifyPipelineWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `${schedule.scheduleId}:demo-${Date.now()}`,
      args: [{ spec }],
      ...verificationStartMetadata(spec),
    });

    out.text('\nResults, read from the sink (PostgreSQL sgcc_dw, schema dw):');
    await showResults(out);
    out.text('\nVerification (VerifyPipelineWorkflow):');
    renderVerification(out, verification);
    out.text('');
    renderStatus(out, await handle.query(statusQuery));
  } finally {
    await close();
  }
  out.text(
    `\nDemo done in ${Math.round((Date.now() - t0) / 1000)} s. The pipeline keeps running and its workflow keeps watching it.\n` +
      `  Temporal UI  ${temporalUiLink(config, pipelineWorkflowId(spec.name))}\n` +
      `  Flink UI     ${config.flink.restUrl}\n` +
      `  Dashboard    ${dashboard!.url}/  (pipeline page ${dashboard!.url}/pipeline; gridflow dashboard stop|status)\n` +
      `  gridflow status | gridflow verify history | gridflow load --rate 50 --duration 30 | gridflow redeploy | gridflow stack down`,
  );
  return 0;
}
