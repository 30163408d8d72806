/**
 * AlertsWorkflow — one per pipeline (`alerts:<name>`), beside the pipeline workflow, never inside it:
 *
 *   evaluate   every alerts.every: observe (the pipeline's status query, the ADS tables in the sink),
 *              decide (src/core/alerts.ts: firing once when a condition starts, resolved when it
 *              clears, nothing while it holds), put each notification × webhook in the outbox
 *   deliver    every outbox entry is its own activity, retried with exponential backoff by its retry
 *              policy (up to giveUpAfterMs, a day by default); deliveries run beside the evaluation
 *              loop, which never waits for them. The outbox is workflow state: it survives a worker
 *              restart, and continue-as-new carries what is still undelivered (at least once).
 *   stop       (signal, from decommission) or the pipeline DECOMMISSIONED: stop evaluating, let the
 *              outbox drain (bounded), end.
 *
 * Nothing here can block the pipeline: it only reads the pipeline's status.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AlertActivities } from '../activities/alerts';
import { AlertState, Delivery, DeliveryRecord, decideAlerts, deliveriesFor, emptyAlertState, enqueue, rulesOf, testNotification } from '../core/alerts';
import { PipelineSpec, SpecError, durationMs, parseSpec } from '../core/spec';
import {
  AlertsStatus,
  AlertsWorkflowInput,
  DEFAULT_DELIVERY_POLICY,
  alertsConfigureSignal,
  alertsStatusQuery,
  alertsStopSignal,
  alertsTestUpdate,
} from './alerts-definitions';
import { failureMessage } from './failure-message';

const observer = proxyActivities<AlertActivities>({
  // Two short reads; a slow database must not hold the loop (the next round tries again).
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 2 },
});

/** Newest delivery outcomes kept for `gridflow alerts status`. */
const MAX_RECENT = 50;
/** After stop: how long the outbox may take to drain before the workflow ends anyway. */
const DRAIN_MS = 10 * 60_000;

function parse(spec: unknown): PipelineSpec {
  try {
    return parseSpec(spec);
  } catch (err) {
    if (err instanceof SpecError) throw ApplicationFailure.nonRetryable(err.message, 'SpecError');
    throw err;
  }
}

export async function AlertsWorkflow(input: AlertsWorkflowInput): Promise<AlertsStatus> {
  let spec = parse(input.spec);
  const policy = { ...DEFAULT_DELIVERY_POLICY, ...(input.delivery ?? {}) };
  let alerts: AlertState = input.carried?.alerts ?? emptyAlertState();
  let outbox: Delivery[] = input.carried?.outbox ?? [];
  let recent: DeliveryRecord[] = input.carried?.recent ?? [];
  let lastEvaluation: AlertsStatus['lastEvaluation'] = input.carried?.lastEvaluation ?? null;
  let stopping = input.carried?.stopping === true;
  let wake = false;
  const inFlight = new Set<string>();

  const status = (): AlertsStatus => ({
    pipeline: spec.name,
    every: spec.alerts?.every ?? null,
    webhooks: spec.alerts?.webhooks ?? [],
    active: alerts.active,
    outbox,
    recent,
    lastEvaluation,
    stopping,
  });
  const remember = (r: DeliveryRecord) => {
    recent = [r, ...recent].slice(0, MAX_RECENT);
  };

  // ------------------------------------------------------------------ delivery
  /** One activity per delivery; its id names the delivery, so Temporal's pending-activity view shows which. */
  const deliverer = (d: Delivery) =>
    proxyActivities<AlertActivities>({
      activityId: `deliver ${d.id}`,
      startToCloseTimeout: '30 seconds',
      scheduleToCloseTimeout: policy.giveUpAfterMs,
      retry: {
        initialInterval: policy.initialIntervalMs,
        backoffCoefficient: 2,
        maximumInterval: policy.maximumIntervalMs,
        nonRetryableErrorTypes: ['WebhookRefused', 'WebhookNotConfigured'],
      },
    });

  const deliver = async (d: Delivery) => {
    try {
      const r = await deliverer(d).deliverAlert({ delivery: d });
      remember({ id: d.id, webhook: d.webhook.name, title: d.notification.title, outcome: 'delivered', at: r.at, attempts: r.attempt, error: null });
    } catch (err) {
      // Refused for good, or retried until giveUpAfterMs: recorded where operators look.
      remember({ id: d.id, webhook: d.webhook.name, title: d.notification.title, outcome: 'failed', at: Date.now(), attempts: null, error: failureMessage(err) });
      log.warn(`alert ${d.id} not delivered: ${failureMessage(err)}`);
    } finally {
      inFlight.delete(d.id);
      outbox = outbox.filter((x) => x.id !== d.id);
    }
  };

  /** Start every outbox entry not yet on its way. Never awaited: evaluation goes on meanwhile. */
  const pump = () => {
    for (const d of outbox) {
      if (inFlight.has(d.id)) continue;
      inFlight.add(d.id);
      void deliver(d);
    }
  };
  const post = (add: Delivery[]) => {
    const next = enqueue(outbox, add);
    outbox = next.outbox;
    for (const d of next.dropped) {
      remember({ id: d.id, webhook: d.webhook.name, title: d.notification.title, outcome: 'dropped', at: Date.now(), attempts: null, error: 'the outbox was full (oldest dropped first)' });
    }
    pump();
  };

  // ------------------------------------------------------------------ messages
  setHandler(alertsStatusQuery, status);
  setHandler(alertsConfigureSignal, ({ spec: next }) => {
    try {
      const parsed = parseSpec(next);
      if (parsed.name !== spec.name) throw new Error(`the spec is for pipeline ${parsed.name}, not ${spec.name}`);
      spec = parsed;
      wake = true;
    } catch (err) {
      // A signal cannot be refused to its sender: the last good spec stays, the reason is shown.
      lastEvaluation = { at: lastEvaluation?.at ?? 0, pipelineError: lastEvaluation?.pipelineError ?? null, warehouseError: lastEvaluation?.warehouseError ?? null, error: `configure ignored: ${failureMessage(err)}` };
    }
  });
  setHandler(alertsStopSignal, () => {
    stopping = true;
  });
  setHandler(
    alertsTestUpdate,
    ({ requestId, text }) => {
      const n = testNotification(spec.name, Date.now(), requestId, text);
      const add = deliveriesFor([n], spec.alerts?.webhooks ?? []);
      post(add);
      return add.map((d) => d.id);
    },
    {
      validator: (request) => {
        if (!request || typeof request.requestId !== 'string' || !request.requestId) throw new Error('a test request needs a requestId');
        if (request.text !== undefined && (typeof request.text !== 'string' || request.text.length > 2000)) throw new Error('text must be a string of at most 2000 characters');
        if (!spec.alerts?.webhooks.length) throw new Error(`pipeline ${spec.name} names no webhooks (spec field alerts.webhooks)`);
        if (stopping) throw new Error('the alerts workflow is stopping');
      },
    },
  );

  // ------------------------------------------------------------------ loop
  pump(); // what a previous run (continue-as-new) left undelivered

  while (!stopping && spec.alerts) {
    const rules = rulesOf(spec.alerts, durationMs(spec.watch.maxFreshness));
    try {
      const obs = await observer.observeAlerts({ spec });
      const decided = decideAlerts(alerts, obs, rules, spec.name);
      alerts = decided.state;
      lastEvaluation = {
        at: obs.at,
        pipelineError: 'error' in obs.pipeline ? obs.pipeline.error : null,
        warehouseError: 'error' in obs.warehouse ? obs.warehouse.error : null,
        error: null,
      };
      if (decided.notifications.length) post(deliveriesFor(decided.notifications, spec.alerts.webhooks));
      if (!('error' in obs.pipeline) && obs.pipeline.state === 'DECOMMISSIONED') stopping = true;
    } catch (err) {
      lastEvaluation = { at: lastEvaluation?.at ?? 0, pipelineError: null, warehouseError: null, error: failureMessage(err) };
    }
    if (stopping) break;
    await condition(() => wake || stopping, durationMs(spec.alerts?.every ?? '30s'));
    wake = false;
    if (stopping) break; // before continue-as-new, which would forget the request

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      // In-flight deliveries are abandoned with this run and started again by the next: at least once.
      return continueAsNew<typeof AlertsWorkflow>({ spec, delivery: policy, carried: { alerts, outbox, recent, lastEvaluation, stopping } });
    }
  }

  stopping = true;
  await condition(() => outbox.length === 0, DRAIN_MS);
  await condition(allHandlersFinished);
  return status();
}
