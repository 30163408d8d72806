/**
 * For end-to-end tests: a pipeline run by its own workflow, the way an operator's `gridflow deploy`
 * runs it — a real worker (this process, the real activities, the bundled workflow code) on a task
 * queue of its own, and PipelineWorkflow started on it. The one deploy path: there is no other.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { pipelineStartMetadata } from '../../src/core/metadata';
import { PipelineSpec } from '../../src/core/spec';
import type { PipelineStatus } from '../../src/core/state';
import { createWorker } from '../../src/worker';
import { PipelineWorkflow } from '../../src/workflows/pipeline';
import { BUNDLE_PATH } from './global-setup';
import { quietRuntime } from './temporal';
import { waitForStatus } from './wait';

export { waitForStatus };

export type PipelineHandle = WorkflowHandle<typeof PipelineWorkflow>;

export interface RunningPipeline {
  handle: PipelineHandle;
  client: Client;
  taskQueue: string;
  /** Poll the status query until `predicate` holds (throws with the last status after the timeout). */
  waitStatus(what: string, predicate: (s: PipelineStatus) => boolean, timeoutMs?: number): Promise<PipelineStatus>;
  /** Start another PipelineWorkflow for a spec on the same worker (a second workflow, or one after a decommission). */
  start(spec: PipelineSpec): Promise<PipelineHandle>;
  /** Terminate the workflow if it still runs (its Flink jobs keep running), stop the worker. */
  stop(): Promise<void>;
  /** Shut the worker down (the workflow waits, as it would for a dead worker) until resumeWorker. */
  pauseWorker(): Promise<void>;
  /** A new worker on the same task queue: the workflow continues from its history. */
  resumeWorker(): Promise<void>;
}

export const allRunning = (s: PipelineStatus) => s.state === 'RUNNING' && s.jobs.every((j) => j.flinkState === 'RUNNING');

/** `workflowId`: the pipeline's own id (`pipeline:<name>`) when a test needs what reaches it by that id (verification's signal). */
export async function runPipeline(spec: PipelineSpec, options: { workflowId?: string } = {}): Promise<RunningPipeline> {
  quietRuntime();
  const config = loadConfig();
  const taskQueue = `e2e-${randomUUID().slice(0, 8)}`;
  let { worker }: { worker: Worker } = await createWorker({ workflowBundle: { codePath: BUNDLE_PATH }, taskQueue });
  let running = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  let first = options.workflowId;
  const start = (s: PipelineSpec) => {
    const workflowId = first ?? `pipeline:${s.name}-${randomUUID().slice(0, 8)}`;
    first = undefined;
    return client.workflow.start(PipelineWorkflow, { taskQueue, workflowId, args: [{ spec: s }], ...pipelineStartMetadata(s) });
  };
  const pipeline: RunningPipeline = {
    handle: await start(spec),
    client,
    taskQueue,
    waitStatus: (what, predicate, timeoutMs) => waitForStatus(pipeline.handle, what, predicate, timeoutMs),
    start,
    async pauseWorker() {
      worker.shutdown();
      await running.catch(() => undefined);
    },
    async resumeWorker() {
      ({ worker } = await createWorker({ workflowBundle: { codePath: BUNDLE_PATH }, taskQueue }));
      running = worker.run();
    },
    async stop() {
      for (const h of [pipeline.handle]) {
        const d = await h.describe().catch(() => null);
        if (d?.status.name === 'RUNNING') await h.terminate('test cleanup').catch(() => undefined);
      }
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
  return pipeline;
}
