/**
 * `gridflow dashboard`: the grid's live page and the pipeline's page (src/dashboard), in the foreground
 * or detached and supervised with the stack like the worker (its pid file under run/ tells the
 * supervisor to restart it, with the arguments kept beside it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GridflowConfig, loadConfig, repoRoot } from '../config';
import { IDENTIFIER } from '../constants';
import { DashboardAddressInUse, runDashboard } from '../dashboard/run';
import { layout } from '../stack/layout';
import { isAlive, readPid, startDetached, stopProcess } from '../stack/process';
import { ParsedArgs, UsageError, allowFlags } from './args';
import { Out } from './output';

export const DASHBOARD_HELP = `gridflow dashboard — the grid's live page (实时大屏) and the pipeline's page, with a JSON API and /metrics

Usage:
  gridflow dashboard              run in the foreground (Ctrl-C stops it)
  gridflow dashboard start        run detached, supervised with the stack; log in <GRIDFLOW_HOME>/logs/dashboard.log
  gridflow dashboard stop         stop the detached dashboard
  gridflow dashboard status       is it answering, and where?

Options:
  --host HOST     address to listen on (default 127.0.0.1)
  --port N        port (default 8090, or GRIDFLOW_DASHBOARD_PORT; shifted by GRIDFLOW_PORT_OFFSET like every port)
  --name P[,Q]    pipeline(s) to show (default sgcc)
  --json          machine-readable output

It reads the sink as the read-only connection sink_reader (the local stack defines it; elsewhere set
GRIDFLOW_PG_SINK_READER, or GRIDFLOW_DASHBOARD_SINK_CONNECTION to use another name) and the pipeline's
state through Temporal. Pages, API and options: docs/DASHBOARD.md.`;

export const DASHBOARD = 'dashboard';

export interface DashboardArgs {
  host: string;
  port: number;
  pipelines: string[];
}

/** --host/--port/--name → what to serve (validated; a bad value is a usage error naming it). */
export function dashboardArgs(args: ParsedArgs, config: GridflowConfig): DashboardArgs {
  const host = typeof args.flags.host === 'string' ? args.flags.host : '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) throw new UsageError(`--host must be a host name or address, got ${JSON.stringify(host)}`);
  let port = config.stack.ports.dashboard;
  if (args.flags.port !== undefined) {
    const raw = String(args.flags.port);
    port = Number(raw);
    if (!/^\d+$/.test(raw) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number 1..65535, got ${JSON.stringify(raw)}`);
  }
  const names = typeof args.flags.name === 'string' ? args.flags.name.split(',').map((n) => n.trim()) : ['sgcc'];
  for (const n of names) if (!IDENTIFIER.test(n)) throw new UsageError(`--name: ${JSON.stringify(n)} is not a pipeline name (lower-case identifier)`);
  return { host, port, pipelines: [...new Set(names)] };
}

export function dashboardFiles(config: Pick<GridflowConfig, 'home'>) {
  const paths = layout(config);
  return { pid: paths.pidFile(DASHBOARD), log: paths.logFile(DASHBOARD), args: path.join(paths.run, 'dashboard.json') };
}

/** The command line a detached (or supervisor-restarted) dashboard runs with. */
export function detachedCommand(a: DashboardArgs): string[] {
  return [path.join(repoRoot(), 'bin', 'gridflow'), DASHBOARD, '--host', a.host, '--port', String(a.port), '--name', a.pipelines.join(',')];
}

function urlOf(a: DashboardArgs): string {
  const host = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host.includes(':') ? `[${a.host}]` : a.host;
  return `http://${host}:${a.port}`;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Start the detached dashboard unless one of ours runs with the same arguments; wait until it answers.
 * The stack's supervisor restarts it while its pid file exists.
 */
export async function ensureDetachedDashboard(out: Out, a: DashboardArgs): Promise<{ pid: number; url: string }> {
  const config = loadConfig();
  const f = dashboardFiles(config);
  const url = urlOf(a);
  const running = readPid(f.pid);
  if (isAlive(running)) {
    const same = fs.existsSync(f.args) && fs.readFileSync(f.args, 'utf8').trim() === JSON.stringify(a);
    if (same && (await answers(url))) {
      out.progress(`dashboard already running (pid ${running}) at ${url}`);
      return { pid: running!, url };
    }
    out.progress(`restarting the dashboard (pid ${running}) ${same ? 'that does not answer' : 'with new options'}`);
    fs.rmSync(f.pid, { force: true });
    await stopProcess(running!, 10_000);
  }
  fs.mkdirSync(path.dirname(f.args), { recursive: true });
  fs.writeFileSync(f.args, `${JSON.stringify(a)}\n`);
  const pid = startDetached({ command: process.execPath, args: detachedCommand(a), logFile: f.log, pidFile: f.pid });
  out.progress(`dashboard starting (pid ${pid}), log ${f.log}`);
  for (let i = 0; i < 60; i++) {
    if (!isAlive(pid)) throw new Error(`the dashboard exited during start; see ${f.log}`);
    if (await answers(url)) return { pid, url };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the dashboard did not answer at ${url} within 30 s; see ${f.log}`);
}

/** The detached dashboard's arguments as saved at its start (for the supervisor's restart). */
export function savedDashboardArgs(config: Pick<GridflowConfig, 'home'>): DashboardArgs | null {
  try {
    return JSON.parse(fs.readFileSync(dashboardFiles(config).args, 'utf8')) as DashboardArgs;
  } catch {
    return null;
  }
}

export async function dashboardCommand(args: ParsedArgs, out: Out): Promise<number> {
  if (args.flags.help) {
    out.text(DASHBOARD_HELP);
    return 0;
  }
  // Options first: a misspelt one (--prot 9000) must be named, not its value taken for a command.
  allowFlags(args, ['json', 'host', 'port', 'name']);
  const sub = args.positionals[1];
  if (args.positionals.length > 2) throw new UsageError(`unexpected argument ${args.positionals[2]}\n\n${DASHBOARD_HELP}`);
  const config = loadConfig();
  switch (sub) {
    case undefined: {
      allowFlags(args, ['json', 'host', 'port', 'name']);
      const a = dashboardArgs(args, config);
      let running;
      try {
        running = await runDashboard(config, { ...a, progress: (m) => out.progress(m) });
      } catch (err) {
        if (err instanceof DashboardAddressInUse) {
          process.stderr.write(`gridflow: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
      out.result({ url: running.url, pipelines: a.pipelines }, `dashboard at ${running.url}/ (pipeline page ${running.url}/pipeline); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      out.progress('dashboard stopping');
      await running.close();
      return 0;
    }
    case 'start': {
      allowFlags(args, ['json', 'host', 'port', 'name']);
      const { pid, url } = await ensureDetachedDashboard(out, dashboardArgs(args, config));
      out.result({ pid, url }, `dashboard at ${url}/ (pid ${pid}); the stack's supervisor restarts it if it exits`);
      return 0;
    }
    case 'stop': {
      allowFlags(args, ['json']);
      const f = dashboardFiles(config);
      const pid = readPid(f.pid);
      // The pid file goes first: while it exists, the stack's supervisor restarts a dashboard that exits.
      fs.rmSync(f.pid, { force: true });
      const outcome = pid ? await stopProcess(pid, 10_000) : 'not-running';
      out.result({ outcome }, outcome === 'not-running' ? 'no detached dashboard was running' : `dashboard ${outcome} (pid ${pid})`);
      return 0;
    }
    case 'status': {
      allowFlags(args, ['json']);
      const f = dashboardFiles(config);
      const pid = readPid(f.pid);
      const saved = savedDashboardArgs(config);
      const url = saved ? urlOf(saved) : urlOf({ host: '127.0.0.1', port: config.stack.ports.dashboard, pipelines: [] });
      const ok = await answers(url);
      out.result(
        { url, answering: ok, detachedPid: isAlive(pid) ? pid : null },
        ok ? `dashboard answering at ${url}/${isAlive(pid) ? ` (pid ${pid})` : ''}` : `no dashboard answers at ${url}${isAlive(pid) ? ` (pid ${pid} runs but does not answer; log ${f.log})` : ''}`,
      );
      return ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown dashboard command ${sub}\n\n${DASHBOARD_HELP}`);
  }
}
