/**
 * What the Temporal UI shows at the top of the pipeline workflow's page, read back the way the UI reads
 * it: the static summary and details from describe(), the current details (and the message names the
 * UI offers in its Signal and Update forms) from the __temporal_workflow_metadata query — and that the
 * current details follow the workflow through deploy, a rejected and an accepted redeploy signal, a
 * verification result and a pause. Real Temporal dev server, cluster doubles (doubles.ts).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { pipelineStartMetadata } from '../../src/core/metadata';
import { parseSpec } from '../../src/core/spec';
import { pauseUpdate, redeploySignal, verificationSignal } from '../../src/workflows/definitions';
import { PipelineWorkflow } from '../../src/workflows/pipeline';
import { ClusterModel, testSpec } from './doubles';
import { Handle, bundle, env, running, waitFor } from './harness';

interface WorkflowMetadata {
  definition?: { type?: string; signalDefinitions?: Array<{ name: string }>; updateDefinitions?: Array<{ name: string }>; queryDefinitions?: Array<{ name: string }> };
  currentDetails?: string;
}

const metadata = (handle: Handle) => handle.query<WorkflowMetadata>('__temporal_workflow_metadata');

/** Poll the current details until they satisfy `predicate` (they change when the workflow's state does). */
async function detailsWhen(handle: Handle, what: string, predicate: (details: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await metadata(handle)).currentDetails ?? '';
    if (predicate(last)) return last;
    if (Date.now() > deadline) throw new Error(`current details never showed ${what}; last:\n${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The "as of" time of a current details text (the workflow's time when it was written). */
const asOf = (details: string) => Date.parse(/· as of (\S+)$/m.exec(details)?.[1] ?? 'none');

test('summary and details at start; current details follow state, redeploy signals, verification and pause', async () => {
  const model = new ClusterModel();
  const raw = testSpec({ name: `md${randomUUID().slice(0, 6)}` });
  const spec = parseSpec(raw);
  const taskQueue = `wf-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: model.activities() });
  await worker.runUntil(async () => {
    const startedAt = Date.now();
    const handle = await env.client.workflow.start(PipelineWorkflow, {
      taskQueue,
      workflowId: `pipeline:${spec.name}-${randomUUID().slice(0, 8)}`,
      args: [{ spec: raw as never }],
      ...pipelineStartMetadata(spec),
    });
    await waitFor(handle, 'RUNNING', running);

    // Static: what it is, fixed at start.
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`pipeline ${spec.name}, spec version 1 at start`);
    expect(await description.staticDetails()).toContain('*Send a Signal* or *Send an Update* named `redeploy`');

    // Current: RUNNING with every job, as of a workflow time after the start.
    const md = await metadata(handle);
    expect(md.definition?.type).toBe('PipelineWorkflow');
    // The names the UI's Signal and Update forms offer.
    expect(md.definition?.signalDefinitions?.map((d) => d.name)).toEqual(expect.arrayContaining(['redeploy', 'decommission', 'verificationResult']));
    expect(md.definition?.updateDefinitions?.map((d) => d.name)).toEqual(expect.arrayContaining(['redeploy', 'pause', 'resume', 'savepoint']));
    const runningDetails = await detailsWhen(handle, 'every job RUNNING', (d) => d.startsWith('**RUNNING**') && !d.includes('not submitted'));
    expect(runningDetails.split('\n')[0]).toMatch(new RegExp(`^\\*\\*RUNNING\\*\\* · pipeline ${spec.name} spec version 1 · as of \\S+Z$`));
    for (const job of ['ingest', 'dws', 'ads', 'sink']) expect(runningDetails).toMatch(new RegExp(`^- job ${job}: RUNNING`, 'm'));
    expect(runningDetails).toContain('- last verification: none yet');
    expect(asOf(runningDetails)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(asOf(runningDetails)).toBeLessThanOrEqual(Date.now() + 1000);

    // A redeploy signal that cannot run: its rejection, with the request id, where the operator looks.
    await handle.signal(redeploySignal, { requestId: 'md-bad', jobs: ['nope' as never] });
    const rejected = await detailsWhen(handle, 'the rejection', (d) => d.includes('last rejected redeploy md-bad'));
    expect(rejected).toMatch(/^- last rejected redeploy md-bad: \d+ s ago — .*nope/m);
    expect(rejected).toMatch(/^- last alert: \d+ s ago, redeploy-rejected: redeploy signal md-bad rejected/m);

    // An accepted one: its outcome, once it is over (and REDEPLOYING while it runs, as the state changes).
    await handle.signal(redeploySignal, { requestId: 'md-sink', jobs: ['sink'] });
    const redeployed = await detailsWhen(handle, 'the redeploy outcome', (d) => d.includes('last redeploy:') && d.startsWith('**RUNNING**'));
    expect(redeployed).toContain('- last redeploy: v1 → v1 **deployed** (sink)');
    expect(asOf(redeployed)).toBeGreaterThanOrEqual(asOf(runningDetails));

    // A verification result the pipeline is told about.
    await handle.signal(verificationSignal, { runId: 'verify:md/1', at: Date.now() - 5000, ok: false, freshnessMs: 900, summary: '1 problem: dws_region_stats differs' });
    const verified = await detailsWhen(handle, 'the verification', (d) => d.includes('last verification: **FAIL**'));
    expect(verified).toMatch(/^- last verification: \*\*FAIL\*\* \d+ s ago — 1 problem: dws\\_region\\_stats differs$/m);
    expect(verified).toMatch(/^- last alert: \d+ s ago, verification-failed: /m);

    // Paused: the state heads the text, and no job runs.
    await handle.executeUpdate(pauseUpdate);
    const paused = await detailsWhen(handle, 'PAUSED', (d) => d.startsWith('**PAUSED**'));
    expect(paused).not.toMatch(/^- job \w+: RUNNING/m);
    expect(paused).toContain('- last redeploy: v1 → v1 **deployed** (sink)');
    await handle.terminate('test over');
  });
});

test('after continue-as-new the new run publishes its current details at once (its summary is gone)', async () => {
  const model = new ClusterModel();
  const raw = testSpec({ name: `mc${randomUUID().slice(0, 6)}`, watch: { interval: '100ms', checkpointStallAfter: '10min' } });
  const spec = parseSpec(raw);
  const taskQueue = `wf-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: model.activities() });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(PipelineWorkflow, {
      taskQueue,
      workflowId: `pipeline:${spec.name}-${randomUUID().slice(0, 8)}`,
      args: [{ spec: raw as never }],
      ...pipelineStartMetadata(spec),
    });
    await waitFor(handle, 'RUNNING', running);
    const firstRun = (await handle.describe()).runId;
    const deadline = Date.now() + 60_000;
    while ((await handle.describe()).runId === firstRun) {
      if (Date.now() > deadline) throw new Error('no continue-as-new');
      await new Promise((r) => setTimeout(r, 500));
    }
    const details = await detailsWhen(handle, 'the new run RUNNING', (d) => d.startsWith('**RUNNING**'));
    expect(details).toMatch(new RegExp(`^\\*\\*RUNNING\\*\\* · pipeline ${spec.name} spec version 1 · as of`));
    // The TypeScript SDK's continueAsNew (1.24) takes no summary, and the server does not carry it over:
    // the next run has none, as docs/OPERATIONS.md says. (Should this fail, it is carried now: say so there.)
    expect(await (await handle.describe()).staticSummary()).toBeUndefined();
    await handle.terminate('test over');
  });
});
