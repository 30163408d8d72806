/**
 * The alerts workflow's activities: one observation (the pipeline's status through Temporal, the ADS
 * tables in the sink) and one delivery (one notification POSTed to one webhook). Observing never fails
 * the activity: a source that cannot be read comes back as its error, so the decision keeps that
 * source's conditions as they were. Delivering fails retryably (connection refused, timeout, 5xx, a rate
 * limit) or non-retryably (any other 4xx, a platform refusing the message, a webhook not configured).
 */
import { createHmac } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { PgConnection, loadConfig, resolveConnection } from '../config';
import { pipelineWorkflowId } from '../constants';
import { AlarmEquipment, AlertObservation, Delivery, OverloadedRegion, PipelineObservation, WarehouseObservation } from '../core/alerts';
import { formatMessage, judgeResponse } from '../core/alert-formats';
import { redact } from '../core/redact';
import { PipelineSpec } from '../core/spec';
import type { PipelineStatus } from '../core/state';
import { query, withClient } from '../postgres/connection';
import { knownSecrets } from '../secrets';
import { Webhook, resolveWebhook } from '../webhooks';
import { statusQuery } from '../workflows/definitions';

/** At most this many equipment in 告警 are read per evaluation (the message lists 20 and counts the rest). */
const ALARM_READ_LIMIT = 2000;
/** One POST gives up after this long (the retry policy tries again). */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface AlertDeps {
  /** The pipeline workflow's status query; throws when there is no such workflow. */
  pipelineStatus(pipeline: string): Promise<PipelineStatus>;
  connection(name: string): PgConnection;
  webhook(name: string): Webhook;
  now(): number;
  timeoutMs?: number;
}

const DELIVERY_ERRORS = { refused: 'WebhookRefused', notConfigured: 'WebhookNotConfigured' } as const;

/** An error's sentence with its cause (fetch says "fetch failed"; the cause says ECONNREFUSED). Duck-typed: undici's errors may come from another realm. */
function message(err: unknown): string {
  const text = (e: unknown) => (e && typeof e === 'object' && 'message' in e ? String((e as { message: unknown }).message) : String(e));
  const cause = err && typeof err === 'object' && 'cause' in err ? (err as { cause: unknown }).cause : undefined;
  return redact(text(err) + (cause ? ` (${text(cause)})` : ''), knownSecrets());
}

export function createAlertActivities(deps: AlertDeps) {
  async function readPipeline(spec: PipelineSpec): Promise<PipelineObservation | { error: string }> {
    try {
      const s = await deps.pipelineStatus(spec.name);
      return {
        state: s.state,
        reason: s.reason,
        lagMs: s.freshness?.lagMs ?? null,
        lastVerification: s.lastVerification ? { runId: s.lastVerification.runId, ok: s.lastVerification.ok, at: s.lastVerification.at, summary: s.lastVerification.summary } : null,
        sinkDifference: s.sinkDifference ? { since: s.sinkDifference.since, rows: s.sinkDifference.rows, tables: s.sinkDifference.tables, summary: s.sinkDifference.summary } : null,
        events: (s.alerts ?? []).map((a) => ({ at: a.at, kind: a.kind, message: a.message })),
      };
    } catch (err) {
      return { error: `cannot read the status of ${pipelineWorkflowId(spec.name)}: ${message(err)}` };
    }
  }

  async function readWarehouse(spec: PipelineSpec): Promise<WarehouseObservation | { error: string }> {
    // The schema is a validated identifier (spec.ts); values are parameters.
    const schema = spec.sink.schema!;
    try {
      return await withClient(
        deps.connection(spec.sink.connection),
        async (c) => {
          const overloaded = await query<{ region: string; utilization: string | null; current_load_mw: string; installed_capacity_mw: string }>(
            c,
            `read overloaded regions from ${schema}.ads_capacity_planning`,
            `SELECT region, utilization, current_load_mw, installed_capacity_mw FROM ${schema}.ads_capacity_planning WHERE overload_alert ORDER BY region`,
          );
          const alarming = await query<{ equipment_id: string; equipment_name: string; region: string; health_score: number }>(
            c,
            `read equipment in 告警 from ${schema}.ads_equipment_health`,
            `SELECT equipment_id, equipment_name, region, health_score FROM ${schema}.ads_equipment_health WHERE risk_level = '告警' ORDER BY equipment_id LIMIT ${ALARM_READ_LIMIT}`,
          );
          const dashboard = await query<{ alarm_count: string }>(c, `read ${schema}.ads_grid_dashboard`, `SELECT alarm_count FROM ${schema}.ads_grid_dashboard WHERE dashboard_id = 'grid'`);
          return {
            overloaded: overloaded.rows.map((r): OverloadedRegion => ({ region: r.region, utilization: r.utilization, currentLoadMw: r.current_load_mw, installedCapacityMw: r.installed_capacity_mw })),
            alarming: alarming.rows.map((r): AlarmEquipment => ({ equipmentId: r.equipment_id, name: r.equipment_name, region: r.region, healthScore: r.health_score })),
            alarmCount: dashboard.rows.length ? Number(dashboard.rows[0].alarm_count) : null,
          };
        },
        { applicationName: 'gridflow-alerts', statementTimeoutMs: 15_000 },
      );
    } catch (err) {
      return { error: `cannot read the warehouse (${schema}): ${message(err)}` };
    }
  }

  return {
    /** One reading of both sources; never throws for a source that is down (its error is the observation). */
    async observeAlerts(input: { spec: PipelineSpec }): Promise<AlertObservation> {
      const [pipeline, warehouse] = await Promise.all([readPipeline(input.spec), readWarehouse(input.spec)]);
      return { at: deps.now(), pipeline, warehouse };
    },

    /** POST one notification to one webhook. Idempotent enough: at least once, the id travels with it. */
    async deliverAlert(input: { delivery: Delivery }): Promise<{ at: number; attempt: number; status: number }> {
      const { webhook: ref, notification } = input.delivery;
      let hook: Webhook;
      try {
        hook = deps.webhook(ref.name);
      } catch (err) {
        throw ApplicationFailure.create({ type: DELIVERY_ERRORS.notConfigured, message: message(err), nonRetryable: true });
      }
      const { url, body } = signed(hook, ref.format, formatMessage(notification, ref.format), deps.now());
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'x-gridflow-notification': encodeURIComponent(input.delivery.id) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(deps.timeoutMs ?? DELIVERY_TIMEOUT_MS),
        });
      } catch (err) {
        // Connection refused, DNS, timeout: the receiver may come back; the retry policy tries again.
        throw ApplicationFailure.create({ type: 'WebhookUnreachable', message: `webhook ${ref.name} unreachable: ${message(err)}` });
      }
      const text = await res.text().catch(() => '');
      const verdict = judgeResponse(ref.format, res.status, text);
      if (!verdict.ok) {
        const why = redact(`webhook ${ref.name}: ${verdict.reason}`, knownSecrets());
        throw ApplicationFailure.create({ type: verdict.retry ? 'WebhookUnavailable' : DELIVERY_ERRORS.refused, message: why, nonRetryable: !verdict.retry });
      }
      let attempt = 1;
      try {
        attempt = Context.current().info.attempt;
      } catch {
        /* called outside an activity (unit tests) */
      }
      return { at: deps.now(), attempt, status: res.status };
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;

/**
 * DingTalk 加签: timestamp (ms) and sign = base64(HMAC-SHA256(key = secret, timestamp + "\n" + secret))
 * in the query. Feishu 签名校验: timestamp (s) and sign = base64(HMAC-SHA256(key = timestamp + "\n" +
 * secret, "")) in the body. WeCom and generic receivers: as is.
 */
export function signed(hook: Webhook, format: string, body: object, nowMs: number): { url: string; body: object } {
  if (!hook.secret) return { url: hook.url, body };
  if (format === 'dingtalk') {
    const sign = createHmac('sha256', hook.secret).update(`${nowMs}\n${hook.secret}`).digest('base64');
    const u = new URL(hook.url);
    u.searchParams.set('timestamp', String(nowMs));
    u.searchParams.set('sign', sign);
    return { url: u.toString(), body };
  }
  if (format === 'feishu') {
    const ts = Math.floor(nowMs / 1000);
    const sign = createHmac('sha256', `${ts}\n${hook.secret}`).update('').digest('base64');
    return { url: hook.url, body: { timestamp: String(ts), sign, ...body } };
  }
  return { url: hook.url, body };
}

/** The worker's: the status through its own Temporal client (made on first use), webhooks from its environment. */
export function defaultAlertDeps(temporal: () => Promise<Client>): AlertDeps {
  const config = loadConfig();
  return {
    pipelineStatus: async (pipeline) => (await temporal()).workflow.getHandle(pipelineWorkflowId(pipeline)).query(statusQuery),
    connection: (name) => resolveConnection(name, config),
    webhook: (name) => resolveWebhook(name),
    now: () => Date.now(),
  };
}
