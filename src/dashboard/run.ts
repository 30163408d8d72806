/**
 * Running the dashboard as a process: its data sources built from the configuration (the sink as the
 * read-only role `sink_reader`, Temporal for the status query), the server, and a clean stop. Shared by
 * `gridflow dashboard` (foreground or detached) and the demo.
 */
import type { Client } from '@temporalio/client';
import { GridflowConfig, resolveConnection } from '../config';
import { connectClient, pipelineStatus } from '../client';
import { createPool } from '../postgres/connection';
import { LOCAL_CONNECTIONS } from '../stack/credentials';
import type { DashboardDeps } from './data';
import { DashboardServer, startDashboard } from './server';

/** The connection the dashboard reads the sink with: GRIDFLOW_DASHBOARD_SINK_CONNECTION, else `sink_reader`. */
export function dashboardSinkConnection(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRIDFLOW_DASHBOARD_SINK_CONNECTION || LOCAL_CONNECTIONS.sinkReader;
}

interface RunOptions {
  host: string;
  port: number;
  pipelines: string[];
  progress?(message: string): void;
}

interface RunningDashboard extends DashboardServer {
  deps: DashboardDeps;
}

export async function runDashboard(config: GridflowConfig, opts: RunOptions): Promise<RunningDashboard> {
  const progress = opts.progress ?? (() => undefined);
  const sinkConn = resolveConnection(dashboardSinkConnection(), config);
  const sink = createPool(sinkConn, { max: 4, applicationName: 'gridflow-dashboard', statementTimeoutMs: 10_000 });
  let temporal: { client: Client; close(): Promise<void> } | null = null;
  try {
    temporal = await connectClient(config);
  } catch (err) {
    // The grid page needs only the sink: serve it, and say on the pipeline page why the state is missing.
    progress(`Temporal at ${config.temporal.address} is unreachable (${(err as Error).message}): the pipeline page will say so`);
  }
  const deps: DashboardDeps = {
    config,
    sink,
    temporal: temporal?.client ?? null,
    pipelines: opts.pipelines,
    now: () => Date.now(),
    // Temporal down when the dashboard started (the supervisor brings both up together): connect on the
    // first question after it is back, rather than saying "unreachable" until the dashboard restarts.
    status: async (pipeline) => {
      if (!temporal) {
        try {
          temporal = await connectClient(config);
        } catch (err) {
          throw new Error(`cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}`);
        }
        deps.temporal = temporal.client;
      }
      return pipelineStatus(temporal.client, pipeline);
    },
  };
  let server: DashboardServer;
  try {
    server = await startDashboard({ host: opts.host, port: opts.port, deps });
  } catch (err) {
    await sink.end().catch(() => undefined);
    await temporal?.close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new DashboardAddressInUse(`${opts.host}:${opts.port} is in use: another dashboard (gridflow dashboard status) or another program; choose --port or GRIDFLOW_DASHBOARD_PORT`);
    throw err;
  }
  return {
    url: server.url,
    deps,
    async close() {
      await server.close();
      await sink.end().catch(() => undefined);
      await temporal?.close().catch(() => undefined);
    },
  };
}

export class DashboardAddressInUse extends Error {
  override name = 'DashboardAddressInUse';
}
