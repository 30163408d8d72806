/**
 * gridflow's own processes that run detached beside the stack's components, from the stack folder: the
 * worker (`gridflow worker start`, src/cli/worker.ts) and the dashboard (`gridflow dashboard start`,
 * src/cli/dashboard.ts). Each has a pid file under run/ — while it exists the supervisor restarts the
 * process — and a log under logs/. `stack status` lists them beside the components, and `stack down`
 * stops them before the components: nothing of a stopped or purged stack keeps running (a purged
 * stack's worker went on polling the next stack's Temporal server).
 */
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { temporalConnectionOptions } from '../config';
import { TASK_QUEUE } from '../constants';
import { StackContext } from './component';
import { Health, healthy, statusWord, unhealthy } from './health';
import { Layout } from './layout';
import { isProcessAlive, readPid, stopProcess } from './process';

type DetachedName = 'worker' | 'dashboard';

interface DetachedProcess {
  name: DetachedName;
  pidFile: string;
  logFile: string;
  /** What an operator opens: the dashboard's URL; '-' for the worker, which serves nothing. */
  address: string;
  /** The command that starts it detached (said when it is not running). */
  startCommand: string;
  /** How long `stack down` waits after SIGTERM before SIGKILL (the worker finishes in-flight tasks). */
  graceMs: number;
  /** One real request: the worker polling Temporal as `pid`, the dashboard answering /healthz. */
  health(pid: number | undefined): Promise<Health>;
}

/** The arguments `gridflow dashboard start` saved beside its pid file (what the supervisor restarts it with). */
export function dashboardArgsFile(paths: Pick<Layout, 'run'>): string {
  return path.join(paths.run, 'dashboard.json');
}

/** The dashboard's URL from its saved --host/--port, else the configured port on loopback. */
export function dashboardUrl(saved: { host?: string; port?: number } | null, defaultPort: number): string {
  const host = saved?.host ?? '127.0.0.1';
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${saved?.port ?? defaultPort}`;
}

function savedDashboardArgs(paths: Pick<Layout, 'run'>): { host?: string; port?: number } | null {
  try {
    return JSON.parse(fs.readFileSync(dashboardArgsFile(paths), 'utf8')) as { host?: string; port?: number };
  } catch {
    return null;
  }
}

/**
 * The worker's health from the pollers of the gridflow task queue: a worker's identity is `<pid>@<host>`
 * (the Temporal SDK's default), so the detached worker is healthy when its own pid polls. Without one, any
 * poller is a worker this stack did not start (status `external`).
 */
export function workerPollHealth(pollers: string[], pid: number | undefined, hostname: string, where: string): Health {
  if (pid !== undefined) {
    const me = `${pid}@${hostname}`;
    if (pollers.includes(me)) return healthy(`polling task queue ${TASK_QUEUE} at ${where} as ${me}`);
    return unhealthy(`runs, but is not polling task queue ${TASK_QUEUE} at ${where}${pollers.length ? ` (pollers: ${pollers.join(', ')})` : ''}`);
  }
  if (pollers.length) return healthy(`none started by this stack, but ${pollers.length} worker(s) poll task queue ${TASK_QUEUE} at ${where}: ${pollers.join(', ')}`);
  return unhealthy(`no worker polls task queue ${TASK_QUEUE} at ${where}`);
}

async function taskQueuePollers(ctx: StackContext): Promise<string[]> {
  const { config } = ctx;
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000, ...temporalConnectionOptions(config) });
  try {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: TASK_QUEUE, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (res.pollers ?? []).map((p) => p.identity ?? 'unknown');
  } finally {
    await connection.close();
  }
}

export function detachedProcesses(ctx: StackContext): DetachedProcess[] {
  const paths = ctx.layout;
  const url = dashboardUrl(savedDashboardArgs(paths), ctx.config.stack.ports.dashboard);
  return [
    {
      name: 'worker',
      pidFile: paths.pidFile('worker'),
      logFile: paths.logFile('worker'),
      address: '-',
      startCommand: 'gridflow worker start',
      graceMs: 30_000,
      health: async (pid) => workerPollHealth(await taskQueuePollers(ctx), pid, os.hostname(), ctx.config.temporal.address),
    },
    {
      name: 'dashboard',
      pidFile: paths.pidFile('dashboard'),
      logFile: paths.logFile('dashboard'),
      address: url,
      startCommand: 'gridflow dashboard start',
      graceMs: 10_000,
      health: async () => {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? healthy(`answers at ${url}/`) : unhealthy(`${url}/healthz answered ${res.status}`);
      },
    },
  ];
}

/**
 * Whether a live pid is still the process its pid file was written for: that process started before the
 * file was written (startDetached writes it right after the spawn). A pid the kernel has since given to
 * another process (a pid file left from before a reboot) started later, and is neither reported nor
 * stopped. `slackMs` covers the boot time's one-second resolution.
 */
export function startedBeforePidFile(processStartMs: number, pidFileMtimeMs: number, slackMs = 2000): boolean {
  return processStartMs <= pidFileMtimeMs + slackMs;
}

/** When a process started (ms since epoch), from /proc; undefined where /proc cannot tell. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    // USER_HZ, in which /proc counts, is 100 on every Linux architecture.
    return btime && Number.isFinite(ticks) ? Number(btime[1]) * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in the file when that process still runs; `stale` when the pid now belongs to another process. */
export function detachedPid(p: Pick<DetachedProcess, 'pidFile'>): { pid: number | undefined; stale?: number } {
  const pid = readPid(p.pidFile);
  if (!isProcessAlive(pid)) return { pid: undefined };
  try {
    const started = processStartMs(pid!);
    if (started !== undefined && !startedBeforePidFile(started, fs.statSync(p.pidFile).mtimeMs)) return { pid: undefined, stale: pid };
  } catch {
    /* the pid file went meanwhile: take the pid as read */
  }
  return { pid };
}

export type DetachedStatus = ReturnType<typeof statusWord> | 'not started';

/**
 * The status word of a detached process: healthy/unhealthy while it runs; `stopped` when its pid file is
 * there but the process is not (the supervisor restarts it); `external` when none of ours runs but one
 * answers anyway (a foreground `gridflow worker`); `not started` when it was never started detached — the
 * one case that is not a fault.
 */
export function detachedStatus(pidFileExists: boolean, running: boolean, health: Health): DetachedStatus {
  if (running || health.ok) return statusWord(running, health);
  return pidFileExists ? 'stopped' : 'not started';
}

/**
 * Stop the detached worker and dashboard (`stack down`, after the supervisor and before the components).
 * Each pid file goes first: while it exists, a supervisor would restart what exits.
 */
export async function stopDetachedProcesses(ctx: StackContext, pad: (s: string) => string): Promise<void> {
  for (const p of detachedProcesses(ctx)) {
    const { pid, stale } = detachedPid(p);
    fs.rmSync(p.pidFile, { force: true });
    if (stale) {
      ctx.progress(`${pad(p.name)} not running (its pid file named pid ${stale}, now another process: left alone)`);
      continue;
    }
    const outcome = pid ? await stopProcess(pid, p.graceMs) : 'not-running';
    ctx.progress(`${pad(p.name)} ${outcome === 'not-running' ? 'not running' : outcome === 'killed' ? `killed (pid ${pid} ignored the stop signal)` : `stopped (pid ${pid})`}`);
  }
}
