/**
 * Replay: today's workflow code must reproduce, command for command, a recorded PipelineWorkflow
 * history (deploy, heal, redeploy, pause, resume, savepoint, verification alert, decommission). A
 * change that would break running workflows (non-determinism) fails here; guard such changes with
 * src/workflows/patches.ts (patch(), the ledger) and record a new history next to the old one.
 */
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from '../support/temporal';
import { historyFiles, loadHistory } from './histories/record';

jest.setTimeout(60_000);

test.each(historyFiles())('%s replays on today\'s code without non-determinism', async (file) => {
  quietRuntime();
  const history = loadHistory(undefined, file);
  expect(history.events!.length).toBeGreaterThan(20);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
});

test('the histories cover the main workflows, a resumed second life and a blue/green switch with its rollback, before and after the patches were deprecated', () => {
  expect(historyFiles()).toEqual([
    'alerts-test-event-stop.json',
    'pipeline-bluegreen-rollback.json',
    'pipeline-lifecycle-ownership-resumed.json',
    'pipeline-lifecycle-ownership.json',
    'pipeline-lifecycle-plans-resumed.json',
    'pipeline-lifecycle-plans.json',
    'verify-cut-difference.json',
    'verify-difference.json',
  ]);
});

test('a replay notices when the workflow makes different decisions than the recording', async () => {
  quietRuntime();
  const tampered = loadHistory((raw) => {
    // Swap the first two scheduled activity types: the code will schedule them in the other order.
    const scheduled = raw.events.filter((e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes);
    const [a, b] = scheduled.map((e: { activityTaskScheduledEventAttributes: { activityType: { name: string } } }) => e.activityTaskScheduledEventAttributes.activityType);
    [a.name, b.name] = [b.name, a.name];
  });
  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, tampered, 'pipeline:wf')).rejects.toThrow(
    /[Nn]ondeterminism|DeterminismViolation|mismatch/,
  );
});
