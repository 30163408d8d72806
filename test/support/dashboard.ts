/**
 * For end-to-end tests: the dashboard server in this process, on a free port, reading the sink as the
 * read-only role, with the status of the test's own pipeline workflow (runPipeline starts it under an
 * id of its own, not pipeline:<name>).
 */
import { Pool } from 'pg';
import { loadConfig, resolveConnection } from '../../src/config';
import { PipelineSpec } from '../../src/core/spec';
import { dashboardSinkConnection } from '../../src/dashboard/run';
import { DashboardServer, startDashboard } from '../../src/dashboard/server';
import { createPool } from '../../src/postgres/connection';
import { statusQuery } from '../../src/workflows/definitions';
import { RunningPipeline } from './pipeline';

export interface TestDashboard {
  server: DashboardServer;
  reader: Pool;
  close(): Promise<void>;
}

export async function startTestDashboard(pipeline: RunningPipeline, spec: PipelineSpec): Promise<TestDashboard> {
  const config = loadConfig();
  const reader = createPool(resolveConnection(dashboardSinkConnection(), config), { max: 4 });
  const server = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    deps: {
      config,
      sink: reader,
      temporal: pipeline.client,
      pipelines: [spec.name],
      now: () => Date.now(),
      status: () => pipeline.handle.query(statusQuery),
      workflowId: () => pipeline.handle.workflowId,
    },
  });
  return {
    server,
    reader,
    async close() {
      await server.close();
      await reader.end();
    },
  };
}
