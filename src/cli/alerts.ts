/** `gridflow alerts status | test` */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../config';
import { alertsHandle, alertsStatus } from '../alerts-client';
import { formatSeconds } from '../core/alerts';
import { alertsTestUpdate, alertsWorkflowId } from '../workflows/alerts-definitions';
import { ParsedArgs, UsageError, allowFlags, intFlag } from './args';
import { pipelineName, temporalClient, temporalUiLink } from './common';
import { Out } from './output';

export const ALERTS_HELP = `gridflow alerts — what the pipeline's alerts workflow sees and delivers

Usage (each takes --name NAME, default sgcc):
  gridflow alerts status [--json]    conditions holding now, deliveries still retrying (attempt, last
                                     error, next attempt), the newest outcomes, the last evaluation
  gridflow alerts test [--text T] [--timeout S] [--json]
                                     send a test message to every webhook the spec names and wait for the
                                     outcome: exit 0 when every webhook took it, 1 otherwise

The alerts workflow (alerts:<name>) is started by \`gridflow deploy\` when the spec has an \`alerts\` field,
and stopped by \`gridflow decommission\`. Webhook URLs are the worker's configuration:
GRIDFLOW_WEBHOOK_<NAME>=https://… (GRIDFLOW_WEBHOOK_<NAME>_SECRET for a signing secret) or the JSON file
GRIDFLOW_WEBHOOKS names. See docs/OPERATIONS.md, "Alerts".`;

const ago = (now: number, at: number | null | undefined) => (at ? `${formatSeconds(Math.max(0, now - at))} ago` : 'never');

export async function alertsCommand(args: ParsedArgs, out: Out): Promise<number> {
  const sub = args.positionals[1];
  if (args.flags.help || !sub) {
    out.text(ALERTS_HELP);
    return args.flags.help ? 0 : 2;
  }
  if (args.positionals.length > 2) throw new UsageError(`alerts ${sub} takes no further arguments; got ${args.positionals.slice(2).map((a) => JSON.stringify(a)).join(', ')}`);
  if (sub !== 'status' && sub !== 'test') throw new UsageError(`unknown alerts command ${sub} (status, test)`);
  allowFlags(args, sub === 'status' ? ['name', 'json'] : ['name', 'json', 'text', 'timeout']);
  const text = args.flags.text;
  if (text !== undefined && (typeof text !== 'string' || text.length > 2000)) throw new UsageError('--text needs a message of at most 2000 characters');
  const timeoutMs = intFlag(args, 'timeout', 60, 1) * 1000;
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
      .executeUpdate(alertsTestUpdate, { args: [{ requestId, ...(typeof text === 'string' ? { text } : {}) }] })
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
