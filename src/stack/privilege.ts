/**
 * Least privilege on the local stack. Started as root (as the README allows), the JVMs (ZooKeeper,
 * Fluss, Flink, the SQL Gateway) and Temporal run as an unprivileged system user — `gridflow`, or
 * GRIDFLOW_STACK_USER — and Postgres as `postgres` (components/postgres.ts): whoever reaches the Flink
 * REST API or the SQL Gateway runs code as that user, not as root. Started as anyone else, everything
 * runs as that user and nothing here applies.
 *
 * The unprivileged user owns what the components write (their data folders, the logs, the JVM temp
 * folder) and reads the artifacts through hard links under <home>/runtime: the download cache usually
 * sits in root's home, which no one else may enter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PrerequisiteError } from './fetch';
import { run } from './process';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The user the stack's components run as, created when missing; undefined when not root. */
export function serviceUser(env: NodeJS.ProcessEnv = process.env): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = env.GRIDFLOW_STACK_USER || 'gridflow';
  if (!USER_NAME.test(name)) throw new PrerequisiteError(`GRIDFLOW_STACK_USER=${name} is not a user name (lower-case letters, digits, _ or -)`);
  if (name === 'root') throw new PrerequisiteError('GRIDFLOW_STACK_USER=root: the stack does not run its components as root; name an unprivileged user');
  const lookup = () => {
    try {
      return { uid: Number(run('id', ['-u', name]).trim()), gid: Number(run('id', ['-g', name]).trim()) };
    } catch {
      return undefined;
    }
  };
  let ids = lookup();
  if (!ids) {
    try {
      run('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
    } catch (err) {
      throw new PrerequisiteError(
        `the stack runs its components as the unprivileged user ${name}, which does not exist and could not be created ` +
          `(${err instanceof Error ? err.message.split('\n')[0] : String(err)}): create it with useradd --system ${name}, or set GRIDFLOW_STACK_USER`,
      );
    }
    ids = lookup();
    if (!ids) throw new PrerequisiteError(`useradd created ${name}, but id -u ${name} does not find it`);
  }
  if (ids.uid === 0) throw new PrerequisiteError(`GRIDFLOW_STACK_USER=${name} has uid 0; name an unprivileged user`);
  return { name, ...ids };
}

/** Give `dirs` (created if missing) and everything in them to `user`. */
export function handOver(dirs: string[], user: ServiceUser | undefined): void {
  if (!user) return;
  for (const dir of dirs) {
    fs.mkdirSync(dir, { recursive: true });
    run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  }
}

/**
 * `file` (under `cacheDir`) as a path the service user can read: a hard link under `runtimeDir`
 * (a copy when the two are on different file systems). Idempotent; the cache's own layout is kept,
 * so keyed folders never collide.
 */
export function runtimePath(file: string, cacheDir: string, runtimeDir: string): string {
  const rel = path.relative(cacheDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return file; // not in the cache (e.g. GRIDFLOW_PG_BIN): used as it is
  const target = path.join(runtimeDir, rel);
  const source = fs.statSync(file);
  try {
    const existing = fs.statSync(target);
    if (existing.ino === source.ino || (existing.size === source.size && existing.mtimeMs >= source.mtimeMs)) return target;
    fs.rmSync(target, { force: true });
  } catch {
    /* not there yet */
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.linkSync(file, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    fs.copyFileSync(file, target);
    fs.chmodSync(target, source.mode & 0o777);
  }
  return target;
}

/**
 * `owner` must be able to reach `dir`: every folder above it needs search permission for that user
 * (probed as that user). Folders inside the stack folder are fixed (mkdtemp makes them 0700); anything
 * above it is the operator's to change, so that is reported with the folder named.
 */
export function ensureReachable(dir: string, owner: { uid?: number; gid?: number; name?: string }, stackRoot: string): void {
  if (owner.uid === undefined) return;
  const who = owner.name ?? `uid ${owner.uid}`;
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const ancestor = `/${parts.slice(0, i).join('/')}`;
    if (!fs.existsSync(ancestor)) break;
    const probe = spawnSync('sh', ['-c', 'cd "$1"', 'sh', ancestor], { uid: owner.uid, gid: owner.gid });
    if (probe.status === 0) continue;
    if (ancestor === stackRoot || ancestor.startsWith(`${stackRoot}${path.sep}`)) {
      fs.chmodSync(ancestor, fs.statSync(ancestor).mode | 0o011);
      continue;
    }
    throw new PrerequisiteError(
      `the ${who} user cannot reach ${ancestor} (mode ${(fs.statSync(ancestor).mode & 0o777).toString(8)}), so it cannot use ${dir}: ` +
        `set GRIDFLOW_HOME to a folder it can reach (e.g. /var/lib/gridflow) or run chmod o+x ${ancestor}`,
    );
  }
}

/** The environment of a process run as `user`: its own HOME (a folder it owns) and name, not root's. */
export function userEnv(env: NodeJS.ProcessEnv, user: ServiceUser | undefined, homeDir: string): NodeJS.ProcessEnv {
  if (!user) return env;
  const { XDG_CONFIG_HOME: _c, XDG_CACHE_HOME: _h, XDG_DATA_HOME: _d, ...rest } = env;
  handOver([homeDir], user);
  return { ...rest, HOME: homeDir, USER: user.name, LOGNAME: user.name };
}
