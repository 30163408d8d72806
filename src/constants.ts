/** Names that more than one process must agree on, defined once. */

/** The worker polls this queue; clients and schedules start workflows on it. */
export const TASK_QUEUE = 'gridflow';

/**
 * Custom search attributes (registered by `gridflow stack up`; on a shared Temporal cluster an
 * operator registers them once with `temporal operator search-attribute create`).
 */
export const SEARCH_ATTRIBUTES = {
  pipeline: 'GridflowPipeline',
  state: 'GridflowState',
} as const;

export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword'> = {
  [SEARCH_ATTRIBUTES.pipeline]: 'Keyword',
  [SEARCH_ATTRIBUTES.state]: 'Keyword',
};

/** Identifiers that reach SQL (pipeline, job, table, connection names) must match this. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/** Flink job name of one pipeline job; the control plane finds its jobs by this name. */
export function flinkJobName(pipeline: string, job: string): string {
  return `gridflow/${pipeline}/${job}`;
}

export function pipelineWorkflowId(pipeline: string): string {
  return `pipeline:${pipeline}`;
}
