/** `gridflow alerts status | test` */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../config';
import { alertsHandle, alertsStatus } from '../alerts-client';
import { formatSeconds } from '../core/alerts';
import { alertsTestUpdate, alertsWorkflowId } from '../workflows/alerts-definitions';
import { ParsedArgs, UsageError, bind, defineCommand } from './args';
import { PIPELINE_OPTIONS, pipelineName, temporalClient, temporalUiLink } from './common';
import { Out } from './output';

export const ALERTS_COMMAND = defineCommand({
  name: 'alerts',
  title: "the pipeline's alerts: what holds, what waits for delivery",
  options: {
    text: { type: 'string', value: 'T', description: 'the test message, at most 2000 characters', defaultText: '"gridflow alerts for pipeline <name> reach this webhook"' },
    timeout: { type: 'integer', value: 'S', min: 1, default: 60, description: 'seconds to wait for the outcome' },
    name: PIPELINE_OPTIONS.name,
  },
  subcommands: [
    {
      name: 'status',
      summary: 'conditions holding now, deliveries still retrying (attempt, last error, next attempt), the newest outcomes, the last evaluation',
      options: ['name'],
    },
    {
      name: 'test',
      summary: 'send a test message to every webhook the spec names and wait for the outcome: exit 0 when every webhook took it, 1 otherwise',
      options: ['text', 'timeout', 'name'],
    },
  ],
  notes: `The alerts workflow (alerts:<name>) is started by \`gridflow deploy\` when the spec has an \`alerts\` field,
and stopped by \`gridflow decommission\`. Webhook URLs are the worker's configuration:
GRIDFLOW_WEBHOOK_<NAME>=https://… (GRIDFLOW_WEBHOOK_<NAME>_SECRET for a signing secret) or the JSON file
GRIDFLOW_WEBHOOKS names. See docs/OPERATIONS.md, "Alerts".`,
  examples: ['gridflow alerts status', 'gridflow alerts test --text "drill: ignore" --timeout 120'],
});

const ago = (now: number, at: number | null | undefined) => (at ? `${formatSeconds(Math.max(0, now - at))} ago` : 'never');

export async function alertsCommand(args: ParsedArgs, out: Out): Promise<number> {
  const call = bind(ALERTS_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const { sub } = call;
  const { text } = call.values;
  if (text !== undefined && text.length > 2000) throw new UsageError('--text needs a message of at most 2000 characters');
  const timeoutMs = call.values.timeout * 1000;
  const name = pipelineName(args);
  const config = loadConfig();
  const { client, close } = await temporalClient(config);
  const missing = (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError) {
      throw new UsageError(`pipeline ${name} has no alerts workflow (${alertsWorkflowId(name)}): give its spec an \`alerts\` field and run \`gridflow deploy\` (docs/OPERATIONS.md, "Alerts")`);
    }
    throw err;
  };
  try {
    if (sub === 'status') {
      const s = await alertsStatus(client, name).catch(missing);
      if (out.json) {
        out.result(s, '');
        return 0;
      }
      const now = Date.now();
      out.text(`alerts of ${name}: ${s.running ? (s.stopping ? 'stopping' : 'running') : 'ended'}, every ${s.every ?? '-'}, webhooks ${s.webhooks.map((w) => `${w.name} (${w.format})`).join(', ') || 'none'}`);
      const e = s.lastEvaluation;
      out.text(`last evaluation: ${ago(now, e?.at)}${e?.error ? ` — failed: ${e.error}` : ''}`);
      if (e?.pipelineError) out.text(`  pipeline not read: ${e.pipelineError}`);
      if (e?.warehouseError) out.text(`  warehouse not read: ${e.warehouseError}`);
      out.text('');
      if (s.active.length) out.table(s.active, ['active', 'severity', 'since', 'summary'], (c) => [c.key, c.severity, ago(now, c.since), c.summary.slice(0, 100)]);
      else out.text('no condition holds');
      out.text('');
      if (s.outbox.length) {
        const byId = new Map(s.pending.map((p) => [p.id, p]));
        out.table(s.outbox, ['pending delivery', 'webhook', 'attempt', 'next attempt', 'last error'], (d) => {
          const p = byId.get(d.id);
          return [d.notification.title, d.webhook.name, p ? String(p.attempt) : 'starting', p?.nextAttemptAt?.slice(11, 19) ?? '-', (p?.lastError ?? '').slice(0, 100)];
        });
      } else {
        out.text('nothing waiting for delivery');
      }
      if (s.recent.length) {
        out.text('');
        out.table(s.recent.slice(0, 10), ['recent', 'webhook', 'outcome', 'when', 'error'], (r) => [r.title, r.webhook, r.attempts ? `${r.outcome} (attempt ${r.attempts})` : r.outcome, ago(now, r.at), (r.error ?? '').slice(0, 100)]);
      }
      out.text(`\nTemporal UI: ${temporalUiLink(config, alertsWorkflowId(name))}`);
      return 0;
    }

    // test
    const requestId = `cli-${randomUUID()}`;
    const ids = await alertsHandle(client, name)
      .executeUpdate(alertsTestUpdate, { args: [{ requestId, ...(text !== undefined ? { text } : {}) }] })
      .catch((err) => {
        missing(err);
        let e = err as { cause?: unknown; message?: string };
        while (e?.cause) e = e.cause as typeof e;
        throw new UsageError(e?.message ?? String(err));
      });
    out.progress(`test message queued for ${ids.length} webhook(s); waiting up to ${timeoutMs / 1000} s for the outcome…`);
    const deadline = Date.now() + timeoutMs;
    let s = await alertsStatus(client, name);
    while (Date.now() < deadline && ids.some((id) => !s.recent.some((r) => r.id === id))) {
      await new Promise((r) => setTimeout(r, 500));
      s = await alertsStatus(client, name);
    }
    const rows = ids.map((id) => {
      const done = s.recent.find((r) => r.id === id);
      const pending = s.pending.find((p) => p.id === id);
      const webhook = id.slice(id.lastIndexOf('>') + 1);
      if (done) return { webhook, outcome: done.outcome, attempts: done.attempts, error: done.error };
      return { webhook, outcome: 'retrying', attempts: pending?.attempt ?? null, error: pending?.lastError ?? null };
    });
    out.table(rows, ['webhook', 'outcome', 'attempts', 'error'], (r) => [r.webhook, r.outcome, r.attempts === null ? '-' : String(r.attempts), r.error ?? '']);
    return rows.every((r) => r.outcome === 'delivered') ? 0 : 1;
  } finally {
    await close();
  }
}
