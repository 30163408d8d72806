/**
 * Alerts: which conditions hold, and what to tell people about them. Pure (the alerts workflow runs it):
 *
 *   conditions   the rules (from the spec's `alerts`) over one observation of the warehouse (the ADS
 *                tables in the sink) and of the pipeline (its workflow's status)
 *   decideAlerts (what was active, what holds now, now) → notifications to send and the new active set:
 *                a condition fires once when it starts, stays quiet while it holds, and sends one
 *                "resolved" when it clears. A source that could not be read keeps its conditions as
 *                they were (unknown is not resolved). One-shot pipeline events (a redeploy rolled back,
 *                a stateless start) are sent once each.
 *   outbox       deliveries (one notification × one webhook) waiting to reach their webhook.
 *
 * No Node built-ins, no I/O: workflow code imports this.
 */
import type { AlertsSpec, WebhookFormat } from './spec';
import type { PipelineState } from './types';

type AlertRule =
  | 'overload'
  | 'equipment-alarm'
  | 'alarm-count'
  | 'pipeline-degraded'
  | 'pipeline-blocked'
  | 'falling-behind'
  | 'verification-failed'
  | 'redeploy-rolled-back'
  | 'redeploy-failed'
  | 'stateless-start'
  | 'sink-differs'
  | 'repaired'
  | 'repair-failed'
  | 'test';

export type Severity = 'critical' | 'warning' | 'info';

/** Which observation a rule reads: a source that could not be read resolves nothing. */
const SOURCE: Record<AlertRule, 'warehouse' | 'pipeline' | 'none'> = {
  overload: 'warehouse',
  'equipment-alarm': 'warehouse',
  'alarm-count': 'warehouse',
  'pipeline-degraded': 'pipeline',
  'pipeline-blocked': 'pipeline',
  'falling-behind': 'pipeline',
  'verification-failed': 'pipeline',
  'redeploy-rolled-back': 'pipeline',
  'redeploy-failed': 'pipeline',
  'stateless-start': 'pipeline',
  'sink-differs': 'pipeline',
  repaired: 'pipeline',
  'repair-failed': 'pipeline',
  test: 'none',
};

/** Pipeline alert kinds (src/workflows/pipeline-state.ts alert()) that are one-shot events worth a message. */
const EVENT_KINDS: Readonly<Record<string, AlertRule>> = {
  'redeploy-rolled-back': 'redeploy-rolled-back',
  'redeploy-failed': 'redeploy-failed',
  'stateless-start': 'stateless-start',
  repaired: 'repaired',
  'repair-failed': 'repair-failed',
  'repair-not-equal': 'repair-failed',
};

/** On the first evaluation, pipeline events at most this old are sent (older ones were before alerts ran). */
export const EVENT_LOOKBACK_MS = 10 * 60_000;

/** At most this many equipment ids are listed in one message; the rest are counted. */
export const MAX_LISTED = 20;

export interface AlertRules {
  overload: boolean;
  equipmentAlarm: boolean;
  alarmCountAbove: number | null;
  pipeline: boolean;
  /** The pipeline's watch.maxFreshness in ms: the sink further behind than this is "falling behind". */
  maxFreshnessMs: number;
}

export function rulesOf(alerts: AlertsSpec, maxFreshnessMs: number): AlertRules {
  return {
    overload: alerts.overload,
    equipmentAlarm: alerts.equipmentAlarm,
    alarmCountAbove: alerts.alarmCountAbove ?? null,
    pipeline: alerts.pipeline,
    maxFreshnessMs,
  };
}

// ------------------------------------------------------------------------------------------ observations

export interface OverloadedRegion {
  region: string;
  utilization: string | null;
  currentLoadMw: string;
  installedCapacityMw: string;
}

export interface AlarmEquipment {
  equipmentId: string;
  name: string;
  region: string;
  healthScore: number;
}

export interface WarehouseObservation {
  overloaded: OverloadedRegion[];
  /** Every equipment whose risk_level is 告警 (at most the activity's limit). */
  alarming: AlarmEquipment[];
  /** ads_grid_dashboard.alarm_count; null without a dashboard row (an empty source). */
  alarmCount: number | null;
}

export interface PipelineObservation {
  state: PipelineState;
  reason: string | null;
  /** status.freshness.lagMs: how far behind the sink is; null when not measured. */
  lagMs: number | null;
  lastVerification: { runId: string; ok: boolean; at: number; summary: string } | null;
  /** status.sinkDifference: what the sink differs in, while it does (absent: an older status). */
  sinkDifference?: { since: number; rows: number; tables: string[]; summary: string } | null;
  /** status.alerts: the pipeline's own alerts, newest first. */
  events: Array<{ at: number; kind: string; message: string }>;
}

/** One evaluation's reading of both sources; a source that failed carries its error instead. */
export interface AlertObservation {
  /** Epoch ms (activity clock): every decision uses this, never the workflow's clock. */
  at: number;
  pipeline: PipelineObservation | { error: string };
  warehouse: WarehouseObservation | { error: string };
}

const failed = (o: object): o is { error: string } => 'error' in o;

// ------------------------------------------------------------------------------------------ conditions

interface Condition {
  /** Stable while the condition holds: `overload:华北`, `equipment-alarm:GEN-0001`, `pipeline:DEGRADED`. */
  key: string;
  rule: AlertRule;
  severity: Severity;
  /** One line, e.g. "华北 overloaded: utilization 0.9312". */
  summary: string;
}

export interface ActiveCondition extends Condition {
  /** Epoch ms it started (the observation that first saw it). */
  since: number;
}

const RESTING: ReadonlySet<PipelineState> = new Set<PipelineState>(['PAUSING', 'PAUSED', 'DECOMMISSIONING', 'DECOMMISSIONED']);

/** Conditions that hold in this observation, by the rules; only from sources that were read. */
export function conditionsOf(obs: AlertObservation, rules: AlertRules): Condition[] {
  const out: Condition[] = [];
  const w = obs.warehouse;
  if (!failed(w)) {
    if (rules.overload) {
      for (const r of w.overloaded) {
        out.push({
          key: `overload:${r.region}`,
          rule: 'overload',
          severity: 'critical',
          summary: `${r.region} overloaded: utilization ${r.utilization ?? '?'} (load ${r.currentLoadMw} MW of ${r.installedCapacityMw} MW installed)`,
        });
      }
    }
    if (rules.equipmentAlarm) {
      for (const e of w.alarming) {
        out.push({ key: `equipment-alarm:${e.equipmentId}`, rule: 'equipment-alarm', severity: 'warning', summary: `${e.equipmentId} ${e.name} (${e.region}) 告警, health score ${e.healthScore}` });
      }
    }
    if (rules.alarmCountAbove !== null && w.alarmCount !== null && w.alarmCount > rules.alarmCountAbove) {
      out.push({ key: 'alarm-count', rule: 'alarm-count', severity: 'critical', summary: `${w.alarmCount} equipment in 告警 (threshold ${rules.alarmCountAbove})` });
    }
  }
  const p = obs.pipeline;
  if (!failed(p) && rules.pipeline) {
    if (p.state === 'DEGRADED') out.push({ key: 'pipeline:DEGRADED', rule: 'pipeline-degraded', severity: 'critical', summary: `pipeline DEGRADED: ${p.reason ?? 'no reason given'}` });
    if (p.state === 'BLOCKED') out.push({ key: 'pipeline:BLOCKED', rule: 'pipeline-blocked', severity: 'critical', summary: `pipeline BLOCKED: ${p.reason ?? 'no reason given'}` });
    if (!RESTING.has(p.state) && p.lagMs !== null && p.lagMs > rules.maxFreshnessMs) {
      out.push({ key: 'falling-behind', rule: 'falling-behind', severity: 'warning', summary: `the sink is ${formatSeconds(p.lagMs)} behind (limit ${formatSeconds(rules.maxFreshnessMs)})` });
    }
    if (p.lastVerification && !p.lastVerification.ok && !RESTING.has(p.state)) {
      out.push({ key: 'verification-failed', rule: 'verification-failed', severity: 'critical', summary: `verification ${p.lastVerification.runId} failed: ${p.lastVerification.summary}` });
    }
    // Fires while the sink differs from the contract; resolved once a verification (or a repair's proof) finds it equal.
    const d = p.sinkDifference;
    if (d && !RESTING.has(p.state)) {
      out.push({ key: 'sink-differs', rule: 'sink-differs', severity: 'critical', summary: `sink differs from the contract: ${d.rows} row(s) in ${d.tables.join(', ')} — ${d.summary}` });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ notifications

type NotificationKind = 'firing' | 'resolved' | 'event' | 'test';

export interface Notification {
  /** Unique and deterministic: `firing:overload:华北:<at>`. */
  id: string;
  pipeline: string;
  kind: NotificationKind;
  rule: AlertRule;
  severity: Severity;
  /** The condition keys it speaks for (several for a group of equipment). */
  keys: string[];
  title: string;
  lines: string[];
  /** Epoch ms of the observation that made it. */
  at: number;
  /** When the condition started (resolved: how long it held). */
  since?: number;
}

export interface AlertState {
  active: ActiveCondition[];
  /** Newest pipeline event already sent (epoch ms); null before the first evaluation. */
  eventsSeenUntil: number | null;
}

export const emptyAlertState = (): AlertState => ({ active: [], eventsSeenUntil: null });

const RULE_TITLE: Record<AlertRule, string> = {
  overload: 'region overloaded',
  'equipment-alarm': 'equipment in 告警',
  'alarm-count': 'alarm count above threshold',
  'pipeline-degraded': 'pipeline DEGRADED',
  'pipeline-blocked': 'pipeline BLOCKED',
  'falling-behind': 'sink falling behind',
  'verification-failed': 'verification failed',
  'redeploy-rolled-back': 'redeploy rolled back',
  'redeploy-failed': 'redeploy failed',
  'stateless-start': 'job started without state',
  'sink-differs': 'sink differs from the contract',
  repaired: 'sink repaired',
  'repair-failed': 'repair did not make the sink equal',
  test: 'test message',
};

/**
 * What to send now, and what is active afterwards. Firing: a condition that holds now and was not
 * active. Resolved: an active condition that no longer holds, when its source was read. Held: nothing
 * (its summary is refreshed). Equipment entering or leaving 告警 in one evaluation are one message each
 * way (a list), so a storm is one message, not hundreds.
 */
export function decideAlerts(
  previous: AlertState,
  obs: AlertObservation,
  rules: AlertRules,
  pipeline: string,
): { state: AlertState; notifications: Notification[] } {
  const now = conditionsOf(obs, rules);
  const nowByKey = new Map(now.map((c) => [c.key, c]));
  const before = new Map(previous.active.map((c) => [c.key, c]));
  const read = { warehouse: !failed(obs.warehouse), pipeline: !failed(obs.pipeline), none: false };

  const started: Condition[] = now.filter((c) => !before.has(c.key));
  const cleared: ActiveCondition[] = previous.active.filter((c) => !nowByKey.has(c.key) && read[SOURCE[c.rule]]);
  const clearedKeys = new Set(cleared.map((c) => c.key));
  const active: ActiveCondition[] = [
    // Held (refreshed summary) or unknown (source not read): kept, in their order.
    ...previous.active.filter((c) => !clearedKeys.has(c.key)).map((c) => ({ ...c, ...(nowByKey.get(c.key) ?? {}), since: c.since })),
    ...started.map((c) => ({ ...c, since: obs.at })),
  ];

  const notifications: Notification[] = [];
  const single = (kind: 'firing' | 'resolved', c: Condition | ActiveCondition, since?: number): Notification => ({
    id: `${kind}:${c.key}:${obs.at}`,
    pipeline,
    kind,
    rule: c.rule,
    severity: kind === 'resolved' ? 'info' : c.severity,
    keys: [c.key],
    title: `${kind === 'resolved' ? 'resolved: ' : ''}${RULE_TITLE[c.rule]}`,
    lines: kind === 'resolved' ? [`${c.summary}`, `held for ${formatSeconds(obs.at - (since ?? obs.at))}`] : [c.summary],
    at: obs.at,
    ...(since !== undefined ? { since } : {}),
  });
  const grouped = (kind: 'firing' | 'resolved', list: Array<Condition | ActiveCondition>): Notification | null => {
    if (!list.length) return null;
    if (list.length === 1) return single(kind, list[0], 'since' in list[0] ? list[0].since : undefined);
    const ids = list.map((c) => c.key.slice('equipment-alarm:'.length));
    const shown = list.slice(0, MAX_LISTED).map((c) => c.summary);
    if (list.length > MAX_LISTED) shown.push(`… and ${list.length - MAX_LISTED} more`);
    return {
      id: `${kind}:equipment-alarm:${obs.at}`,
      pipeline,
      kind,
      rule: 'equipment-alarm',
      severity: kind === 'resolved' ? 'info' : 'warning',
      keys: list.map((c) => c.key),
      title: kind === 'firing' ? `${ids.length} equipment entered 告警` : `resolved: ${ids.length} equipment left 告警`,
      lines: shown,
      at: obs.at,
    };
  };

  for (const c of cleared.filter((c) => c.rule !== 'equipment-alarm')) notifications.push(single('resolved', c, c.since));
  const leftAlarm = grouped('resolved', cleared.filter((c) => c.rule === 'equipment-alarm'));
  if (leftAlarm) notifications.push(leftAlarm);
  for (const c of started.filter((c) => c.rule !== 'equipment-alarm')) notifications.push(single('firing', c));
  const enteredAlarm = grouped('firing', started.filter((c) => c.rule === 'equipment-alarm'));
  if (enteredAlarm) notifications.push(enteredAlarm);

  // One-shot events from the pipeline's own alerts, each once (by time; several in one ms are distinct by kind).
  let eventsSeenUntil = previous.eventsSeenUntil;
  const p = obs.pipeline;
  if (!failed(p)) {
    const after = previous.eventsSeenUntil ?? obs.at - EVENT_LOOKBACK_MS;
    const fresh = p.events.filter((e) => EVENT_KINDS[e.kind] && (previous.eventsSeenUntil === null ? e.at >= after : e.at > after));
    if (rules.pipeline) {
      for (const e of [...fresh].sort((a, b) => a.at - b.at)) {
        const rule = EVENT_KINDS[e.kind];
        notifications.push({
          id: `event:${e.kind}:${e.at}`,
          pipeline,
          kind: 'event',
          rule,
          severity: rule === 'stateless-start' ? 'warning' : 'critical',
          keys: [`event:${e.kind}:${e.at}`],
          title: RULE_TITLE[rule],
          lines: [e.message],
          at: e.at,
        });
      }
    }
    eventsSeenUntil = Math.max(after, ...p.events.map((e) => e.at));
  }
  return { state: { active, eventsSeenUntil }, notifications };
}

/** A message to check the webhooks (`gridflow alerts test`). */
export function testNotification(pipeline: string, at: number, requestId: string, text?: string): Notification {
  return {
    id: `test:${requestId}`,
    pipeline,
    kind: 'test',
    rule: 'test',
    severity: 'info',
    keys: [],
    title: 'test message',
    lines: [text ?? `gridflow alerts for pipeline ${pipeline} reach this webhook`],
    at,
  };
}

// ------------------------------------------------------------------------------------------ outbox

export interface WebhookRef {
  name: string;
  format: WebhookFormat;
}

/** One notification on its way to one webhook. */
export interface Delivery {
  id: string;
  webhook: WebhookRef;
  notification: Notification;
}

export interface DeliveryRecord {
  id: string;
  webhook: string;
  title: string;
  outcome: 'delivered' | 'failed' | 'dropped';
  /** Epoch ms of the outcome. */
  at: number;
  attempts: number | null;
  error: string | null;
}

/** Deliveries waiting at most (oldest are dropped beyond it, and recorded as dropped). */
const MAX_OUTBOX = 200;

export function deliveriesFor(notifications: readonly Notification[], webhooks: readonly WebhookRef[]): Delivery[] {
  return notifications.flatMap((n) => webhooks.map((w) => ({ id: `${n.id}>${w.name}`, webhook: w, notification: n })));
}

/** Add to the outbox (a delivery id already there is not added twice); what overflowed is returned. */
export function enqueue(outbox: readonly Delivery[], add: readonly Delivery[], max = MAX_OUTBOX): { outbox: Delivery[]; dropped: Delivery[] } {
  const ids = new Set(outbox.map((d) => d.id));
  const all = [...outbox, ...add.filter((d) => !ids.has(d.id) && ids.add(d.id))];
  const over = Math.max(0, all.length - max);
  return { outbox: all.slice(over), dropped: all.slice(0, over) };
}

export function formatSeconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
