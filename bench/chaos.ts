/**
 * Chaos soak (issue 12; outside CI): sustained changes into the source while a seeded random fault hits
 * the stack every --every seconds (each fault once per "deck", decks in seeded random order). Each round: load for --load seconds, one fault `--fault-at` seconds in
 * (kill -9 of a component, or of the detached worker), then the times from the fault until the
 * component serves again (the supervisor restarts it), until the pipeline is RUNNING with every job
 * RUNNING, and — once the round's load has ended — until the sink equals the contract. A round whose
 * sink is not equal within --settle seconds is a divergence: recorded with the tables that differ, and
 * the soak goes on (the sink may still heal later; the final check says).
 *
 * Runs against the stack GRIDFLOW_HOME / GRIDFLOW_PORT_OFFSET name, with pipeline `sgcc` deployed and a
 * detached worker (`gridflow demo` leaves it so). A replicated Fluss (GRIDFLOW_FLUSS_TABLETS=3) is what
 * the tablet faults assume; with one tablet server they are skipped unless --rf1-tablet is given.
 *
 *   GRIDFLOW_HOME=$PWD/.gridflow-chaos GRIDFLOW_PORT_OFFSET=30000 GRIDFLOW_FLUSS_TABLETS=3 bin/gridflow demo
 *   GRIDFLOW_HOME=$PWD/.gridflow-chaos GRIDFLOW_PORT_OFFSET=30000 \
 *     npx ts-node -T bench/chaos.ts --minutes 60 --every 180 --seed 7 [--rate 40] [--out bench/tmp/chaos.json]
 *     [--only flink-jobmanager,taskmanager-1] [--stop-on-divergence: stop there, keep a copy of the checkpoints]
 *
 * Single jobs are lost too (issue 20): `job-<name> cancelled` (through Flink's REST API; the watch brings
 * it back from its newest retained checkpoint) for each of ingest, dws, ads and sink, and `job-ingest
 * failing` (its replication connections cut; Flink restarts it from its own latest checkpoint).
 *
 * Prints one line per round and, at the end, a markdown table per fault (median and range) for
 * docs/RELIABILITY.md (`--report FILE` prints it again from a rounds file). Exit code 0 when the final check finds the sink equal, 1 otherwise.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, resolveConnection } from '../src/config';
import type { PipelineStatus } from '../src/core/state';
import { rng } from '../src/load/planner';
import { runLoad } from '../src/load/runner';
import { compareAll } from '../src/postgres/reconcile';
import { layout } from '../src/stack/layout';
import { components, createContext, stackStatus } from '../src/stack/manager';
import { isProcessAlive, readPid } from '../src/stack/process';
import { localSpec } from '../src/stack/local-spec';
import { flinkJobName } from '../src/constants';
import { JOB_NAMES, JobName } from '../src/core/spec';
import { FlinkRestClient, TERMINAL_JOB_STATES } from '../src/flink/rest';
import { query, withClient } from '../src/postgres/connection';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Round {
  round: number;
  fault: string;
  at: string;
  /** Seconds from the kill until the component serves again (its restart counted by the supervisor). */
  backS?: number;
  /** Seconds from the kill until the pipeline is RUNNING with every job RUNNING again. */
  runningS?: number;
  /** Seconds from the kill until the sink equals the contract (load ended first). */
  equalS?: number;
  /** Seconds from the later of the load's end and RUNNING-again until the sink equals the contract. */
  afterLoadS?: number;
  /** States the pipeline showed meanwhile. */
  states: string[];
  divergence?: string;
  error?: string;
  /** The operator's action the fault interrupted, and how it ended. */
  action?: string;
}

const config = loadConfig();
const ctx = createContext(config, () => undefined);
const paths = layout(config);
const spec = localSpec(config);
const bin = path.join(__dirname, '..', 'bin', 'gridflow');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;

/** The pipeline's status through the CLI, as an operator sees it; undefined while Temporal or the worker cannot answer. */
function status(): Promise<PipelineStatus | undefined> {
  return new Promise((resolve) => {
    // A state other than RUNNING exits non-zero too: the JSON on stdout is the answer either way.
    execFile(process.execPath, [bin, 'status', '--name', spec.name, '--json'], { timeout: 20_000, env: process.env }, (_err, stdout) => {
      try {
        resolve(JSON.parse(stdout) as PipelineStatus);
      } catch {
        resolve(undefined);
      }
    });
  });
}

const healthy = (s: PipelineStatus | undefined) => !!s && s.state === 'RUNNING' && s.jobs.length > 0 && s.jobs.every((j) => j.flinkState === 'RUNNING');

async function sinkEqual(): Promise<{ ok: boolean; differs: string }> {
  const r = await compareAll(resolveConnection(spec.source.connection), resolveConnection(spec.sink.connection), { sinkSchema: spec.sink.schema });
  return { ok: r.ok, differs: r.tables.filter((t) => !t.ok).map((t) => t.table).join(', ') };
}

/**
 * The faults: every component's kill -9 in steady state, and the control plane's (worker, Temporal, SQL
 * Gateway) in the middle of an operator's action — a redeploy of one job (killed between its stop and
 * its submit, or during either) or a savepoint.
 */
function faults(withRf1Tablet: boolean): string[] {
  const names = components(ctx).map((c) => c.name);
  const tablets = names.filter((n) => n.startsWith('fluss-tablet-'));
  const list = names.filter((n) => !n.startsWith('fluss-tablet-'));
  if (tablets.length >= 3 || withRf1Tablet) list.push(...tablets);
  const worker = fs.existsSync(paths.pidFile('worker'));
  if (worker) list.push('worker', 'worker during redeploy', 'worker during savepoint');
  list.push('temporal during redeploy', 'sql-gateway during redeploy');
  // Single jobs lost on their own (issue 20): cancelled through Flink's REST API (the watch brings the
  // job back from its newest retained checkpoint), or ingest failing when its replication connections
  // are cut (Flink restarts it from its own latest checkpoint).
  list.push(...JOB_NAMES.map((j) => `job-${j} cancelled`), 'job-ingest failing');
  return list;
}

const rest = () => new FlinkRestClient(config.flink.restUrl);

/** The one live Flink job of a pipeline job, if any. */
async function liveJob(job: string): Promise<{ jid: string; state: string } | undefined> {
  const live = (await rest().jobsOverview()).filter((j) => j.name === flinkJobName(spec.name, job as JobName) && !TERMINAL_JOB_STATES.has(j.state));
  return live[0] ? { jid: live[0].jid, state: live[0].state } : undefined;
}

/** The pipeline's replication connections (its walsenders), as the source admin sees them. */
async function walsenders(): Promise<number[]> {
  return withClient(resolveConnection('source_admin'), async (c) =>
    (await query<{ pid: number }>(c, 'walsenders', "SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name LIKE $1 AND active_pid IS NOT NULL", [`gridflow\\_${spec.name}\\_%`])).rows.map((r) => r.pid),
  );
}

/**
 * A single job's loss. Returns when the job was hit, and a check that says when it is back: a new
 * RUNNING instance (cancelled), or its replication connections there again (failing).
 */
async function loseJob(fault: string): Promise<{ t0: number; back: () => Promise<boolean> } | string> {
  const [, job, how] = /^job-(\w+) (cancelled|failing)$/.exec(fault)!;
  const before = await liveJob(job);
  if (!before || before.state !== 'RUNNING') return `${job} was not running before the fault`;
  const t0 = Date.now();
  if (how === 'cancelled') {
    await rest().cancel(before.jid);
    return { t0, back: async () => { const now = await liveJob(job); return !!now && now.jid !== before.jid && now.state === 'RUNNING'; } };
  }
  const pids = await walsenders();
  if (!pids.length) return `${job} has no replication connection to cut`;
  await withClient(resolveConnection('source_admin'), (c) => query(c, 'cut walsenders', 'SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]));
  return { t0, back: async () => { const now = await walsenders(); return now.length >= pids.length && now.every((p) => !pids.includes(p)); } };
}

/** Start an operator's action through the CLI, not waited for: the fault hits while it runs. */
function startAction(action: 'redeploy' | 'savepoint', job: string, round: number): Promise<string> {
  const cli = action === 'redeploy' ? ['redeploy', '--name', spec.name, '--jobs', job, '--request-id', `chaos-${Date.now().toString(36)}-${round}`] : ['savepoint', '--name', spec.name, '--jobs', job];
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...cli], { timeout: 600_000, env: process.env }, (err, stdout, stderr) => {
      const last = `${stdout}\n${stderr}`.trim().split('\n').filter(Boolean).pop() ?? '';
      resolve(`${action} ${job}: exit ${err ? ((err as { code?: number }).code ?? 'killed') : 0}: ${last.slice(0, 160)}`);
    });
  });
}

/** Note the pipeline's state in the round when it differs from the last one noted; true when healthy. */
async function noteState(r: Round): Promise<boolean> {
  const s = await status();
  const word = s ? `${s.state}${s.reason ? ` (${s.reason.slice(0, 80)})` : ''}` : 'no answer';
  if (r.states[r.states.length - 1] !== word) r.states.push(word);
  return healthy(s);
}

/** After the load: wait (until the deadline) for the sink to equal the contract; a divergence if it never does. */
async function awaitSinkEqual(r: Round, t0: number, loadEnded: number, deadline: number, settleS: number): Promise<void> {
  let last = { ok: false, differs: 'not compared' };
  while (Date.now() < deadline) {
    last = await sinkEqual().catch((err: unknown) => ({ ok: false, differs: `compare failed: ${String(err).split('\n')[0]}` }));
    if (last.ok) {
      r.equalS = secondsSince(t0);
      r.afterLoadS = secondsSince(loadEnded);
      return;
    }
    await sleep(2000);
  }
  r.divergence = `sink not equal ${settleS} s after the fault: ${last.differs}`;
}

async function runRound(round: number, fault: string, opts: { rate: number; loadS: number; faultAtS: number; settleS: number; seed: number }, rand: () => number): Promise<Round> {
  const r: Round = { round, fault, at: new Date().toISOString(), states: [] };
  const [victim, , during] = fault.split(' ') as [string, string?, ('redeploy' | 'savepoint')?];
  const restartsBefore = (await stackStatus(ctx)).find((x) => x.component === victim)?.restarts ?? 0;
  const load = runLoad(resolveConnection('source_admin'), { ratePerSecond: opts.rate, durationSeconds: opts.loadS, seed: opts.seed }).catch((err: unknown) =>
    // Killing the source (or its connection) ends the load early: what it committed is the contract's input.
    process.stderr.write(`  load ended early: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`),
  );
  await sleep(opts.faultAtS * 1000);
  if (victim.startsWith('job-')) return finishRound(r, await loseJob(fault), load, opts);
  const pidFile = paths.pidFile(victim);
  const pid = readPid(pidFile);
  if (!pid || !isProcessAlive(pid)) {
    r.error = `${victim} was not running before the fault`;
    await load;
    return r;
  }
  let action: Promise<string> | undefined;
  if (during) {
    const jobs = (await status())?.jobs.map((j) => j.job) ?? [];
    action = startAction(during, jobs[Math.floor(rand() * jobs.length)] ?? 'sink', round);
    // Somewhere inside the action: a redeploy's stop-with-savepoint takes seconds, its submit follows.
    await sleep(1000 + Math.floor(rand() * 6000));
  }
  const t0 = Date.now();
  process.kill(pid, 'SIGKILL');
  const deadline = t0 + opts.settleS * 1000;
  // Back: a new live process, and the supervisor counted the restart (it counts once the component serves).
  while (Date.now() < deadline && r.backS === undefined) {
    const now = readPid(pidFile);
    const back =
      victim === 'worker'
        ? now !== undefined && now !== pid && isProcessAlive(now)
        : now !== undefined && now !== pid && isProcessAlive(now) && ((await stackStatus(ctx)).find((x) => x.component === victim)?.restarts ?? 0) > restartsBefore;
    if (back) r.backS = secondsSince(t0);
    else await sleep(500);
  }
  while (Date.now() < deadline && r.runningS === undefined) {
    if ((await noteState(r)) && r.backS !== undefined) r.runningS = secondsSince(t0);
    else await sleep(2000);
  }
  await load;
  const loadEnded = Date.now();
  if (action) r.action = await action;
  await awaitSinkEqual(r, t0, loadEnded, deadline, opts.settleS);
  if (r.backS === undefined) r.error = `${victim} not back within ${opts.settleS} s`;
  return r;
}

/** The rest of a single job's round: back, RUNNING, then (after the load) the sink equal to the contract. */
async function finishRound(r: Round, hit: { t0: number; back: () => Promise<boolean> } | string, load: Promise<unknown>, opts: { settleS: number }): Promise<Round> {
  if (typeof hit === 'string') {
    r.error = hit;
    await load;
    return r;
  }
  const deadline = hit.t0 + opts.settleS * 1000;
  while (Date.now() < deadline && (r.backS === undefined || r.runningS === undefined)) {
    if (r.backS === undefined && (await hit.back().catch(() => false))) r.backS = secondsSince(hit.t0);
    if ((await noteState(r)) && r.backS !== undefined) r.runningS = secondsSince(hit.t0);
    else await sleep(1000);
  }
  await load;
  await awaitSinkEqual(r, hit.t0, Date.now(), deadline, opts.settleS);
  if (r.backS === undefined) r.error = `not back within ${opts.settleS} s`;
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function table(rounds: Round[]): string {
  const cell = (xs: Array<number | undefined>) => {
    const v = xs.filter((x): x is number => x !== undefined);
    if (!v.length) return '—';
    return v.length === 1 ? `${v[0]} s (1 run)` : `${Math.round(median(v) * 10) / 10} s (${Math.min(...v)}–${Math.max(...v)}, ${v.length} runs)`;
  };
  const lines = ['| fault | rounds | component back | pipeline RUNNING | sink equal | sink equal after load end and RUNNING | divergences |', '|---|---|---|---|---|---|---|'];
  for (const fault of [...new Set(rounds.map((r) => r.fault))].sort()) {
    const rs = rounds.filter((r) => r.fault === fault);
    const shown = fault.startsWith('job-') ? fault.replace(/^job-(\w+)/, '$1 job') : fault.replace(/^(\S+)/, '$1 `kill -9`');
    lines.push(`| ${shown} | ${rs.length} | ${cell(rs.map((r) => r.backS))} | ${cell(rs.map((r) => r.runningS))} | ${cell(rs.map((r) => r.equalS))} | ${cell(rs.map((r) => r.afterLoadS))} | ${rs.filter((r) => r.divergence).length} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (args.includes('--help')) {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
    return;
  }
  const reportOf = option('report', '');
  if (reportOf) {
    // The table of an earlier (or interrupted) soak, from its rounds file.
    const saved = JSON.parse(fs.readFileSync(reportOf, 'utf8')) as { rounds: Round[]; summary?: string };
    process.stdout.write(`${saved.summary ?? `${saved.rounds.length} rounds (interrupted: no final check)`}\n\n${table(saved.rounds)}\n`);
    return;
  }
  const minutes = flag('minutes', 60);
  const every = flag('every', 180);
  const seed = flag('seed', 7);
  const opts = { rate: flag('rate', 40), loadS: flag('load', 40), faultAtS: flag('fault-at', 10), settleS: flag('settle', 300) };
  const out = option('out', path.join(__dirname, 'tmp', `chaos-${Date.now()}.json`));
  const rand = rng(seed); // the same seed, the same faults in the same order
  // --only a,b: just these faults (e.g. --only flink-jobmanager to chase the JobManager divergence).
  const only = option('only', '').split(',').filter(Boolean);
  const list = faults(args.includes('--rf1-tablet')).filter((f) => !only.length || only.includes(f));
  if (!list.length) throw new Error(`--only ${only.join(',')} names no fault of this stack`);
  if (!healthy(await status())) throw new Error(`pipeline ${spec.name} is not RUNNING on ${config.home}: deploy it first (gridflow demo), then start the soak`);
  process.stderr.write(`chaos soak: ${minutes} min, a fault every ${every} s, seed ${seed}, load ${opts.rate}/s for ${opts.loadS} s per round; faults: ${list.join(', ')}\n`);
  const rounds: Round[] = [];
  const t0 = Date.now();
  // Decks: every fault once per deck, in a seeded random order, so each gets its share of rounds.
  let deck: string[] = [];
  for (let i = 1; Date.now() - t0 < minutes * 60_000; i++) {
    const roundStart = Date.now();
    if (!deck.length) deck = shuffle(list, rand);
    const fault = deck.shift()!;
    const r = await runRound(i, fault, { ...opts, seed: seed * 1000 + i }, rand);
    rounds.push(r);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify({ seed, every, minutes, opts, rounds }, null, 2)}\n`);
    process.stderr.write(
      `[${r.at}] round ${i} ${fault}: back ${r.backS ?? '—'} s, RUNNING ${r.runningS ?? '—'} s, sink equal ${r.equalS ?? '—'} s (${r.afterLoadS ?? '—'} s after the load); states ${r.states.join(' → ') || '—'}${r.action ? `; ${r.action}` : ''}${r.divergence ? `; DIVERGENCE ${r.divergence}` : ''}${r.error ? `; ERROR ${r.error}` : ''}\n`,
    );
    if (r.divergence && args.includes('--stop-on-divergence')) {
      // Keep the evidence: Flink prunes an old instance's checkpoints once the new one has its own.
      const keep = path.join(config.home, `evidence-round-${i}`);
      fs.cpSync(paths.checkpoints, path.join(keep, 'checkpoints'), { recursive: true });
      process.stderr.write(`stopping at the divergence; checkpoints copied to ${keep}; the stack is left as it is\n`);
      break;
    }
    const wait = every * 1000 - (Date.now() - roundStart);
    if (wait > 0 && Date.now() - t0 + wait < minutes * 60_000) await sleep(wait);
  }
  // Final check: with the load stopped, the sink must equal the contract.
  let final = { ok: false, differs: '' };
  const end = Date.now() + opts.settleS * 1000;
  while (Date.now() < end && !(final = await sinkEqual()).ok) await sleep(2000);
  const summary = `${rounds.length} faults in ${Math.round((Date.now() - t0) / 60_000)} min; ${rounds.filter((r) => r.divergence).length} rounds with a divergence; final: sink ${final.ok ? 'equal to the contract' : `differs (${final.differs})`}`;
  fs.writeFileSync(out, `${JSON.stringify({ seed, every, minutes, opts, rounds, final, summary }, null, 2)}\n`);
  process.stdout.write(`${summary}\n\n${table(rounds)}\n\nrounds: ${out}\n`);
  process.exitCode = final.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
