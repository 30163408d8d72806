/**
 * The detached worker and dashboard as the stack sees them (src/stack/detached.ts): their status words and
 * health, pid files that outlived their process, and `stack down` stopping them before the components —
 * on a stack folder of its own with `sleep` standing in for them (no component runs, nothing listens).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import { dashboardUrl, detachedPid, detachedStatus, startedBeforePidFile, stopDetachedProcesses, workerPollHealth } from '../../../src/stack/detached';
import { healthy, unhealthy } from '../../../src/stack/health';
import { createContext, stackDown } from '../../../src/stack/manager';
import { isProcessAlive, startDetached } from '../../../src/stack/process';

describe('status words', () => {
  test('running: healthy or unhealthy by its request', () => {
    expect(detachedStatus(true, true, healthy('x'))).toBe('healthy');
    expect(detachedStatus(true, true, unhealthy('x'))).toBe('unhealthy');
  });

  test('its pid file without its process is a fault (stopped); never started detached is not', () => {
    expect(detachedStatus(true, false, unhealthy('x'))).toBe('stopped');
    expect(detachedStatus(false, false, unhealthy('x'))).toBe('not started');
  });

  test('one answering that this stack did not start (a foreground gridflow worker) is external', () => {
    expect(detachedStatus(false, false, healthy('x'))).toBe('external');
  });
});

describe('the worker polls as <pid>@<host>', () => {
  const where = '127.0.0.1:7233';
  test('ours polls: healthy, naming it', () => {
    expect(workerPollHealth(['77@box', '12@other'], 77, 'box', where)).toEqual(healthy('polling task queue gridflow at 127.0.0.1:7233 as 77@box'));
  });
  test('ours runs but does not poll (another host, or not connected yet)', () => {
    const h = workerPollHealth(['77@other'], 77, 'box', where);
    expect(h.ok).toBe(false);
    expect(h.detail).toMatch(/not polling .*pollers: 77@other/);
  });
  test('none of ours: any poller is someone else’s worker', () => {
    expect(workerPollHealth(['9@box'], undefined, 'box', where).detail).toMatch(/none started by this stack, but 1 worker\(s\) poll/);
    expect(workerPollHealth([], undefined, 'box', where).ok).toBe(false);
  });
});

test('the dashboard URL from its saved --host/--port', () => {
  expect(dashboardUrl(null, 8090)).toBe('http://127.0.0.1:8090');
  expect(dashboardUrl({ host: '0.0.0.0', port: 9000 }, 8090)).toBe('http://127.0.0.1:9000');
  expect(dashboardUrl({ host: '::1', port: 9000 }, 8090)).toBe('http://[::1]:9000');
});

describe('pid files that outlived their process', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-detached-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('a process started after its pid file was written is another one', () => {
    expect(startedBeforePidFile(1000, 1500)).toBe(true);
    expect(startedBeforePidFile(1000 + 60_000, 1500)).toBe(false);
    expect(startedBeforePidFile(2500, 1500)).toBe(true); // within the boot time's resolution
  });

  test('a pid file naming a live process that started later is stale, and reported so', () => {
    const pidFile = path.join(tmp, 'worker.pid');
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    expect(detachedPid({ pidFile })).toEqual({ pid: process.pid });
    // Written (by its mtime) an hour before this process started: the pid has been reused.
    const anHourBefore = new Date(Date.now() - process.uptime() * 1000 - 3600_000);
    fs.utimesSync(pidFile, anHourBefore, anHourBefore);
    expect(detachedPid({ pidFile })).toEqual({ pid: undefined, stale: process.pid });
  });
});

describe('stack down stops the detached worker and dashboard', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-detached-home-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const context = (lines: string[]) => createContext(loadConfig({ GRIDFLOW_HOME: home, GRIDFLOW_PORT_OFFSET: '30000' }), (m) => lines.push(m));
  const fake = (name: string) =>
    startDetached({ command: 'sleep', args: ['300'], logFile: path.join(home, 'logs', `${name}.log`), pidFile: path.join(home, 'run', `${name}.pid`) });

  test('both stopped and their pid files gone, before any component; --purge leaves no pid file to forget them by', async () => {
    const worker = fake('worker');
    const dashboard = fake('dashboard');
    const lines: string[] = [];
    await stackDown(context(lines), { purge: true });
    expect(isProcessAlive(worker)).toBe(false);
    expect(isProcessAlive(dashboard)).toBe(false);
    expect(lines[0]).toMatch(new RegExp(`^worker +stopped \\(pid ${worker}\\)`));
    expect(lines[1]).toMatch(new RegExp(`^dashboard +stopped \\(pid ${dashboard}\\)`));
    expect(lines[2]).toMatch(/^temporal +not running/); // then the components, in reverse start order
    expect(fs.existsSync(path.join(home, 'run'))).toBe(false);
  });

  test('not started: said, nothing stopped', async () => {
    const lines: string[] = [];
    await stopDetachedProcesses(context(lines), (s) => s.padEnd(18));
    expect(lines).toEqual([expect.stringMatching(/^worker +not running$/), expect.stringMatching(/^dashboard +not running$/)]);
  });
});
