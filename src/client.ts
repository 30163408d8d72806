/** Talking to the pipeline workflows from outside: the CLI, tests and the verification workflow's starter. */
import { Client, Connection, WorkflowHandle, WorkflowIdConflictPolicy } from '@temporalio/client';
import { TypedSearchAttributes, defineSearchAttributeKey } from '@temporalio/common';
import { GridflowConfig, loadConfig, temporalConnectionOptions } from './config';
import { SEARCH_ATTRIBUTES, TASK_QUEUE, pipelineWorkflowId } from './constants';
import { pipelineStartMetadata } from './core/metadata';
import { PipelineSpec } from './core/spec';
import { statusQuery } from './workflows/definitions';
import type { PipelineWorkflow } from './workflows/pipeline';

export const PIPELINE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.pipeline, 'KEYWORD');
const STATE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.state, 'KEYWORD');

export interface GridflowClient {
  client: Client;
  close(): Promise<void>;
}

export async function connectClient(config: GridflowConfig = loadConfig()): Promise<GridflowClient> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5000, ...temporalConnectionOptions(config) });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), close: () => connection.close() };
}

/**
 * Start the pipeline's workflow, or attach to it when it already runs (idempotent: never a second
 * workflow for one pipeline). Returns the handle and whether it was started now.
 */
export async function startPipeline(client: Client, spec: PipelineSpec, taskQueue = TASK_QUEUE) {
  const workflowId = pipelineWorkflowId(spec.name);
  const handle = await client.workflow.start<typeof PipelineWorkflow>('PipelineWorkflow', {
    taskQueue,
    workflowId,
    args: [{ spec }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // What the Temporal UI shows at the top of the workflow's page (the workflow keeps current details).
    ...pipelineStartMetadata(spec),
    typedSearchAttributes: new TypedSearchAttributes([
      { key: PIPELINE_KEY, value: spec.name },
      { key: STATE_KEY, value: 'DEPLOYING' },
    ]),
  });
  const started = handle.firstExecutionRunId !== undefined;
  return { handle, started };
}

export function pipelineHandle(client: Client, name: string): WorkflowHandle<typeof PipelineWorkflow> {
  return client.workflow.getHandle<typeof PipelineWorkflow>(pipelineWorkflowId(name));
}

export async function pipelineStatus(client: Client, name: string) {
  return pipelineHandle(client, name).query(statusQuery);
}
