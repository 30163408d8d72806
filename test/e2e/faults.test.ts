/**
 * Faults the supervised local stack heals by itself (issue 12), under load, on the real stack: a
 * component killed with kill -9 (or shut down) is started again by the supervisor (`gridflow stack up`
 * runs it), a hung one continues by itself, the
 * pipeline's jobs recover without a person, and the sink equals the contract — no duplicate job, no
 * leaked replication slot, and the pipeline's state said something was wrong meanwhile.
 * (Recovery times are measured by bench/, not asserted here.)
 */
import * as fs from 'node:fs';
import { loadConfig, resolveConnection } from '../../src/config';
import type { PipelineStatus } from '../../src/core/state';
import { runLoad } from '../../src/load/runner';
import { startedReplicationFactor } from '../../src/stack/components/fluss';
import { components, createContext, stackStatus } from '../../src/stack/manager';
import { layout } from '../../src/stack/layout';
import { isProcessAlive, readPid } from '../../src/stack/process';
import { readSupervision, supervisorPid } from '../../src/stack/supervision';
import { statusQuery } from '../../src/workflows/definitions';
import { VerifyPipelineWorkflow } from '../../src/workflows/verify';
import { RunningPipeline, allRunning, runPipeline } from '../support/pipeline';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';
import { expectNoDuplicateNoLeak, until } from '../support/faults';
import { assertConsistent, resetWarehouse, testSpec } from '../support/warehouse';

jest.setTimeout(15 * 60_000);

let pipeline: RunningPipeline;
// The faults cost every job restart attempts; the production budget would count them (tested in test/workflows).
const WATCH = { interval: '2s', readinessTimeout: '3min', checkpointStallAfter: '3min', maxRestarts: 50 } as never;
const spec = () => testSpec({ watch: WATCH });
const ctx = () => createContext(loadConfig(), () => undefined);
beforeAll(async () => {
  await ensureStack();
  await resetWarehouse(spec());
  pipeline = await runPipeline(spec());
  await pipeline.waitStatus('RUNNING', allRunning);
}, STACK_UP_TIMEOUT_MS + 5 * 60_000);

afterAll(async () => {
  await pipeline?.stop();
});

/** How a component is hurt: a signal (the supervisor starts it again), or frozen for a while (SIGSTOP … SIGCONT: a hung server). */
type Fault = { signal: 'SIGKILL' | 'SIGINT' } | { freezeSeconds: number };
const KILL: Fault = { signal: 'SIGKILL' };
const describeFault = (f: Fault) => ('signal' in f ? (f.signal === 'SIGKILL' ? 'kill -9' : 'fast shutdown') : `frozen ${f.freezeSeconds} s`);

/** A process and every process below it (a Postgres postmaster and its backends). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** Poll the status from now until stop(): the first status that shows the fault, if any did. */
function observe(shows: (s: PipelineStatus) => boolean): { stop(): Promise<PipelineStatus | undefined> } {
  let stopped = false;
  let first: PipelineStatus | undefined;
  const loop = (async () => {
    while (!stopped && !first) {
      const s = await pipeline.handle.query(statusQuery).catch(() => undefined);
      if (s && shows(s)) first = s;
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return first;
    },
  };
}

/**
 * Hurt a component under load; the supervisor restarts it (unless it was only frozen); the pipeline
 * heals; the sink equals the contract; no duplicate job, no leaked slot.
 */
async function killAndHeal(
  component: string,
  noticed: (s: PipelineStatus, before: PipelineStatus) => boolean,
  settle: () => Promise<void> = () => assertConsistent(spec(), `after ${component} ${describeFault(fault)}`, 240_000).then(() => undefined),
  healed: (s: PipelineStatus) => boolean = allRunning,
  fault: Fault = KILL,
): Promise<void> {
  expect(supervisorPid(ctx())).toBeDefined();
  const restartsBefore = readSupervision(ctx())[component]?.restarts ?? 0;
  const before = await pipeline.waitStatus('RUNNING', allRunning);
  // Killing the source ends the load's connection: what it committed before is the contract's input.
  const load = runLoad(resolveConnection('source_admin'), { ratePerSecond: 30, durationSeconds: 25, seed: 12 }).catch((err: unknown) => {
    if (component !== 'postgres-source') throw err;
  });
  await new Promise((r) => setTimeout(r, 4000));
  const pidFile = layout(loadConfig()).pidFile(component);
  const pid = readPid(pidFile)!;
  expect(isProcessAlive(pid)).toBe(true);
  // Watched from the moment of the fault (a freeze's symptoms are over once it ends).
  const t0 = Date.now();
  const observing = observe((s) => noticed(s, before));
  if ('signal' in fault) {
    process.kill(pid, fault.signal);
    // The supervisor starts it again (a new process) and counts the restart; stack status says so.
    await until(`${component} restarted by the supervisor`, () => {
      const now = readPid(pidFile);
      return now !== undefined && now !== pid && isProcessAlive(now) && (readSupervision(ctx())[component]?.restarts ?? 0) > restartsBefore;
    });
    const row = (await stackStatus(ctx())).find((r) => r.component === component)!;
    expect(row.status).toBe('healthy');
    expect(row.restarts).toBeGreaterThan(restartsBefore);
    expect(row.supervision).toMatch(/restart/);
  } else {
    const frozen = processTree(pid);
    for (const p of frozen) process.kill(p, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, fault.freezeSeconds * 1000));
    } finally {
      for (const p of frozen) process.kill(p, 'SIGCONT');
    }
    // A hung process is alive: the supervisor leaves it alone, and it serves again by itself.
    expect(readPid(pidFile)).toBe(pid);
    expect(readSupervision(ctx())[component]?.restarts ?? 0).toBe(restartsBefore);
  }
  // The pipeline told the truth meanwhile, and healed without anyone.
  const after = await pipeline.waitStatus('healed', healed, 300_000);
  const seen = await observing.stop();
  process.stderr.write(`[faults] ${component} ${describeFault(fault)}: shown ${seen ? `${seen.state}${seen.reason ? ` (${seen.reason})` : ''}` : 'nothing'}; ${after.state} again ${((Date.now() - t0) / 1000).toFixed(0)} s later\n`);
  await load;
  await settle();
  await expectNoDuplicateNoLeak();
}

/** The pipeline noticed a fault: not RUNNING, or a job not running or restarted meanwhile. */
const jobsNoticed = (s: PipelineStatus, before: PipelineStatus) => s.state !== 'RUNNING' || s.jobs.some((j, i) => j.flinkState !== 'RUNNING' || j.restartsInWindow > before.jobs[i].restartsInWindow);
const tablets = () => components(ctx()).filter((c) => c.name.startsWith('fluss-tablet-')).length;

test('the SQL Gateway killed -9: restarted by the supervisor; running jobs never needed it', async () => {
  await killAndHeal('sql-gateway', () => true);
});

test('the sink Postgres killed -9: restarted (crash recovery) by the supervisor, the sink job recovers, nothing lost', async () => {
  await killAndHeal('postgres-sink', jobsNoticed);
});

test('the source Postgres killed -9: restarted by the supervisor, CDC resumes from its slots, nothing lost', async () => {
  await killAndHeal('postgres-source', jobsNoticed);
});

test('the source Postgres restarted (fast shutdown): started again by the supervisor, CDC resumes, nothing lost', async () => {
  await killAndHeal('postgres-source', jobsNoticed, undefined, undefined, { signal: 'SIGINT' });
});

test('the sink Postgres hung for 30 s (every process stopped, then continued): the pipeline says it is behind, then catches up, nothing lost', async () => {
  await killAndHeal('postgres-sink', (s) => s.state !== 'RUNNING', undefined, undefined, { freezeSeconds: 30 });
});

// Neither carries data: the tablet servers keep serving the jobs while the coordinator or ZooKeeper is
// away (their sessions outlive a quick ZooKeeper restart), so the jobs need not notice at all.
test('ZooKeeper killed -9: restarted by the supervisor; Fluss reconnects, nothing lost', async () => {
  await killAndHeal('zookeeper', () => true);
});

test('the Fluss coordinator killed -9: restarted by the supervisor; the tablet servers re-register, nothing lost', async () => {
  await killAndHeal('fluss-coordinator', () => true);
});

// Last in the file. With Fluss as a small cluster (GRIDFLOW_FLUSS_TABLETS=3: three tablet servers,
// replication factor 3), as production runs it, a tablet server's loss loses nothing: the followers
// take over leadership and the sink equals the contract. CI runs three, the stack's default.
//
// With one tablet server (replication factor 1; GRIDFLOW_FLUSS_TABLETS=1) an unclean
// shutdown can leave the sink job's reading of Fluss behind (Fluss truncates a restarted replica's log
// to its high watermark and the writers' idempotence state is gone: the writing jobs fail with
// OUT_OF_ORDER_SEQUENCE and restore from checkpoints; the sink job, which kept running, has been seen to
// miss changes until its own next restore, and in other runs lost changes for good or stopped carrying
// new ones at all — docs/RELIABILITY.md). There this case asserts what gridflow owes whatever Fluss
// does: the server is back by itself, the jobs run again, the state is RUNNING or DEGRADED saying the
// sink is behind (never RUNNING while no change arrives), and the sink is equal to the contract or
// verification says it is not, naming the tables.

test('a Fluss tablet server killed -9: restarted by the supervisor; with three copies nothing is lost, with one the sink is equal or verification says it is not', async () => {
  if (tablets() >= 3) {
    expect(startedReplicationFactor(layout(loadConfig()).fluss, 'fluss-coordinator')).toBe(3);
    await killAndHeal('fluss-tablet-0', jobsNoticed);
    return;
  }
  await killAndHeal(
    'fluss-tablet-0',
    jobsNoticed,
    async () => {
      const equal = await assertConsistent(spec(), 'after fluss-tablet-0 kill -9', 120_000).then(
        () => true,
        () => false,
      );
      const result = await pipeline.client.workflow.execute(VerifyPipelineWorkflow, {
        taskQueue: pipeline.taskQueue,
        workflowId: `verify:e2e:faults-${Date.now().toString(36)}`,
        args: [{ spec: spec(), options: { compareAttempts: 2, compareRetryWait: '2s' } }],
      });
      process.stderr.write(`[faults] tablet server kill -9 (one copy): sink ${equal ? 'equal to' : 'differs from'} the contract; verification ok=${result.ok}\n`);
      if (equal) {
        expect(result.compare.tables.every((t) => t.ok)).toBe(true);
        return;
      }
      // What gridflow owes here: to say so (the remedy is a fresh start; docs/RELIABILITY.md).
      expect(result.ok).toBe(false);
      expect(result.compare.tables.some((t) => !t.ok)).toBe(true);
    },
    (s) => s.jobs.every((j) => j.flinkState === 'RUNNING') && (s.state === 'RUNNING' || (s.state === 'DEGRADED' && /falling behind/.test(s.reason ?? ''))),
  );
});
