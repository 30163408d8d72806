/**
 * Least privilege on the local stack (issue 11). Every socket the local stack listens on is bound to loopback: the Flink REST API and SQL Gateway run
 * code for whoever reaches them, Temporal and Fluss have no authentication. The test lists the listening
 * TCP and UDP sockets of every process the stack started (by its pid files; Postgres' children included)
 * — blob server, data ports, RPC and metrics ports too — and fails on any other address. And when the
 * stack was started as root, no component runs as root: the JVMs and Temporal run as the stack's user
 * (src/stack/privilege.ts), Postgres as postgres.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { layout } from '../../src/stack/layout';
import { readPid } from '../../src/stack/process';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';

jest.setTimeout(120_000);

beforeAll(async () => {
  await ensureStack();
}, STACK_UP_TIMEOUT_MS);

const LOOPBACK = /^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):\d+$/;

/** component → its pid, for every pid file of the stack whose process lives. */
function stackProcesses(): Map<number, string> {
  const run = layout(loadConfig()).run;
  const out = new Map<number, string>();
  // The supervisor (and a detached worker) are gridflow itself, not components: they listen nowhere, and
  // the supervisor keeps root's rights to start each component as its own user.
  for (const f of fs.readdirSync(run).filter((x) => x.endsWith('.pid') && x !== 'supervisor.pid' && x !== 'worker.pid')) {
    const pid = readPid(path.join(run, f));
    if (pid && fs.existsSync(`/proc/${pid}`)) out.set(pid, f.replace(/\.pid$/, ''));
  }
  return out;
}

/** Listening sockets with their owning pid (ss -l -n -p; the tests run as the stack's user or root). */
function listeners(): Array<{ proto: string; address: string; pid: number }> {
  const r = spawnSync('ss', ['-H', '-l', '-n', '-p', '-t', '-u'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ss failed: ${r.stderr}`);
  const rows: Array<{ proto: string; address: string; pid: number }> = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const cols = line.trim().split(/\s+/);
    for (const m of line.matchAll(/pid=(\d+)/g)) rows.push({ proto: cols[0], address: cols[4], pid: Number(m[1]) });
  }
  return rows;
}

/** A process and its parent chain up to a stack process (Postgres' backends, a JVM's launcher). */
function ownerOf(pid: number, stack: Map<number, string>): string | null {
  for (let p = pid, i = 0; p > 1 && i < 10; i++) {
    if (stack.has(p)) return stack.get(p)!;
    const stat = fs.existsSync(`/proc/${p}/stat`) ? fs.readFileSync(`/proc/${p}/stat`, 'utf8') : '';
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return null;
}

test('the stack listens on loopback only, every component and every port', () => {
  const stack = stackProcesses();
  expect([...stack.values()]).toEqual(expect.arrayContaining(['postgres-source', 'postgres-sink', 'zookeeper', 'flink-jobmanager', 'sql-gateway', 'fluss-coordinator', 'temporal']));
  const mine = listeners()
    .map((l) => ({ ...l, component: ownerOf(l.pid, stack) }))
    .filter((l) => l.component !== null);
  // Every component listens somewhere (so the filter above found them) ...
  for (const component of new Set(stack.values())) expect(mine.some((l) => l.component === component)).toBe(true);
  // ... and nowhere but on loopback.
  const exposed = mine.filter((l) => !LOOPBACK.test(l.address)).map((l) => `${l.component} ${l.proto} ${l.address}`);
  expect(exposed).toEqual([]);
  // More than the configured ports are checked: the JobManager's blob server and RPC, TaskManager data ports.
  expect(mine.filter((l) => l.component === 'flink-jobmanager').length).toBeGreaterThanOrEqual(3);
});

/** The real uid of a process (/proc/<pid>/status "Uid:" real, effective, saved, fs). */
function uidsOf(pid: number): number[] {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return line.split(/\s+/).slice(1, 5).map(Number);
}

test('no component of the stack runs as root, whoever started it', () => {
  const stack = stackProcesses();
  const asRoot = [...stack.entries()].filter(([pid]) => uidsOf(pid).includes(0)).map(([pid, name]) => `${name} (pid ${pid})`);
  expect(asRoot).toEqual([]);
  if (process.getuid?.() === 0) {
    // Started as root: the JVMs and Temporal run as the stack's user, Postgres as postgres.
    const userOf = (name: string) => spawnSync('id', ['-nu', String(uidsOf([...stack.entries()].find(([, n]) => n === name)![0])[0])], { encoding: 'utf8' }).stdout.trim();
    expect(userOf('flink-jobmanager')).toBe(process.env.GRIDFLOW_STACK_USER || 'gridflow');
    expect(userOf('temporal')).toBe(process.env.GRIDFLOW_STACK_USER || 'gridflow');
    expect(userOf('postgres-source')).toBe('postgres');
  }
});
