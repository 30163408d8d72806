/** What `gridflow deploy` may report as the outcome: never a RUNNING older than the command. */
import { observedLine, renderStatus, settledStatus } from '../../../src/cli/pipeline';
import { Out } from '../../../src/cli/output';
import { markStep, skipPending } from '../../../src/core/plans';
import { planRedeploy } from '../../../src/core/redeploy';
import { planDeploy } from '../../../src/core/deploy';
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';
import { newJobRecord } from '../../../src/core/types';
import type { PipelineStatus } from '../../../src/core/state';

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

test('status prints a failed redeploy’s plan, step by step, and the rejected requests', () => {
  const records = Object.fromEntries((['ingest', 'dws', 'ads', 'sink'] as const).map((j) => [j, { ...newJobRecord(j), jobId: 'f'.repeat(32), flinkState: 'RUNNING' as const }]));
  let plan = planRedeploy({ previous: parseSpec(testSpec()), next: parseSpec(testSpec({ version: 2 })), records: records as never, jobs: ['ads'], mode: 'savepoint', requestId: 'cli-1' });
  plan = markStep(markStep(plan, 1, 'done'), 2, 'failed', "create Fluss tables: 'password' = 'x' Encountered \"order\"");
  plan = skipPending(plan, false);
  const s = {
    ...status('RUNNING', NOW),
    lastRedeploy: { outcome: 'rolled-back' as const, fromVersion: 1, toVersion: 2, jobs: ['ads' as const], reason: 'DDL' },
    redeployPlan: plan,
    redeployRejections: [{ at: NOW, requestId: 'ci-9', reason: 'mode "x" is not one of savepoint, last-state' }],
  };
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    renderStatus(new Out(false), s);
  } finally {
    write.mockRestore();
  }
  const text = lines.join('');
  expect(text).toContain('redeploy plan v1 → v2 (savepoint) request cli-1:');
  expect(text).toContain('  ✓ 1. ads: stop with a savepoint');
  expect(text).toContain("  ✗ 2. Fluss tables of v2 in wf — create Fluss tables: 'password' = '***' Encountered \"order\"");
  expect(text).not.toContain('3. 3 task slot');
  expect(text).toContain('  · 6. rollback: cancel what was submitted of v2');
  expect(text).toContain('redeploy rejected 0s ago (ci-9): mode "x" is not one of savepoint, last-state');
});

test('status prints a deploy stopped on a step: where it is and why', () => {
  let plan = planDeploy(parseSpec(testSpec()));
  plan = markStep(markStep(plan, 1, 'done'), 2, 'failed', 'dw is owned by pipeline other');
  plan = skipPending(plan, false, 'not run: dw is owned by pipeline other');
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    renderStatus(new Out(false), { ...status('BLOCKED', NOW), plan });
  } finally {
    write.mockRestore();
  }
  const text = lines.join('');
  expect(text).toContain('deploy plan:');
  expect(text).toMatch(/ {2}✓ 1\. source ready for CDC/);
  expect(text).toContain('  ✗ 2. claim wf and dw_wf for wf — dw is owned by pipeline other');
  expect(text).not.toContain('3. observe Flink');
});
