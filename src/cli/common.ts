/** Pieces the pipeline commands share: the spec to act on, the Temporal connection, worker presence. */
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { temporal } from '@temporalio/proto';
import { Client } from '@temporalio/client';
import { GridflowConfig } from '../config';
import { GridflowClient, connectClient } from '../client';
import { TASK_QUEUE } from '../constants';
import { localSpec } from '../stack/local-spec';
import { PipelineSpec, parseSpec } from '../core/spec';
import { ClusterError, resolveEndpoints } from '../core/clusters';
import { OptionDefs, ParsedArgs, UsageError } from './args';

/** The options that name the pipeline to act on, the same for every command that takes them. */
export const PIPELINE_OPTIONS = {
  name: { type: 'string', description: 'the pipeline', defaultText: 'sgcc' },
  spec: { type: 'string', value: 'FILE', description: "the pipeline's spec, JSON or YAML", defaultText: "the local stack's SGCC pipeline named --name" },
} as const satisfies OptionDefs;

/** --spec FILE (JSON or YAML), else the local stack's SGCC spec named --name (default sgcc). */
export function specFromArgs(args: ParsedArgs, config: GridflowConfig): PipelineSpec {
  const file = args.flags.spec;
  if (typeof file === 'string') {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --spec ${file}: ${(err as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new UsageError(`--spec ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
    }
    const spec = parseSpec(raw);
    // The worker resolves the names again; saying it here fails before anything starts.
    try {
      resolveEndpoints(spec, config.clusters);
    } catch (err) {
      if (err instanceof ClusterError) throw new UsageError(`--spec ${file}: ${err.message}`);
      throw err;
    }
    return spec;
  }
  return localSpec(config, { name: pipelineName(args) });
}

export function pipelineName(args: ParsedArgs): string {
  const name = args.flags.name;
  return typeof name === 'string' ? name : 'sgcc';
}

export class TemporalUnavailable extends Error {
  override name = 'TemporalUnavailable';
}

export async function temporalClient(config: GridflowConfig): Promise<GridflowClient> {
  try {
    return await connectClient(config);
  } catch (err) {
    throw new TemporalUnavailable(
      `cannot reach Temporal at ${config.temporal.address} (${(err as Error).message}); start the local stack with \`gridflow stack up\` or set GRIDFLOW_TEMPORAL_ADDRESS`,
    );
  }
}

/** Workers polling the gridflow task queue right now (a real request to the server). */
export async function workerPollers(client: Client, namespace: string): Promise<string[]> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: TASK_QUEUE, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? []).map((p) => p.identity ?? 'unknown');
}

export function temporalUiLink(config: GridflowConfig, workflowId: string): string {
  const [host] = config.temporal.address.split(':');
  return `http://${host}:${config.stack.ports.temporalUi}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}
