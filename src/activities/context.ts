/**
 * What activities need, resolved inside the worker: Flink clients for a spec's cluster (by name, from
 * the worker's configuration), Postgres connections by name (credentials from the environment), and
 * how to provide task slots.
 */
import { ApplicationFailure } from '@temporalio/common';
import { PgConnection, loadConfig, resolveConnection } from '../config';
import { ClusterError, Clusters, Endpoints, resolveEndpoints } from '../core/clusters';
import { SqlGatewayClient } from '../flink/gateway';
import { FlinkRestClient } from '../flink/rest';
import { Connections } from '../warehouse/render';
import { PipelineSpec } from '../core/spec';

/** Adds TaskManagers when a pipeline is short of task slots. Returns the names of what it started. */
export interface Provisioner {
  addTaskManager(): Promise<string>;
  slotsPerTaskManager: number;
}

export interface ActivityDeps {
  /** The spec's clusters' addresses; an unknown cluster is a non-retryable ClusterError failure. */
  endpoints(spec: Pick<PipelineSpec, 'flink' | 'fluss'>): Endpoints;
  rest(spec: Pick<PipelineSpec, 'flink' | 'fluss'>): FlinkRestClient;
  gateway(spec: Pick<PipelineSpec, 'flink' | 'fluss'>): SqlGatewayClient;
  connection(name: string): PgConnection;
  /** Present when the worker runs beside the local stack; used only for specs with provisioner 'local'. */
  localProvisioner?: Provisioner;
  /** Injected clock and sleep (tests); activities report times from here. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export function connectionsFor(deps: ActivityDeps, spec: PipelineSpec): Connections {
  return {
    sourceCdc: deps.connection(spec.source.cdcConnection),
    sink: deps.connection(spec.sink.connection),
    flussBootstrap: deps.endpoints(spec).fluss.bootstrap,
  };
}

/** Resolve, turning "not configured here" into a failure no retry repeats (the operator must act). */
function endpointsOrFail(spec: Pick<PipelineSpec, 'flink' | 'fluss'>, clusters: Clusters): Endpoints {
  try {
    return resolveEndpoints(spec, clusters);
  } catch (err) {
    if (err instanceof ClusterError) throw ApplicationFailure.create({ type: 'ClusterError', message: err.message, nonRetryable: true });
    throw err;
  }
}

/** `clusters`: the worker's configured clusters (default: from the environment, GRIDFLOW_CLUSTERS). */
export function defaultDeps(localProvisioner?: Provisioner, clusters: Clusters = loadConfig().clusters): ActivityDeps {
  const rests = new Map<string, FlinkRestClient>();
  const gateways = new Map<string, SqlGatewayClient>();
  const endpoints = (spec: Pick<PipelineSpec, 'flink' | 'fluss'>) => endpointsOrFail(spec, clusters);
  return {
    endpoints,
    rest: (spec) => {
      const url = endpoints(spec).flink.restUrl;
      let c = rests.get(url);
      if (!c) rests.set(url, (c = new FlinkRestClient(url)));
      return c;
    },
    gateway: (spec) => {
      const url = endpoints(spec).flink.gatewayUrl;
      let c = gateways.get(url);
      if (!c) gateways.set(url, (c = new SqlGatewayClient(url, { timeoutMs: 60_000 })));
      return c;
    },
    connection: (name) => resolveConnection(name),
    localProvisioner,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}
