/**
 * Faults of the control plane in the middle of what it does (issue 12), under load, on the real stack:
 * the Temporal server, the gridflow worker and the SQL Gateway killed -9 during a deploy, between a
 * redeploy's stop and its submit, during a savepoint and during the watch's resubmit. The worker here is
 * the detached one (`gridflow worker start`), so the stack's supervisor starts it again after its kill,
 * as it does every killed component. Each case ends with the sink equal to the contract with no manual
 * step, one live Flink job per job name, the pipeline's two replication slots and no other, the operator's
 * command (run through the CLI, as an operator would) ending as it would have without the fault, and no
 * status seen meanwhile that claimed more than was true. One pipeline serves the whole file.
 * (Recovery times are printed as `[faults]` lines and measured by bench/chaos.ts, not asserted.)
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { WorkflowHandle } from '@temporalio/client';
import { GridflowClient, connectClient, pipelineHandle, startPipeline } from '../../src/client';
import { loadConfig, resolveConnection } from '../../src/config';
import { JobName } from '../../src/core/spec';
import type { PipelineStatus } from '../../src/core/state';
import { runLoad } from '../../src/load/runner';
import { createContext } from '../../src/stack/manager';
import { layout } from '../../src/stack/layout';
import { isProcessAlive, readPid } from '../../src/stack/process';
import { readSupervision, supervisorPid } from '../../src/stack/supervision';
import { statusQuery } from '../../src/workflows/definitions';
import type { PipelineWorkflow } from '../../src/workflows/pipeline';
import { expectNoDuplicateNoLeak, flinkRest, liveByName, until } from '../support/faults';
import { allRunning, waitForStatus } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { assertConsistent, resetWarehouse, testSpec } from '../support/warehouse';

jest.setTimeout(10 * 60_000);

// Every fault costs the jobs restart attempts; the production budget would count them (tested in test/workflows).
const WATCH = { interval: '2s', readinessTimeout: '3min', checkpointStallAfter: '3min', maxRestarts: 50 } as never;
const spec = () => testSpec({ watch: WATCH });
const ctx = () => createContext(loadConfig(), () => undefined);
const bin = path.resolve(__dirname, '..', '..', 'bin', 'gridflow');

let gf: GridflowClient;
let handle: WorkflowHandle<typeof PipelineWorkflow>;

/** A gridflow command as an operator runs it (this process's environment names the test stack). */
function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: process.env, timeout: 9 * 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      // The result (stdout) last: the progress lines (stderr) lead to it.
      resolve({ code, out: `${stderr}${stdout}`.trim() });
    });
  });
}

/** The status query, or undefined while nobody can answer (worker or Temporal away); never waits long. */
async function status(): Promise<PipelineStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 5000)));
  try {
    return await Promise.race([handle.query(statusQuery).catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the pipeline was when the fault hit: its state, and what its jobs or its redeploy plan had done by then. */
function describe(s: PipelineStatus): string {
  const plan = s.redeployPlan && s.state === 'REDEPLOYING' ? `; plan ${s.redeployPlan.steps.filter((st) => !st.rollback).map((st) => `${st.kind}${st.job ? ` ${st.job}` : ''} ${st.status}`).join(', ')}` : '';
  const jobs = s.jobs.map((j) => `${j.job} ${j.jobId ? (j.flinkState ?? 'submitted') : 'not submitted'}`).join(', ');
  return `${s.state}${s.reason ? ` (${s.reason.slice(0, 60)})` : ''} [${jobs}${plan}]`;
}

/** What a status claims that it cannot know to be true; null when it claims nothing false. */
function untruth(s: PipelineStatus): string | null {
  if (s.state !== 'RUNNING') return null;
  const notRunning = s.jobs.filter((j) => !j.jobId || j.flinkState !== 'RUNNING');
  if (notRunning.length) return `RUNNING while ${notRunning.map((j) => `${j.job} is ${j.flinkState ?? 'not submitted'}`).join(', ')}`;
  const pending = s.redeployPlan?.steps.filter((st) => !st.rollback && st.status === 'pending') ?? [];
  if (pending.length) return `RUNNING while the redeploy's step(s) ${pending.map((st) => st.what).join(', ')} are pending`;
  return null;
}

/**
 * Every answer of the status query from now until stop(): the states in order (with seconds since the
 * fault, once it is set), and every status that claimed something untrue.
 */
function recordStates(extraUntruth: (s: PipelineStatus) => string | null = () => null) {
  let stopped = false;
  let faultAt: number | undefined;
  const states: string[] = [];
  const lies: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const s = await status();
      const at = faultAt === undefined ? '' : ` @${((Date.now() - faultAt) / 1000).toFixed(0)}s`;
      const word = s ? `${s.state}${s.reason ? ` (${s.reason.slice(0, 90)})` : ''}` : 'no answer';
      if (!states.length || !states[states.length - 1].startsWith(word)) states.push(`${word}${at}`);
      const lie = s && (untruth(s) ?? extraUntruth(s));
      if (lie) lies.push(lie);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    faultNow() {
      faultAt = Date.now();
      states.push(`<kill>`);
    },
    async stop() {
      stopped = true;
      await loop;
      const s = await status();
      if (s) states.push(`${s.state}${faultAt === undefined ? '' : ` @${((Date.now() - faultAt) / 1000).toFixed(0)}s`}`);
      return { states, lies };
    },
  };
}

type Victim = 'worker' | 'temporal' | 'sql-gateway';

/** kill -9 the victim; wait until the supervisor has started it again (a new live process, its restart counted). */
async function killAndAwaitRestart(victim: Victim): Promise<void> {
  expect(supervisorPid(ctx())).toBeDefined();
  const pidFile = layout(loadConfig()).pidFile(victim);
  const restartsBefore = readSupervision(ctx())[victim]?.restarts ?? 0;
  const pid = readPid(pidFile)!;
  expect(isProcessAlive(pid)).toBe(true);
  process.kill(pid, 'SIGKILL');
  await until(`${victim} started again by the supervisor`, () => {
    const now = readPid(pidFile);
    return now !== undefined && now !== pid && isProcessAlive(now) && (readSupervision(ctx())[victim]?.restarts ?? 0) > restartsBefore;
  });
}

/**
 * Under load: start the action, wait until `ready` says the action is where the fault belongs, kill -9
 * the victim, and wait until the pipeline has healed by itself; then the action's outcome, the sink
 * equal to the contract, one job per name, no leaked slot, and no untrue status meanwhile.
 */
async function faultDuring(opts: {
  label: string;
  victim: Victim;
  seed: number;
  action: () => Promise<{ code: number; out: string }> | Promise<void>;
  ready: (s: PipelineStatus) => boolean;
  where: string;
  extraUntruth?: (s: PipelineStatus) => string | null;
}): Promise<{ states: string[]; action: { code: number; out: string } | void }> {
  const load = runLoad(resolveConnection('source_admin'), { ratePerSecond: 30, durationSeconds: 30, seed: opts.seed });
  await new Promise((r) => setTimeout(r, 3000));
  const recording = recordStates(opts.extraUntruth);
  const action = opts.action();
  let seen: PipelineStatus | undefined;
  await until(
    opts.where,
    async () => {
      const s = await status();
      if (s && opts.ready(s)) seen = s;
      return seen !== undefined;
    },
    180_000,
    150,
  );
  const t0 = Date.now();
  recording.faultNow();
  await killAndAwaitRestart(opts.victim);
  const back = Date.now();
  // The command and the pipeline, each on its own: a savepoint's status is RUNNING before its command ends.
  let ended = 0;
  const [outcome, healed] = await Promise.all([
    Promise.resolve(action).then((r) => {
      ended = Date.now();
      return r;
    }),
    waitForStatus(handle, 'RUNNING after the fault', allRunning, 300_000),
  ]);
  const running = Date.now();
  const { states, lies } = await recording.stop();
  const secs = (t: number) => `${((t - t0) / 1000).toFixed(0)} s`;
  process.stderr.write(
    `[faults] ${opts.label}: killed at ${describe(seen!)}; back ${secs(back)}, ${healed.state} (every job) ${secs(running)} after the kill` +
      `${outcome ? `, the command ended ${secs(ended)} after it (exit ${outcome.code}: ${outcome.out.split('\n').pop()?.slice(0, 120)})` : ''}; states ${states.join(' → ')}\n`,
  );
  await load;
  const equalMs = await assertConsistent(spec(), `after ${opts.label}`, 240_000);
  process.stderr.write(`[faults] ${opts.label}: sink equal ${((Date.now() - t0) / 1000).toFixed(0)} s after the kill (${(equalMs / 1000).toFixed(0)} s after the load ended)\n`);
  await expectNoDuplicateNoLeak();
  expect(lies).toEqual([]);
  return { states, action: outcome };
}

/** The redeploy `requestId` is between its stop of `job` (done) and its submit of it (not yet). */
const betweenStopAndSubmit = (requestId: string, job: JobName) => (s: PipelineStatus) => {
  const plan = s.redeployPlan;
  if (s.state !== 'REDEPLOYING' || plan?.requestId !== requestId) return false;
  const stop = plan.steps.find((st) => st.kind === 'stop' && st.job === job);
  const submit = plan.steps.find((st) => st.kind === 'submit' && st.job === job);
  return stop?.status === 'done' && submit?.status === 'pending';
};

/** A redeploy of one job through the CLI (same spec, the job moved from a savepoint), killed between its stop and its submit. */
async function redeployFault(victim: Victim, job: JobName, seed: number): Promise<void> {
  const before = (await waitForStatus(handle, 'RUNNING', allRunning)).jobs.find((j) => j.job === job)!;
  const requestId = `faults-${victim}-${Date.now().toString(36)}`;
  const { action } = await faultDuring({
    label: `${victim} kill -9 between a redeploy's stop and its submit (${job})`,
    victim,
    seed,
    action: () => cli(['redeploy', '--name', 'e2e', '--jobs', job, '--request-id', requestId]),
    ready: betweenStopAndSubmit(requestId, job),
    where: `the redeploy of ${job} between its stop and its submit`,
  });
  // The operator's command ended as it would have without the fault: the job moved, from its savepoint.
  expect(action).toMatchObject({ code: 0 });
  const after = (await status())!;
  expect(after.redeployPlan?.requestId).toBe(requestId);
  expect(after.redeployPlan?.steps.filter((st) => !st.rollback).map((st) => st.status)).toEqual(after.redeployPlan?.steps.filter((st) => !st.rollback).map(() => 'done'));
  expect(after.lastRedeploy).toMatchObject({ outcome: 'deployed', jobs: [job] });
  const moved = after.jobs.find((j) => j.job === job)!;
  expect(moved.jobId).not.toBe(before.jobId);
  expect(moved.restoredFrom?.kind).toBe('savepoint');
}

/** The deploy has submitted some of its jobs, not all of them. */
const deployHalfway = (s: PipelineStatus) => s.state === 'DEPLOYING' && s.jobs.some((j) => j.jobId) && s.jobs.some((j) => !j.jobId);

/** Start the pipeline's workflow (as `gridflow deploy` does) on the detached worker's task queue. */
async function deploy(): Promise<void> {
  handle = (await startPipeline(gf.client, spec())).handle;
}

async function terminateLeftover(): Promise<void> {
  const old = pipelineHandle(gf.client, 'e2e');
  const d = await old.describe().catch(() => null);
  if (d?.status.name === 'RUNNING') await old.terminate('faults-control: a new run').catch(() => undefined);
}

beforeAll(async () => {
  await ensureStack();
  gf = await connectClient();
  await terminateLeftover();
  await resetWarehouse(spec());
  const started = await cli(['worker', 'start']);
  if (started.code !== 0) throw new Error(`gridflow worker start failed (${started.code}): ${started.out}`);
  handle = pipelineHandle(gf.client, 'e2e');
}, STACK_UP_TIMEOUT_MS + 5 * 60_000);

afterAll(async () => {
  if (gf) {
    await terminateLeftover();
    await gf.close();
  }
  await cli(['worker', 'stop']);
});

test('the worker killed -9 during the deploy: the supervisor starts it again, the workflow finishes the deploy, one job each', async () => {
  await faultDuring({
    label: 'worker kill -9 during the deploy',
    victim: 'worker',
    seed: 31,
    action: deploy,
    ready: deployHalfway,
    where: 'the deploy with some jobs submitted and some not',
  });
});

test('the worker killed -9 during a savepoint: it comes back and the savepoint of every job is taken and recorded', async () => {
  const before = await waitForStatus(handle, 'RUNNING', allRunning);
  const was = (s: PipelineStatus, job: JobName) => s.jobs.find((j) => j.job === job)?.lastSavepoint?.path ?? null;
  const taken = (s: PipelineStatus) => before.jobs.filter((j) => was(s, j.job) !== was(before, j.job)).length;
  const { action } = await faultDuring({
    label: 'worker kill -9 during a savepoint',
    victim: 'worker',
    seed: 32,
    action: () => cli(['savepoint', '--name', 'e2e']),
    ready: (s) => taken(s) > 0 && taken(s) < s.jobs.length,
    where: 'a savepoint round with some jobs done and some not',
  });
  expect(action).toMatchObject({ code: 0 });
  const after = (await status())!;
  expect(taken(after)).toBe(4);
});

test("the worker killed -9 between a redeploy's stop and its submit: the redeploy completes from the savepoint", async () => {
  await redeployFault('worker', 'ads', 33);
});

test("the Temporal server killed -9 between a redeploy's stop and its submit: restarted, the redeploy completes", async () => {
  await redeployFault('temporal', 'dws', 34);
});

test('the SQL Gateway killed -9 during a redeploy (after the stop): restarted, the redeploy completes', async () => {
  await redeployFault('sql-gateway', 'sink', 35);
});

test('the SQL Gateway killed -9 during the watch resubmitting a cancelled job: never RUNNING without it, resubmitted once', async () => {
  const before = await waitForStatus(handle, 'RUNNING', allRunning);
  const cancelled = before.jobs.find((j) => j.job === 'ads')!.jobId!;
  let cancelledAt = Number.POSITIVE_INFINITY;
  await faultDuring({
    label: 'sql-gateway kill -9 during a resubmit',
    victim: 'sql-gateway',
    seed: 36,
    action: async () => {
      cancelledAt = Date.now();
      await flinkRest().cancel(cancelled);
    },
    ready: (s) => s.state === 'RECOVERING' && /resubmitting ads/.test(s.reason ?? ''),
    where: 'the watch resubmitting the cancelled ads job',
    // Observed after the cancel, the old job is gone: a RUNNING pipeline with it would be a lie.
    extraUntruth: (s) => (s.state === 'RUNNING' && (s.observedAt ?? 0) > cancelledAt + 1000 && s.jobs.find((j) => j.job === 'ads')?.jobId === cancelled ? 'RUNNING with the cancelled ads job' : null),
  });
  const after = (await status())!;
  expect(after.jobs.find((j) => j.job === 'ads')!.jobId).not.toBe(cancelled);
  expect(after.jobs.find((j) => j.job === 'ads')!.restoredFrom).not.toBeNull();
});

test('the Temporal server killed -9 during a deploy (resuming after a decommission): restarted, the deploy completes from the savepoints', async () => {
  const decommissioned = await cli(['decommission', '--name', 'e2e', '--json']);
  expect(decommissioned.code).toBe(0);
  await until('no live job after the decommission', async () => Object.keys(await liveByName()).length === 0, 120_000);
  await faultDuring({
    label: 'temporal kill -9 during a deploy (resume)',
    victim: 'temporal',
    seed: 37,
    action: deploy,
    ready: deployHalfway,
    where: 'the deploy with some jobs submitted and some not',
  });
  // It continued from the decommission's savepoints, not a fresh start.
  const after = (await status())!;
  expect(after.jobs.every((j) => j.restoredFrom?.kind === 'savepoint')).toBe(true);
});

