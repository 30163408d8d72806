/** `gridflow worker`: run the worker in the foreground, or detached with its log in the stack folder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, repoRoot } from '../config';
import { layout } from '../stack/layout';
import { isProcessAlive, readPid, startDetached, stopProcess } from '../stack/process';
import { runWorker } from '../worker';
import { ParsedArgs, UsageError, bind, defineCommand } from './args';
import { temporalClient, workerPollers } from './common';
import { Out } from './output';

export const WORKER_COMMAND = defineCommand({
  name: 'worker',
  title: 'runs gridflow\'s workflows and activities (task queue "gridflow")',
  options: {},
  subcommands: [
    { name: '', summary: 'run in the foreground (Ctrl-C stops it after in-flight work)', options: [] },
    { name: 'start', summary: 'run detached; log in <GRIDFLOW_HOME>/logs/worker.log', options: [] },
    { name: 'stop', summary: 'stop the detached worker', options: [] },
    { name: 'status', summary: 'is a worker polling the task queue?', options: [] },
  ],
});

function files() {
  const paths = layout(loadConfig());
  return { pid: paths.pidFile('worker'), log: paths.logFile('worker'), build: path.join(paths.run, 'worker.build') };
}

/** Identifies the compiled code a worker runs (the compiled worker's modification time). */
function buildId(): string {
  try {
    return String(fs.statSync(require.resolve('../worker')).mtimeMs);
  } catch {
    return 'unknown';
  }
}

function readBuild(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Start a detached worker unless one of ours runs; wait until it polls. Returns its pid. */
export async function ensureDetachedWorker(out: Out): Promise<number> {
  const config = loadConfig();
  const f = files();
  const running = readPid(f.pid);
  if (isProcessAlive(running)) {
    if (readBuild(f.build) === buildId()) {
      out.progress(`worker already running (pid ${running}), log ${f.log}`);
      return running!;
    }
    // Workflows continue on the new worker from their history (the replay tests guard that).
    out.progress(`the running worker (pid ${running}) has an older build of gridflow; restarting it`);
    await stopProcess(running!, 30_000);
  }
  const entry = path.join(repoRoot(), 'bin', 'gridflow');
  const pid = startDetached({ command: process.execPath, args: [entry, 'worker'], logFile: f.log, pidFile: f.pid });
  fs.writeFileSync(f.build, `${buildId()}\n`);
  out.progress(`worker starting (pid ${pid}), log ${f.log}`);
  const { client, close } = await temporalClient(config);
  try {
    for (let i = 0; i < 120; i++) {
      if (!isProcessAlive(pid)) throw new Error(`the worker exited during start; see ${f.log}`);
      if ((await workerPollers(client, config.temporal.namespace)).length) {
        out.progress('worker is polling the gridflow task queue');
        return pid;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await close();
  }
  throw new Error(`the worker did not start polling within 60 s; see ${f.log}`);
}

export async function workerCommand(args: ParsedArgs, out: Out): Promise<number> {
  const call = bind(WORKER_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  switch (call.sub) {
    case '':
      out.progress('worker running in the foreground; Ctrl-C to stop');
      await runWorker();
      return 0;
    case 'start':
      await ensureDetachedWorker(out);
      return 0;
    case 'stop': {
      const f = files();
      const pid = readPid(f.pid);
      // The pid file goes first: while it exists, the stack's supervisor restarts a worker that exits.
      fs.rmSync(f.pid, { force: true });
      const outcome = pid ? await stopProcess(pid, 30_000) : 'not-running';
      out.result({ outcome }, outcome === 'not-running' ? 'no detached worker was running' : `worker ${outcome} (pid ${pid})`);
      return 0;
    }
    case 'status': {
      const config = loadConfig();
      const { client, close } = await temporalClient(config);
      try {
        const pollers = await workerPollers(client, config.temporal.namespace);
        const pid = readPid(files().pid);
        out.result(
          { pollers, detachedPid: isProcessAlive(pid) ? pid : null },
          pollers.length ? `${pollers.length} worker(s) polling: ${pollers.join(', ')}` : 'no worker is polling the gridflow task queue',
        );
        return pollers.length ? 0 : 1;
      } finally {
        await close();
      }
    }
    default:
      throw new UsageError(`unknown worker command ${call.sub}`);
  }
}
