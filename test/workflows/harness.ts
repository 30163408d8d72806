/**
 * The pipeline workflow on Temporal's test server with a cluster model's activities: one environment
 * per test file, the bundle global-setup wrote, and the waits every workflow test uses.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { PipelineStatus } from '../../src/core/state';
import { PipelineWorkflow } from '../../src/workflows/pipeline';
import { createTestEnv, workflowBundle } from '../support/temporal';
import { waitForStatus } from '../support/wait';
import { ClusterModel } from './doubles';

jest.setTimeout(120_000);

export let env: TestWorkflowEnvironment;
export let bundle: { code: string };

beforeAll(async () => {
  env = await createTestEnv({ 'limit.historyCount.suggestContinueAsNew': 400 });
  bundle = await workflowBundle();
});

afterAll(async () => {
  await env?.teardown();
});

export type Handle = WorkflowHandle<typeof PipelineWorkflow>;

export async function withPipeline(
  model: ClusterModel,
  spec: Record<string, unknown>,
  body: (handle: Handle, taskQueue: string) => Promise<void>,
): Promise<void> {
  const taskQueue = `wf-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: model.activities(),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(PipelineWorkflow, {
      taskQueue,
      workflowId: `pipeline:${spec.name as string}-${randomUUID().slice(0, 8)}`,
      args: [{ spec: spec as never }],
    });
    await body(handle, taskQueue);
  });
}

export const waitFor = (handle: Handle, what: string, predicate: (s: PipelineStatus) => boolean, timeoutMs = 30_000) =>
  waitForStatus(handle, what, predicate, timeoutMs, 200);

/** The validator's or handler's own message, from the failure the client receives. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const messages: string[] = [];
    for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) messages.push(e.message ?? '');
    return messages.join(' <- ');
  }
  throw new Error('expected the update to be rejected');
}

/** Poll a condition on the model (events are written at the end of a step). */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the model');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const running = (s: PipelineStatus) => s.state === 'RUNNING' && s.jobs.every((j) => j.flinkState === 'RUNNING');

