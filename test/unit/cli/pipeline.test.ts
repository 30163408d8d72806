/** What `gridflow deploy` may report as the outcome: never a RUNNING older than the command. */
import { observedLine, settledStatus } from '../../../src/cli/pipeline';
import { PipelineStatus } from '../../../src/core/types';

const NOW = 1_800_000_000_000;

function status(state: PipelineStatus['state'], observedAt: number | null, flinkState: PipelineStatus['jobs'][number]['flinkState'] = 'RUNNING'): PipelineStatus {
  return {
    pipeline: 'sgcc',
    version: 1,
    state,
    reason: null,
    jobs: (['ingest', 'dws', 'ads', 'sink'] as const).map((job) => ({
      job,
      flinkName: `gridflow/sgcc/${job}`,
      jobId: 'f'.repeat(32),
      flinkState,
      lastCheckpoint: null,
      lastSavepoint: null,
      restoredFrom: null,
      restartsInWindow: 0,
      lastError: null,
    })),
    lastVerification: null,
    lastRedeploy: null,
    alerts: [],
    observedAt,
  } as PipelineStatus;
}

test('RUNNING counts only when observed after the command started and every job runs', () => {
  expect(settledStatus(status('RUNNING', NOW + 10), NOW)).toBe(true);
  // A workflow that outlived a machine restart: RUNNING from two hours ago is not an answer.
  expect(settledStatus(status('RUNNING', NOW - 2 * 3600_000), NOW)).toBe(false);
  expect(settledStatus(status('RUNNING', null), NOW)).toBe(false);
  expect(settledStatus(status('RUNNING', NOW + 10, 'RESTARTING'), NOW)).toBe(false);
});

test('states that make no claim about running jobs settle as they are; transitions do not', () => {
  for (const state of ['PAUSED', 'BLOCKED', 'DEGRADED', 'DECOMMISSIONED'] as const) expect(settledStatus(status(state, NOW - 3600_000), NOW)).toBe(true);
  for (const state of ['DEPLOYING', 'RECOVERING', 'REDEPLOYING', 'PAUSING'] as const) expect(settledStatus(status(state, NOW + 10), NOW)).toBe(false);
});

test('status says how old its view of Flink is', () => {
  expect(observedLine({ observedAt: NOW - 4000 }, NOW)).toBe('(Flink observed 4s ago)');
  expect(observedLine({ observedAt: NOW - 2 * 3600_000 }, NOW)).toBe('(Flink observed 120m ago)');
  expect(observedLine({ observedAt: null }, NOW)).toBe('(Flink not observed yet)');
});
