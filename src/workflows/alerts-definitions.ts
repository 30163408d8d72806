/**
 * The alerts workflow's public surface (`alerts:<pipeline>`): its input, messages and status. The CLI,
 * `gridflow deploy` and the tests import these same definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActiveCondition, AlertState, Delivery, DeliveryRecord, WebhookRef } from '../core/alerts';
import type { PipelineSpecInput } from '../core/spec';

/** How a delivery is retried (the activity retry policy): exponential backoff, given up after giveUpAfterMs. */
export interface DeliveryPolicy {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** Stop retrying one delivery after this long (recorded as failed). */
  giveUpAfterMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { initialIntervalMs: 5_000, maximumIntervalMs: 10 * 60_000, giveUpAfterMs: 24 * 3_600_000 };

interface AlertsCarried {
  alerts: AlertState;
  outbox: Delivery[];
  recent: DeliveryRecord[];
  lastEvaluation: AlertsStatus['lastEvaluation'];
  /** A stop that arrived while the run was continuing as new. */
  stopping?: boolean;
}

export interface AlertsWorkflowInput {
  /** The pipeline's spec (names only); its `alerts` field holds the rules and the webhooks' names. */
  spec: PipelineSpecInput;
  delivery?: Partial<DeliveryPolicy>;
  /** Present after continue-as-new. */
  carried?: AlertsCarried;
}

export interface AlertsStatus {
  pipeline: string;
  every: string | null;
  webhooks: WebhookRef[];
  /** Conditions holding now (each announced once, when it started). */
  active: ActiveCondition[];
  /** Deliveries not yet done (retrying with backoff; `gridflow alerts status` adds the last error from Temporal). */
  outbox: Delivery[];
  /** Newest first: delivered, failed for good, or dropped. */
  recent: DeliveryRecord[];
  lastEvaluation: { at: number; pipelineError: string | null; warehouseError: string | null; error: string | null } | null;
  stopping: boolean;
}

/** Replace the spec (gridflow deploy/redeploy sends it with signalWithStart: starts the workflow when needed). */
export const alertsConfigureSignal = defineSignal<[{ spec: PipelineSpecInput }]>('configure');
/** Stop evaluating; deliver what is in the outbox (bounded), then end. Sent by decommission. */
export const alertsStopSignal = defineSignal<[{ reason?: string }]>('stop');
/** Queue a test message to every webhook; returns the delivery ids. An update: the caller follows them. */
export const alertsTestUpdate = defineUpdate<string[], [{ requestId: string; text?: string }]>('test');
export const alertsStatusQuery = defineQuery<AlertsStatus>('alertsStatus');

export function alertsWorkflowId(pipeline: string): string {
  return `alerts:${pipeline}`;
}
