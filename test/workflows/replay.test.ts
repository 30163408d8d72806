/**
 * Replay: today's workflow code must reproduce, command for command, a recorded PipelineWorkflow
 * history (deploy, heal, redeploy, pause, resume, savepoint, verification alert, decommission). A
 * change that would break running workflows (non-determinism) fails here; guard such changes with
 * patched() and record a new history next to the old one.
 */
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from '../support/temporal';
import { loadHistory } from './histories/record';

jest.setTimeout(60_000);

test('the recorded pipeline lifecycle replays without non-determinism', async () => {
  quietRuntime();
  const history = loadHistory();
  expect(history.events!.length).toBeGreaterThan(100);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'pipeline:wf');
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
