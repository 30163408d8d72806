/** Detached child processes with pid files: how the local stack runs without a container engine. */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface DetachedSpec {
  command: string;
  args: string[];
  /** stdout and stderr are appended here (JVM crash output, Go panics). */
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** Start a process that outlives this one; record its pid. Returns the pid. */
export function startDetached(spec: DetachedSpec): number {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(path.dirname(spec.pidFile), { recursive: true });
  const out = fs.openSync(spec.logFile, 'a');
  fs.writeSync(out, `\n==== ${new Date().toISOString()} gridflow starts: ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: spec.env ?? process.env,
    cwd: spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  child.unref();
  fs.writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child.pid;
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0].trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0; it is not running.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Stop a process group gently: SIGTERM, wait, then SIGKILL. Detached children lead their own group,
 * so the JVM and anything it forked stop together.
 */
export async function stopProcess(
  pid: number,
  graceMs = 20_000,
  gentle: NodeJS.Signals = 'SIGTERM',
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isProcessAlive(pid)) return 'not-running';
  signal(pid, gentle);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return 'stopped';
    await sleep(200);
  }
  signal(pid, 'SIGKILL');
  for (let i = 0; i < 50 && isProcessAlive(pid); i++) await sleep(100);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** The last `lines` lines of a file (for failure reports and `stack logs`). */
export function tailFile(file: string, lines = 40): string {
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    const length = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    fs.closeSync(fd);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return `(no log at ${file})`;
  }
}

/** Run a command to completion; throw with its output when it fails. */
export function run(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; input?: string; timeoutMs?: number } = {},
): string {
  const result = spawnSync(command, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${output}`);
  }
  return result.stdout;
}

/** Resident set size of a process and its descendants, in bytes (from /proc). */
/** Resident memory of one process alone (the supervisor: its children are the components, counted on their own rows). */
export function processRss(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[21]) * 4096;
  } catch {
    return null;
  }
}

export function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const pages = Number(fields[21]);
      const p = Number(entry);
      rss.set(p, pages * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), p]);
    } catch {
      /* raced with exit */
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}
