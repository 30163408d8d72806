/**
 * Records the history the replay test replays: one PipelineWorkflow life on the real Temporal dev server
 * with the activity doubles (their Flink answers built from responses recorded on the real cluster,
 * test/workflows/flink-double.ts) — deploy, a failed job resubmitted, every TaskManager lost and slots
 * added while the jobs wait for them, a redeploy, a redeploy whose Fluss DDL fails (rolled back from the
 * stop savepoint), a redeploy signal and a rejected one, pause, resume, a savepoint, a failed verification,
 * decommission keeping the slots — and the pipeline's second life, a new
 * workflow that resumes from the recorded savepoints (`<file>-resumed.json`). Re-record only on purpose (a deliberate, versioned workflow
 * change), never to make the replay test pass:
 *
 *   npx ts-node -T test/workflows/histories/record.ts [file.json]
 *
 * The verification workflow's history is recorded by its test: GRIDFLOW_RECORD_HISTORIES=1 npx jest
 * test/workflows/verify.test.ts -t 'real difference'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { parseSpec } from '../../../src/core/spec';
import {
  decommissionSignal,
  pauseUpdate,
  redeploySignal,
  redeployUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
  verificationSignal,
} from '../../../src/workflows/definitions';
import { PipelineWorkflow } from '../../../src/workflows/pipeline';
import { createTestEnv, workflowBundle } from '../../support/temporal';
import { ClusterModel, testSpec } from '../doubles';

export const HISTORY_FILE = path.join(__dirname, 'pipeline-lifecycle-plans.json');

/** Every recorded history: file name → the workflow id it ran under. */
export function historyFiles(): string[] {
  return fs.readdirSync(__dirname).filter((f) => f.endsWith('.json')).sort();
}

/** A recorded history as the replayer takes it (optionally edited first, as a plain object). */
export function loadHistory(edit: (raw: any) => void = () => undefined, file = HISTORY_FILE): temporal.api.history.v1.History {
  const raw = JSON.parse(fs.readFileSync(path.isAbsolute(file) ? file : path.join(__dirname, file), 'utf8'));
  edit(raw);
  return temporal.api.history.v1.History.fromObject(raw);
}

/** protobufjs' own JSON form (enums and 64-bit numbers as strings); loadHistory reads it back. */
export function saveHistory(file: string, history: unknown): void {
  const json = temporal.api.history.v1.History.toObject(history as temporal.api.history.v1.History, { longs: String, enums: String, bytes: String });
  fs.writeFileSync(path.join(__dirname, file), `${JSON.stringify(json, null, 1)}\n`);
}

async function main(out: string): Promise<void> {
  const env = await createTestEnv();
  const model = new ClusterModel();
  const taskQueue = 'record-history';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: model.activities() });
  const history = await worker.runUntil(async () => {
    const spec = testSpec();
    const handle = await env.client.workflow.start(PipelineWorkflow, { taskQueue, workflowId: 'pipeline:wf', args: [{ spec: spec as never }] });
    const until = async (pred: (s: Awaited<ReturnType<typeof handle.query<never>>>) => boolean) => {
      for (;;) {
        const s = await handle.query(statusQuery);
        if (pred(s as never)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until((s: any) => s.state === 'RUNNING' && s.jobs.every((j: any) => j.flinkState === 'RUNNING' && j.lastCheckpoint));
    model.failJob('dws');
    await until((s: any) => s.state === 'RUNNING' && s.jobs.every((j: any) => j.flinkState === 'RUNNING') && model.live('dws').length === 1 && model.submissions.length === 5);
    model.killTaskManagers();
    await until((s: any) => s.state === 'RUNNING' && model.provisioned === 1 && s.jobs.every((j: any) => j.flinkState === 'RUNNING' && j.restartsInWindow >= 1));
    if (!model.events.some((e) => /waiting for a slot/.test(e.message))) throw new Error('the TaskManager loss never showed tasks waiting for a slot');
    await handle.executeUpdate(redeployUpdate, { args: [{ spec: parseSpec({ ...spec, version: 2, jobs: { ads: { parallelism: 2 } } }) }] });
    model.failFlussDdl = (version) => (version === 3 ? 'SQL validation failed' : null);
    const failed = await handle.executeUpdate(redeployUpdate, { args: [{ spec: parseSpec({ ...spec, version: 3, jobs: { ads: { parallelism: 2 }, sink: { parallelism: 2 } } }) }] });
    if (failed.outcome !== 'rolled-back') throw new Error(`the failing redeploy ended ${failed.outcome}`);
    model.failFlussDdl = null;
    await handle.signal(redeploySignal, { jobs: ['sink'], requestId: 'recorded-1' });
    await until((s: any) => s.state === 'RUNNING' && s.redeployPlan?.requestId === 'recorded-1' && s.lastRedeploy?.outcome === 'deployed');
    await handle.signal(redeploySignal, { mode: 'sideways' as never, requestId: 'recorded-2' });
    await until((s: any) => (s.redeployRejections ?? []).length === 1);
    await handle.executeUpdate(pauseUpdate);
    await handle.executeUpdate(resumeUpdate);
    await handle.executeUpdate(savepointUpdate, { args: [{ jobs: ['sink'] }] });
    await handle.signal(verificationSignal, { runId: 'r1', at: model.now, ok: false, freshnessMs: 812, summary: 'dws_region_stats: 1 different' });
    await new Promise((r) => setTimeout(r, 1500));
    // Keep the slots: the pipeline's second life below resumes from these savepoints.
    await handle.signal(decommissionSignal, { reason: 'recorded' });
    await handle.result();
    const first = await handle.fetchHistory();

    const second = await env.client.workflow.start(PipelineWorkflow, { taskQueue, workflowId: 'pipeline:wf', args: [{ spec: parseSpec({ ...spec, version: 2, jobs: { ads: { parallelism: 2 } } }) as never }] });
    for (;;) {
      const s = await second.query(statusQuery);
      if (s.state === 'RUNNING' && s.jobs.every((j) => j.flinkState === 'RUNNING')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!model.events.some((e) => e.kind === 'resume')) throw new Error('the second life did not resume from the recorded savepoints');
    await second.signal(decommissionSignal, { dropSourceArtifacts: true, reason: 'recorded' });
    await second.result();
    return [first, await second.fetchHistory()] as const;
  });
  const resumed = out.replace(/\.json$/, '-resumed.json');
  saveHistory(out, history[0]);
  saveHistory(resumed, history[1]);
  await env.teardown();
  process.stdout.write(`wrote ${out} (${history[0].events?.length} events) and ${resumed} (${history[1].events?.length} events)\n`);
}

if (require.main === module) {
  // -ownership.json was recorded with every patch of src/workflows/patches.ts still `patched` (before
  // the plan interpreter), -plans.json once they were deprecated (their markers say so). The histories
  // recorded before a patch went when it was deprecated (the ledger says when and why). Newer recordings
  // get new names.
  main(process.argv[2] ?? 'pipeline-lifecycle-plans.json').catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
