/**
 * What activities need, resolved inside the worker: Flink clients for a spec's addresses, Postgres
 * connections by name (credentials from the environment), and how to provide task slots.
 */
import { PgConnection, resolveConnection } from '../config';
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
  rest(spec: Pick<PipelineSpec, 'flink'>): FlinkRestClient;
  gateway(spec: Pick<PipelineSpec, 'flink'>): SqlGatewayClient;
  connection(name: string): PgConnection;
  /** Present when the worker runs beside the local stack; used only for specs with provisioner 'local'. */
  localProvisioner?: Provisioner;
  /** Injected clock and sleep (tests); activities report times from here. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export function connectionsFor(deps: ActivityDeps, spec: PipelineSpec): Connections {
  return { sourceCdc: deps.connection(spec.source.cdcConnection), sink: deps.connection(spec.sink.connection) };
}

export function defaultDeps(localProvisioner?: Provisioner): ActivityDeps {
  const rests = new Map<string, FlinkRestClient>();
  const gateways = new Map<string, SqlGatewayClient>();
  return {
    rest: (spec) => {
      let c = rests.get(spec.flink.restUrl);
      if (!c) rests.set(spec.flink.restUrl, (c = new FlinkRestClient(spec.flink.restUrl)));
      return c;
    },
    gateway: (spec) => {
      let c = gateways.get(spec.flink.gatewayUrl);
      if (!c) gateways.set(spec.flink.gatewayUrl, (c = new SqlGatewayClient(spec.flink.gatewayUrl, { timeoutMs: 60_000 })));
      return c;
    },
    connection: (name) => resolveConnection(name),
    localProvisioner,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}
