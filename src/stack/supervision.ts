/**
 * The supervisor's pid file and its state file (run/supervisor.json), and starting and stopping the
 * detached supervisor: what `stack up`, `stack down` and `stack status` (manager.ts) need of it. The
 * supervision loop itself, which brings components up again through manager.ts, is in supervisor.ts;
 * keeping these apart means manager.ts and supervisor.ts do not import each other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../config';
import { SupervisedRecord } from '../core/supervise';
import { StackContext } from './component';
import { isProcessAlive, readPid, startDetached, stopProcess } from './process';

const SUPERVISOR = 'supervisor';

type SupervisionState = Record<string, SupervisedRecord>;

function supervisionFile(ctx: StackContext): string {
  return path.join(ctx.layout.run, 'supervisor.json');
}

export function readSupervision(ctx: StackContext): SupervisionState {
  try {
    return JSON.parse(fs.readFileSync(supervisionFile(ctx), 'utf8')) as SupervisionState;
  } catch {
    return {};
  }
}

export function writeSupervision(ctx: StackContext, state: SupervisionState): void {
  fs.mkdirSync(ctx.layout.run, { recursive: true });
  const tmp = `${supervisionFile(ctx)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, supervisionFile(ctx));
}

/** The supervisor's pid, if it runs. */
export function supervisorPid(ctx: StackContext): number | undefined {
  const pid = readPid(ctx.layout.pidFile(SUPERVISOR));
  return isProcessAlive(pid) ? pid : undefined;
}

/** Start the detached supervisor unless it runs. Forgets earlier give-ups: `stack up` is the operator saying "try again". */
export function ensureSupervisor(ctx: StackContext): number {
  const running = supervisorPid(ctx);
  const state = readSupervision(ctx);
  for (const name of Object.keys(state)) if (state[name].gaveUp) state[name] = { ...state[name], gaveUp: undefined, recentExits: [] };
  writeSupervision(ctx, state);
  if (running) return running;
  const pid = startDetached({
    command: process.execPath,
    args: [path.join(repoRoot(), 'bin', 'gridflow'), 'stack', 'supervise'],
    logFile: ctx.layout.logFile(SUPERVISOR),
    pidFile: ctx.layout.pidFile(SUPERVISOR),
  });
  ctx.progress(`supervisor          started (pid ${pid}): restarts any component that exits; log ${ctx.layout.logFile(SUPERVISOR)}`);
  return pid;
}

/** Stop the supervisor (before the components, so it does not restart what is being stopped). */
export async function stopSupervisor(ctx: StackContext): Promise<void> {
  const pid = supervisorPid(ctx);
  if (pid) {
    const outcome = await stopProcess(pid, 20_000);
    ctx.progress(`supervisor          ${outcome === 'killed' ? 'killed' : 'stopped'} (pid ${pid})`);
  }
  fs.rmSync(ctx.layout.pidFile(SUPERVISOR), { force: true });
}
