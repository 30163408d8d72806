/**
 * The pipeline's status as the pages and /metrics read it: from the workflow `deps.workflowId` names
 * (a deployment whose workflow is not `pipeline:<name>`, the e2e tests' own ids), and the last good answer
 * with the error when the query fails.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { loadConfig } from '../../../src/config';
import { DashboardDeps, queryStatus, readStatus } from '../../../src/dashboard/data';

/** A Temporal client whose only workflow is `id`; it records which workflows were asked. */
function temporalWith(id: string, answer: () => unknown) {
  const asked: string[] = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string) => ({
        query: async () => {
          asked.push(workflowId);
          if (workflowId !== id) throw new Error(`workflow not found: ${workflowId}`);
          return answer();
        },
      }),
    },
  } as unknown as Client;
  return { client, asked };
}

function deps(temporal: Client | null, extra: Partial<DashboardDeps> = {}): DashboardDeps {
  let now = 1_000;
  return { config: loadConfig({}), sink: {} as Pool, temporal, pipelines: ['sgcc'], now: () => now++, ...extra };
}

const status = { pipeline: 'sgcc', state: 'RUNNING', observedAt: 900 };

test('the status query asks the workflow deps.workflowId names, not pipeline:<name>', async () => {
  const { client, asked } = temporalWith('deployment-7/sgcc', () => status);
  const d = deps(client, { workflowId: (p) => `deployment-7/${p}` });
  expect(await readStatus(d, 'sgcc')).toEqual({ status, readAt: 1_000, error: null });
  expect(await queryStatus(d, 'sgcc')).toBe(status);
  expect(asked).toEqual(['deployment-7/sgcc', 'deployment-7/sgcc']);
});

test('without deps.workflowId: pipeline:<name>', async () => {
  const { client, asked } = temporalWith('pipeline:sgcc', () => status);
  expect((await readStatus(deps(client), 'sgcc')).status).toBe(status);
  expect(asked).toEqual(['pipeline:sgcc']);
});

test('a failed query: the last good answer with its read time, and the error', async () => {
  let fail = false;
  const { client } = temporalWith('pipeline:sgcc', () => {
    if (fail) throw new Error('worker gone');
    return status;
  });
  const d = deps(client);
  expect(await readStatus(d, 'sgcc')).toEqual({ status, readAt: 1_000, error: null });
  fail = true;
  expect(await readStatus(d, 'sgcc')).toEqual({ status, readAt: 1_000, error: 'worker gone' });
});

test('Temporal unreachable at start: both say so, naming the address', async () => {
  const d = deps(null);
  expect(await readStatus(d, 'sgcc')).toEqual({ status: null, readAt: null, error: 'Temporal at 127.0.0.1:7233 was unreachable when the dashboard started' });
  await expect(queryStatus(d, 'sgcc')).rejects.toThrow('Temporal at 127.0.0.1:7233 was unreachable when the dashboard started');
});
