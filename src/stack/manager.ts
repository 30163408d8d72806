/**
 * `gridflow stack up | down | status | logs`: the local stack without a container engine.
 *
 * up:     fetch what is missing (once), then start each component in dependency order and wait for a
 *         real request to succeed; a component already healthy is left alone and reported as such.
 * down:   stop the supervisor, the detached worker and dashboard, then the components in reverse order,
 *         gently then forcefully; data stays unless --purge.
 * status: component, pid, address, health — the supervisor, worker and dashboard too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GridflowConfig } from '../config';
import { Component, StackContext } from './component';
import { postgresComponent } from './components/postgres';
import { zookeeperComponent } from './components/zookeeper';
import { flussComponent, startedReplicationFactor } from './components/fluss';
import { jobManagerComponent, sqlGatewayComponent, taskManagerComponent } from './components/flink';
import { temporalComponent } from './components/temporal';
import { stdoutFile } from './components/java';
import type { Progress } from '../core/types';
import { Artifacts, ensureArtifacts } from './fetch';
import { Health, safeCheck, statusWord, waitHealthy } from './health';
import { layout } from './layout';
import { ServiceUser, runtimePath, serviceUser } from './privilege';
import { ensureSupervisor, readSupervision, stopSupervisor, supervisorPid } from './supervision';
import { DetachedStatus, detachedPid, detachedProcesses, detachedStatus, stopDetachedProcesses } from './detached';
import { describeSupervision } from '../core/supervise';
import { isProcessAlive, processRss, readPid, stopProcess, tailFile, treeRss } from './process';

interface StackState {
  /** TaskManagers started beyond the configured count (by `stack add-taskmanager` or a workflow). */
  taskManagers?: number;
  /**
   * Fluss tablet servers the stack was brought up with: remembered, because tables created with
   * replication factor 3 need all three again after a restart with a plain `stack up`.
   */
  flussTablets?: number;
}

function readState(ctx: StackContext): StackState {
  try {
    return JSON.parse(fs.readFileSync(ctx.layout.stateFile, 'utf8')) as StackState;
  } catch {
    return {};
  }
}

function writeState(ctx: StackContext, state: StackState): void {
  fs.mkdirSync(ctx.layout.home, { recursive: true });
  fs.writeFileSync(ctx.layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function createContext(config: GridflowConfig, progress: Progress): StackContext {
  let artifacts: Artifacts | undefined;
  let user: { value: ServiceUser | undefined } | undefined;
  const paths = layout(config);
  const ctx: StackContext = {
    config,
    layout: paths,
    progress,
    user: () => (user ??= { value: serviceUser() }).value,
    artifacts: () => (artifacts ??= runtimeArtifacts(ensureArtifacts(config, progress), config.cacheDir, paths.runtime, ctx.user())),
  };
  return ctx;
}

/** The artifacts as the components' user reads them: hard links under <home>/runtime when that user is not us. */
function runtimeArtifacts(a: Artifacts, cacheDir: string, runtimeDir: string, user: ServiceUser | undefined): Artifacts {
  if (!user) return a;
  const at = (file: string) => runtimePath(file, cacheDir, runtimeDir);
  return {
    flinkClasspath: a.flinkClasspath.map(at),
    udfJar: at(a.udfJar),
    exactJar: at(a.exactJar),
    metricsJars: a.metricsJars.map(at),
    flussClasspath: a.flussClasspath.map(at),
    flussProbeClasspath: a.flussProbeClasspath, // run by gridflow itself (the health check), not by the user
    temporalBin: at(a.temporalBin),
  };
}

/** Indices of a numbered component (`<prefix><i>`): first … first+wanted-1, plus any still running. */
function numberedIndices(ctx: StackContext, prefix: string, first: number, wanted: number): number[] {
  const indices = new Set<number>();
  for (let i = first; i < first + wanted; i++) indices.add(i);
  if (fs.existsSync(ctx.layout.run)) {
    const pidFile = new RegExp(`^${prefix}(\\d+)\\.pid$`);
    for (const f of fs.readdirSync(ctx.layout.run)) {
      const m = pidFile.exec(f);
      if (m && isProcessAlive(readPid(ctx.layout.pidFile(`${prefix}${m[1]}`)))) indices.add(Number(m[1]));
    }
  }
  return [...indices].sort((x, y) => x - y);
}

/** TaskManager indices (from 1): configured ones plus any added later, plus any still running. */
const taskManagerIndices = (ctx: StackContext) => numberedIndices(ctx, 'taskmanager-', 1, Math.max(ctx.config.stack.taskManagers, readState(ctx).taskManagers ?? 0));

/** Tablet server indices (from 0): the configured or remembered count, plus any still running. */
const flussTabletIndices = (ctx: StackContext) => numberedIndices(ctx, 'fluss-tablet-', 0, Math.max(ctx.config.stack.flussTablets, readState(ctx).flussTablets ?? 0));

/**
 * Fluss's default replication factor for a stack of `tablets` tablet servers: as set, or min(tablets, 3)
 * (what a production Fluss uses). More copies than tablet servers cannot be placed: refused, naming both.
 */
export function flussReplicationFactor(tablets: number, configured: number | undefined): number {
  if (configured !== undefined && configured > tablets) {
    throw new StackError(`GRIDFLOW_FLUSS_REPLICATION=${configured} needs at least ${configured} tablet servers; the stack has ${tablets} (set GRIDFLOW_FLUSS_TABLETS)`);
  }
  return configured ?? Math.min(tablets, 3);
}

/** Components in start order. */
export function components(ctx: StackContext): Component[] {
  const { config } = ctx;
  const { host, ports } = config.stack;
  const home = config.home;
  const tablets = flussTabletIndices(ctx);
  const replicationFactor = flussReplicationFactor(tablets.length, config.stack.flussReplicationFactor);
  const fluss = { host, coordinatorPort: ports.flussCoordinator, zookeeperPort: ports.zookeeper, home, replicationFactor };
  return [
    postgresComponent('source', { host, port: ports.postgresSource, home }),
    postgresComponent('sink', { host, port: ports.postgresSink, home }),
    zookeeperComponent(host, ports.zookeeper, home),
    flussComponent('coordinator', { ...fluss, port: ports.flussCoordinator }),
    // Tablet server i listens on the tablet port + i.
    ...tablets.map((index) => flussComponent('tablet', { ...fluss, port: ports.flussTablet + index, index })),
    jobManagerComponent(config, home),
    ...taskManagerIndices(ctx).map((i) => taskManagerComponent(config, home, i)),
    sqlGatewayComponent(config, home),
    temporalComponent({ host, port: ports.temporal, uiPort: ports.temporalUi, namespace: config.temporal.namespace, home }),
  ];
}

export class StackError extends Error {
  override name = 'StackError';
}

export function failureReport(ctx: StackContext, c: Component, why: string): string {
  const parts = [`${c.name} ${why}`, `--- last lines of ${c.logFile}:`, tailFile(c.logFile, 25)];
  const out = stdoutFile(ctx.layout, c.name);
  if (fs.existsSync(out)) parts.push(`--- last lines of ${out}:`, tailFile(out, 15));
  return parts.join('\n');
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/**
 * One starter at a time per component, across processes (`stack up`, the supervisor, the worker adding a
 * TaskManager): an exclusive lock file holding the starter's pid; a lock whose holder died is taken over.
 */
async function withStartLock<T>(ctx: StackContext, name: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(ctx.layout.run, `${name}.starting`);
  fs.mkdirSync(ctx.layout.run, { recursive: true });
  const deadline = Date.now() + (ctx.config.stack.startTimeoutSeconds + 120) * 1000;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(lock);
      if (!isProcessAlive(holder) || holder === process.pid) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StackError(`${name}: another process (pid ${holder}) has been starting it for too long; see ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    if (readPid(lock) === process.pid) fs.rmSync(lock, { force: true });
  }
}

/** Start one component unless it is already healthy; wait until it is. */
export function bringUp(ctx: StackContext, c: Component): Promise<'started' | 'running'> {
  return withStartLock(ctx, c.name, () => bringUpUnlocked(ctx, c));
}

async function bringUpUnlocked(ctx: StackContext, c: Component): Promise<'started' | 'running'> {
  const pid = c.pid(ctx);
  const before = await safeCheck(() => c.health(ctx));
  if (before.ok) {
    ctx.progress(`${pad(c.name, 18)} already running${isProcessAlive(pid) ? ` (pid ${pid})` : ' (not started by this stack)'}: ${before.detail}`);
    await c.afterHealthy?.(ctx);
    return 'running';
  }
  if (!isProcessAlive(pid)) {
    ctx.progress(`${pad(c.name, 18)} starting`);
    await c.start(ctx);
  } else {
    ctx.progress(`${pad(c.name, 18)} process ${pid} is up but not answering yet; waiting`);
  }
  const started = Date.now();
  let lastNote = 0;
  const outcome = await waitHealthy(() => c.health(ctx), {
    timeoutMs: ctx.config.stack.startTimeoutSeconds * 1000,
    intervalMs: 500,
    processAlive: () => isProcessAlive(c.pid(ctx)),
    onAttempt: (h, elapsed) => {
      if (elapsed - lastNote >= 15_000) {
        lastNote = elapsed;
        ctx.progress(`${pad(c.name, 18)} still waiting (${Math.round(elapsed / 1000)} s): ${h.detail}`);
      }
    },
  });
  if (outcome.kind === 'exited') throw new StackError(failureReport(ctx, c, `exited during start (${outcome.health.detail})`));
  if (outcome.kind === 'timeout') {
    throw new StackError(failureReport(ctx, c, `not healthy after ${Math.round(outcome.elapsedMs / 1000)} s (${outcome.health.detail})`));
  }
  await c.afterHealthy?.(ctx);
  ctx.progress(`${pad(c.name, 18)} healthy in ${((Date.now() - started) / 1000).toFixed(1)} s: ${outcome.health.detail}`);
  return 'started';
}

interface UpResult {
  started: string[];
  alreadyRunning: string[];
  seconds: number;
}

/**
 * Independent chains start side by side; within a chain each stage waits for the one before it (Fluss
 * needs ZooKeeper, its tablet servers the coordinator; TaskManagers and the SQL Gateway the JobManager),
 * and the components of one stage — the tablet servers, the TaskManagers with the gateway — start side
 * by side too.
 */
export function startChains(all: Component[]): Component[][][] {
  const placeOf = (name: string): [string, number] => {
    if (name === 'zookeeper') return ['fluss', 0];
    if (name === 'fluss-coordinator') return ['fluss', 1];
    if (name.startsWith('fluss-')) return ['fluss', 2];
    if (name.startsWith('flink-')) return ['flink', 0];
    if (name.startsWith('taskmanager-') || name === 'sql-gateway') return ['flink', 1];
    return [name, 0];
  };
  const chains = new Map<string, Component[][]>();
  for (const c of all) {
    const [chain, stage] = placeOf(c.name);
    const stages = chains.get(chain) ?? [];
    (stages[stage] ??= []).push(c);
    chains.set(chain, stages);
  }
  // A chain with only some of its components asked for (stack up <name>) keeps its order, without gaps.
  return [...chains.values()].map((stages) => stages.filter((stage) => stage && stage.length));
}

export async function stackUp(ctx: StackContext, only?: string[], opts: { supervise?: boolean } = {}): Promise<UpResult> {
  const t0 = Date.now();
  // Fetch first, so a missing prerequisite is reported before anything starts.
  ctx.artifacts();
  const result: UpResult = { started: [], alreadyRunning: [], seconds: 0 };
  const tablets = flussTabletIndices(ctx).length;
  if (tablets !== readState(ctx).flussTablets) writeState(ctx, { ...readState(ctx), flussTablets: tablets });
  const rf = flussReplicationFactor(tablets, ctx.config.stack.flussReplicationFactor);
  const coordinatorRf = isProcessAlive(readPid(ctx.layout.pidFile('fluss-coordinator'))) ? startedReplicationFactor(ctx.layout.fluss, 'fluss-coordinator') : undefined;
  if (coordinatorRf !== undefined && coordinatorRf !== rf) {
    ctx.progress(`fluss-coordinator runs with default.replication.factor ${coordinatorRf}, not ${rf}: new tables get ${coordinatorRf} copies until it restarts (stack down, then stack up)`);
  }
  const wanted = components(ctx).filter((c) => !only || only.includes(c.name));
  const outcomes = await Promise.allSettled(
    startChains(wanted).map(async (chain) => {
      for (const stage of chain) {
        const outcomes = await Promise.allSettled(stage.map((c) => bringUp(ctx, c)));
        outcomes.forEach((o, i) => {
          if (o.status === 'fulfilled') (o.value === 'started' ? result.started : result.alreadyRunning).push(stage[i].name);
        });
        // A stage that failed stops its chain (what comes after needs it), once the whole stage has ended.
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failed) throw failed.reason;
      }
    }),
  );
  // Every chain has finished (or failed) before the first failure is reported: nothing is left half-started.
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  const order = wanted.map((c) => c.name);
  for (const list of [result.started, result.alreadyRunning]) list.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  // From now on a component that exits is started again (supervisor.ts).
  if (opts.supervise !== false) ensureSupervisor(ctx);
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

export async function stackDown(ctx: StackContext, opts: { purge?: boolean } = {}): Promise<void> {
  // First, or it would start again what is being stopped.
  await stopSupervisor(ctx);
  // Then gridflow's own worker and dashboard, before the Temporal server and databases they use: none is
  // left running (and polling the next stack's Temporal) once the pid files are purged.
  await stopDetachedProcesses(ctx, (s) => pad(s, 18));
  for (const c of [...components(ctx)].reverse()) {
    const pid = c.pid(ctx);
    const outcome = pid ? await stopProcess(pid, c.name.startsWith('postgres') ? 60_000 : 20_000, c.stopSignal) : 'not-running';
    ctx.progress(`${pad(c.name, 18)} ${outcome === 'not-running' ? 'not running' : outcome === 'killed' ? `killed (pid ${pid} ignored the stop signal)` : `stopped (pid ${pid})`}`);
    fs.rmSync(ctx.layout.pidFile(c.name), { force: true });
  }
  writeState(ctx, {});
  if (opts.purge) {
    const dirs = new Set(components(ctx).flatMap((c) => c.dataDirs));
    // stack.json too: the TaskManager and tablet server counts belong to the data that is gone.
    for (const dir of [...dirs, ctx.layout.logs, ctx.layout.run, ctx.layout.runtime, ctx.layout.connectionsFile, ctx.layout.stateFile]) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    ctx.progress(`purged data, logs and credentials under ${ctx.layout.home}`);
  }
}

interface ComponentStatus {
  component: string;
  pid: number | null;
  address: string;
  /** 'not started': a worker or dashboard never started detached (not a fault, unlike 'stopped'). */
  status: ReturnType<typeof statusWord> | DetachedStatus;
  detail: string;
  rssBytes: number | null;
  log: string;
  /** Restarts by the supervisor since it started (0 when none or unsupervised). */
  restarts: number;
  /** The supervisor's word on it: "2 restarts, last 3 min ago", "gave up: …", or ''. */
  supervision: string;
}

export async function stackStatus(ctx: StackContext): Promise<ComponentStatus[]> {
  const rows: ComponentStatus[] = [];
  const supervision = readSupervision(ctx);
  const now = Date.now();
  const supervisor = supervisorPid(ctx);
  rows.push({
    component: 'supervisor',
    pid: supervisor ?? null,
    address: '-',
    status: supervisor ? 'healthy' : 'stopped',
    detail: supervisor ? 'restarts any component that exits' : 'not running: nothing restarts a component that exits (gridflow stack up starts it)',
    rssBytes: supervisor ? processRss(supervisor) : null,
    log: ctx.layout.logFile('supervisor'),
    restarts: 0,
    supervision: '',
  });
  for (const c of components(ctx)) {
    const pid = c.pid(ctx);
    const running = isProcessAlive(pid);
    const health: Health = await safeCheck(() => c.health(ctx));
    rows.push({
      component: c.name,
      pid: running ? pid! : null,
      address: c.address,
      status: statusWord(running, health),
      detail: health.detail,
      rssBytes: running ? treeRss(pid!) : null,
      log: c.logFile,
      restarts: supervision[c.name]?.restarts ?? 0,
      supervision: describeSupervision(supervision[c.name], now),
    });
  }
  // gridflow's own, after the components they run on.
  for (const p of detachedProcesses(ctx)) {
    const { pid } = detachedPid(p);
    const pidFileExists = fs.existsSync(p.pidFile);
    const health: Health = await safeCheck(() => p.health(pid));
    const status = detachedStatus(pidFileExists, pid !== undefined, health);
    const detail =
      status === 'not started'
        ? `not started (${p.startCommand})`
        : status === 'stopped'
          ? `not running (its pid file is there: ${supervisor ? 'the supervisor starts it again' : `nothing restarts it without the supervisor; ${p.startCommand}`})`
          : health.detail;
    rows.push({
      component: p.name,
      pid: pid ?? null,
      address: p.address,
      status,
      detail,
      rssBytes: pid ? treeRss(pid) : null,
      log: p.logFile,
      restarts: supervision[p.name]?.restarts ?? 0,
      supervision: pidFileExists ? describeSupervision(supervision[p.name], now) : '',
    });
  }
  return rows;
}

/**
 * Provide the slots of one more TaskManager (the local answer to "not enough slots"), cheapest first:
 *  1. a TaskManager process that runs but is not registered (e.g. reconnecting to a restarted
 *     JobManager): wait for it rather than start another;
 *  2. a configured TaskManager that died: start it again;
 *  3. otherwise start a new one.
 * Returns the TaskManager's name once it is registered.
 */
export async function addTaskManager(ctx: StackContext): Promise<string> {
  const tms = () => components(ctx).filter((c) => c.name.startsWith('taskmanager-'));
  for (const tm of tms()) {
    if (isProcessAlive(tm.pid(ctx)) && !(await safeCheck(() => tm.health(ctx))).ok) {
      ctx.progress(`${tm.name} runs but is not registered with the JobManager: waiting for it`);
      await bringUp(ctx, tm);
      return tm.name;
    }
  }
  const dead = tms().find((tm) => !isProcessAlive(tm.pid(ctx)));
  const index = dead ? Number(dead.name.slice('taskmanager-'.length)) : Math.max(0, ...taskManagerIndices(ctx)) + 1;
  writeState(ctx, { ...readState(ctx), taskManagers: Math.max(index, readState(ctx).taskManagers ?? 0) });
  const tm = components(ctx).find((c) => c.name === `taskmanager-${index}`)!;
  await bringUp(ctx, tm);
  return tm.name;
}

export function logFileOf(ctx: StackContext, component: string): string[] {
  const detached = detachedProcesses(ctx).find((x) => x.name === component);
  if (detached) return [detached.logFile];
  const c = components(ctx).find((x) => x.name === component);
  if (!c) {
    throw new StackError(`unknown component ${component}; one of: ${[...components(ctx), ...detachedProcesses(ctx)].map((x) => x.name).join(', ')}`);
  }
  const files = [c.logFile];
  const out = stdoutFile(ctx.layout, c.name);
  if (out !== c.logFile && fs.existsSync(out)) files.push(out);
  return files;
}
