/** Talking to a pipeline's alerts workflow (`alerts:<name>`) from outside: deploy, decommission, the CLI, tests. */
import { Client, WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { PIPELINE_KEY } from './client';
import { TASK_QUEUE } from './constants';
import { PipelineSpec, PipelineSpecInput } from './core/spec';
import { redact } from './core/redact';
import { knownSecrets } from './secrets';
import type { AlertsWorkflow } from './workflows/alerts';
import { AlertsStatus, DeliveryPolicy, alertsConfigureSignal, alertsStatusQuery, alertsStopSignal, alertsWorkflowId } from './workflows/alerts-definitions';

export function alertsHandle(client: Client, pipeline: string): WorkflowHandle<typeof AlertsWorkflow> {
  return client.workflow.getHandle<typeof AlertsWorkflow>(alertsWorkflowId(pipeline));
}

/**
 * Start the pipeline's alerts workflow with this spec, or hand the running one the spec (signalWithStart:
 * idempotent, never a second workflow per pipeline). Nothing when the spec has no `alerts`.
 */
export async function startAlerts(client: Client, spec: PipelineSpec, options: { taskQueue?: string; delivery?: Partial<DeliveryPolicy> } = {}) {
  if (!spec.alerts) return null;
  return client.workflow.signalWithStart<typeof AlertsWorkflow, [{ spec: PipelineSpecInput }]>('AlertsWorkflow', {
    workflowId: alertsWorkflowId(spec.name),
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [{ spec, ...(options.delivery ? { delivery: options.delivery } : {}) }],
    signal: alertsConfigureSignal,
    signalArgs: [{ spec }],
    typedSearchAttributes: new TypedSearchAttributes([{ key: PIPELINE_KEY, value: spec.name }]),
  });
}

/** Ask the alerts workflow to stop (it delivers what is waiting first); false when none runs. */
export async function stopAlerts(client: Client, pipeline: string, reason?: string): Promise<boolean> {
  try {
    await alertsHandle(client, pipeline).signal(alertsStopSignal, { reason });
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** A delivery still retrying, as Temporal's pending-activity view shows it. */
interface PendingDelivery {
  id: string;
  attempt: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}

/** Status from the workflow plus, for each delivery in the outbox, its attempts and last error from Temporal. */
export async function alertsStatus(client: Client, pipeline: string): Promise<AlertsStatus & { pending: PendingDelivery[]; running: boolean }> {
  const handle = alertsHandle(client, pipeline);
  const [status, described] = await Promise.all([handle.query(alertsStatusQuery), handle.describe()]);
  const pending = (described.raw.pendingActivities ?? [])
    .filter((a) => (a.activityId ?? '').startsWith('deliver '))
    .map((a) => ({
      id: (a.activityId ?? '').slice('deliver '.length),
      attempt: a.attempt ?? 0,
      lastError: a.lastFailure?.message ? redact(a.lastFailure.message, knownSecrets()) : null,
      nextAttemptAt: a.nextAttemptScheduleTime?.seconds ? new Date(Number(a.nextAttemptScheduleTime.seconds) * 1000).toISOString() : null,
    }));
  return { ...status, pending, running: described.status.name === 'RUNNING' };
}
