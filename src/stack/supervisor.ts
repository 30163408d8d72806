/**
 * The local stack's supervisor: one detached process (`gridflow stack supervise`, started by
 * `gridflow stack up`, stopped first by `gridflow stack down`) that keeps every component alive. Every
 * two seconds it looks at each component's process; one that exited is started again (the same
 * bringUp as `stack up`: start, then wait until healthy) after a backoff, its restarts counted in
 * run/supervisor.json and logged to logs/supervisor.log. One that keeps dying is reported with the tail
 * of its log and left down (src/core/supervise.ts decides). The detached worker (`gridflow worker
 * start`) is watched the same way while its pid file exists (`worker stop` removes it), and so is the
 * detached dashboard (`gridflow dashboard start` / `stop`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../config';
import { emptyRecord, onExit, onRestarted } from '../core/supervise';
import { StackContext } from './component';
import { dashboardArgsFile } from './detached';
import { bringUp, components, failureReport } from './manager';
import { safeCheck } from './health';
import { isProcessAlive, readPid, startDetached } from './process';
import { readSupervision, writeSupervision } from './supervision';

const TICK_MS = 2000;

interface Watched {
  name: string;
  processAlive(): boolean;
  /**
   * Start again and wait until it serves; throws when it does not. 'stale': its address still answers
   * for the dead process (the JobManager lists a killed TaskManager until its heartbeat times out), so
   * starting another now would make two — try again shortly.
   */
  restart(): Promise<'restarted' | 'stale'>;
  /** The sentence and log tail reported when it keeps dying. */
  report(why: string): string;
}

function watched(ctx: StackContext): Watched[] {
  const list: Watched[] = components(ctx).map((c) => ({
    name: c.name,
    processAlive: () => isProcessAlive(c.pid(ctx)),
    restart: async () => {
      if ((await safeCheck(() => c.health(ctx))).ok) return 'stale';
      // The check can race the registry: the dead process's registration (a Fluss tablet server's
      // ZooKeeper session) may answer again by the time bringUp asks. Then nothing was started.
      if ((await bringUp(ctx, c)) === 'running' && !isProcessAlive(c.pid(ctx))) return 'stale';
      return 'restarted';
    },
    report: (why) => failureReport(ctx, c, why),
  }));
  const workerPid = ctx.layout.pidFile('worker');
  if (fs.existsSync(workerPid)) {
    list.push({
      name: 'worker',
      processAlive: () => isProcessAlive(readPid(workerPid)),
      restart: async () => {
        startDetached({ command: process.execPath, args: [path.join(repoRoot(), 'bin', 'gridflow'), 'worker'], logFile: ctx.layout.logFile('worker'), pidFile: workerPid });
        await new Promise((r) => setTimeout(r, 3000));
        if (!isProcessAlive(readPid(workerPid))) throw new Error('the worker exited right after its start');
        return 'restarted' as const;
      },
      report: (why) => `worker ${why} (log ${ctx.layout.logFile('worker')})`,
    });
  }
  const dashboardPid = ctx.layout.pidFile('dashboard');
  const dashboardArgs = dashboardArgsFile(ctx.layout);
  if (fs.existsSync(dashboardPid) && fs.existsSync(dashboardArgs)) {
    // Started by `gridflow dashboard start`, which kept its arguments beside the pid file.
    list.push({
      name: 'dashboard',
      processAlive: () => isProcessAlive(readPid(dashboardPid)),
      restart: async () => {
        const a = JSON.parse(fs.readFileSync(dashboardArgs, 'utf8')) as { host: string; port: number; pipelines: string[] };
        const args = [path.join(repoRoot(), 'bin', 'gridflow'), 'dashboard', '--host', a.host, '--port', String(a.port), '--name', a.pipelines.join(',')];
        startDetached({ command: process.execPath, args, logFile: ctx.layout.logFile('dashboard'), pidFile: dashboardPid });
        await new Promise((r) => setTimeout(r, 3000));
        if (!isProcessAlive(readPid(dashboardPid))) throw new Error('the dashboard exited right after its start');
        return 'restarted' as const;
      },
      report: (why) => `dashboard ${why} (log ${ctx.layout.logFile('dashboard')})`,
    });
  }
  return list;
}

/** Run the supervision loop until SIGTERM/SIGINT. */
export async function runSupervisor(ctx: StackContext, log: (line: string) => void): Promise<void> {
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log(`supervising the stack in ${ctx.layout.home} (pid ${process.pid})`);
  const restarting = new Set<string>();
  const stale = new Set<string>();
  while (!stopping) {
    const state = readSupervision(ctx);
    for (const w of watched(ctx)) {
      if (stopping || restarting.has(w.name)) continue;
      const rec = state[w.name] ?? emptyRecord();
      if (rec.gaveUp || w.processAlive()) continue;
      const now = Date.now();
      if (rec.restartDueAt === undefined) {
        const { decision, record } = onExit(rec, now);
        state[w.name] = record;
        writeSupervision(ctx, state);
        if (decision.action === 'give-up') {
          log(w.report(decision.reason));
          continue;
        }
        log(`${w.name} is not running; restarting in ${decision.delayMs / 1000} s`);
        continue;
      }
      if (now < rec.restartDueAt) continue;
      // Due: restart in the background so that other components are still watched meanwhile.
      restarting.add(w.name);
      void w
        .restart()
        .then(
          (outcome) => {
            const s = readSupervision(ctx);
            if (outcome === 'stale') {
              s[w.name] = { ...(s[w.name] ?? rec), restartDueAt: Date.now() + TICK_MS };
              writeSupervision(ctx, s);
              if (!stale.has(w.name)) log(`${w.name}: its address still answers for the dead process (registration not yet expired); starting it once that ends`);
              stale.add(w.name);
              return;
            }
            stale.delete(w.name);
            s[w.name] = onRestarted(s[w.name] ?? rec, Date.now());
            writeSupervision(ctx, s);
            log(`${w.name} restarted and healthy (restart ${s[w.name].restarts})`);
          },
          (err: unknown) => {
            // Counts as another exit: the next round decides on a longer backoff, or gives up.
            const s = readSupervision(ctx);
            s[w.name] = { ...(s[w.name] ?? rec), restartDueAt: undefined };
            writeSupervision(ctx, s);
            log(`${w.name} did not come back: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
          },
        )
        .finally(() => restarting.delete(w.name));
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  log('supervisor stopping');
}
