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

/** A cluster's name in the worker's configuration (GRIDFLOW_CLUSTERS; `local` is always there). */
export const CLUSTER_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** host:port[,host:port...] (a Fluss bootstrap list), as the spec, the configuration and the SQL templates check it. */
export const HOST_PORTS = /^[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/;

/** Flink job name of one pipeline job; the control plane finds its jobs by this name. */
export function flinkJobName(pipeline: string, job: string): string {
  return `gridflow/${pipeline}/${job}`;
}

export function pipelineWorkflowId(pipeline: string): string {
  return `pipeline:${pipeline}`;
}

/**
 * The freshness probe is a reading of this equipment id in the source's equipment_reading: it travels
 * the readings' own slot, reader, writers and aggregates, and the sink job routes it to
 * gridflow.probe_hops instead of dw. No power_equipment row may have this id (it would make the probe's
 * readings its latest); the reading's load_mw is the probe's number, PROBE_EPOCH_S seconds after which
 * it was sent (3 decimals: milliseconds), so every hop, even through a SUM, says when its probe left.
 */
export const PROBE_EQUIPMENT_ID = '~gridflow-probe';
export const PROBE_EPOCH_S = 1_577_836_800; // 2020-01-01T00:00:00Z
