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
import { isProcessAlive, readPid, startDetached, stopProcess } from '../stack/process';
import { ParsedArgs, UsageError, Values, bind, defineCommand } from './args';
import { Out } from './output';

export const DASHBOARD_COMMAND = defineCommand({
  name: 'dashboard',
  title: "the grid's live page (实时大屏) and the pipeline's page",
  options: {
    host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'address to listen on' },
    port: {
      type: 'integer',
      value: 'N',
      min: 1,
      max: 65535,
      kind: 'a port number',
      defaultText: '8090, or GRIDFLOW_DASHBOARD_PORT; shifted by GRIDFLOW_PORT_OFFSET like every port',
      description: 'port',
    },
    name: { type: 'string', value: 'P[,Q]', defaultText: 'sgcc', description: 'pipeline(s) to show' },
  },
  subcommands: [
    { name: '', summary: 'run in the foreground (Ctrl-C stops it)', options: ['host', 'port', 'name'] },
    {
      name: 'start',
      summary: 'run detached, supervised with the stack; log in <GRIDFLOW_HOME>/logs/dashboard.log',
      options: ['host', 'port', 'name'],
    },
    { name: 'stop', summary: 'stop the detached dashboard', options: [] },
    { name: 'status', summary: 'is it answering, and where?', options: [] },
  ],
  notes: `Pages: / (the grid) and /pipeline, a JSON API and /metrics.
It reads the sink as the read-only connection sink_reader (the local stack defines it; elsewhere set
GRIDFLOW_PG_SINK_READER, or GRIDFLOW_DASHBOARD_SINK_CONNECTION to use another name) and the pipeline's
state through Temporal. Pages, API and options: docs/DASHBOARD.md.`,
  examples: ['gridflow dashboard start', 'gridflow dashboard start --host 0.0.0.0 --port 8100 --name sgcc,other'],
});

const DASHBOARD = 'dashboard';

interface DashboardArgs {
  host: string;
  port: number;
  pipelines: string[];
}

type DashboardValues = Pick<Values<(typeof DASHBOARD_COMMAND)['options']>, 'host' | 'port' | 'name'>;

/** --host/--port/--name (port already in range: bind) → what to serve; a bad host or name is a usage error naming it. */
export function dashboardArgs(values: DashboardValues, config: GridflowConfig): DashboardArgs {
  const { host } = values;
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) throw new UsageError(`--host must be a host name or address, got ${JSON.stringify(host)}`);
  const port = values.port ?? config.stack.ports.dashboard;
  const names = values.name !== undefined ? values.name.split(',').map((n) => n.trim()) : ['sgcc'];
  for (const n of names) if (!IDENTIFIER.test(n)) throw new UsageError(`--name: ${JSON.stringify(n)} is not a pipeline name (lower-case identifier)`);
  return { host, port, pipelines: [...new Set(names)] };
}

function dashboardFiles(config: Pick<GridflowConfig, 'home'>) {
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
  if (isProcessAlive(running)) {
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
    if (!isProcessAlive(pid)) throw new Error(`the dashboard exited during start; see ${f.log}`);
    if (await answers(url)) return { pid, url };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the dashboard did not answer at ${url} within 30 s; see ${f.log}`);
}

/** The detached dashboard's arguments as saved at its start (for the supervisor's restart). */
function savedDashboardArgs(config: Pick<GridflowConfig, 'home'>): DashboardArgs | null {
  try {
    return JSON.parse(fs.readFileSync(dashboardFiles(config).args, 'utf8')) as DashboardArgs;
  } catch {
    return null;
  }
}

export async function dashboardCommand(args: ParsedArgs, out: Out): Promise<number> {
  // Options first (bind): a misspelt one (--prot 9000) is named, not its value taken for a command.
  const call = bind(DASHBOARD_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const config = loadConfig();
  switch (call.sub) {
    case '': {
      const a = dashboardArgs(call.values, config);
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
      const { pid, url } = await ensureDetachedDashboard(out, dashboardArgs(call.values, config));
      out.result({ pid, url }, `dashboard at ${url}/ (pid ${pid}); the stack's supervisor restarts it if it exits`);
      return 0;
    }
    case 'stop': {
      const f = dashboardFiles(config);
      const pid = readPid(f.pid);
      // The pid file goes first: while it exists, the stack's supervisor restarts a dashboard that exits.
      fs.rmSync(f.pid, { force: true });
      const outcome = pid ? await stopProcess(pid, 10_000) : 'not-running';
      out.result({ outcome }, outcome === 'not-running' ? 'no detached dashboard was running' : `dashboard ${outcome} (pid ${pid})`);
      return 0;
    }
    case 'status': {
      const f = dashboardFiles(config);
      const pid = readPid(f.pid);
      const saved = savedDashboardArgs(config);
      const url = saved ? urlOf(saved) : urlOf({ host: '127.0.0.1', port: config.stack.ports.dashboard, pipelines: [] });
      const ok = await answers(url);
      out.result(
        { url, answering: ok, detachedPid: isProcessAlive(pid) ? pid : null },
        ok ? `dashboard answering at ${url}/${isProcessAlive(pid) ? ` (pid ${pid})` : ''}` : `no dashboard answers at ${url}${isProcessAlive(pid) ? ` (pid ${pid} runs but does not answer; log ${f.log})` : ''}`,
      );
      return ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown dashboard command ${call.sub}`);
  }
}
