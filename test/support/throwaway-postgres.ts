/**
 * A private PostgreSQL for one test file: initdb into a temp dir, started on a free loopback port with the
 * settings the test asks for (e.g. wal_level=replica), stopped and deleted in afterAll. Runs as the
 * `postgres` OS user when we are root, like src/stack/components/postgres.ts.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { PgConnection, parseConnectionUrl } from '../../src/config';
import { postgresBinDir } from '../../src/stack/components/postgres';

export interface ThrowawayPostgres {
  /** Superuser connection to its `postgres` database. */
  admin: PgConnection;
  port: number;
  stop(): Promise<void>;
}

function owner(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startThrowawayPostgres(settings: Record<string, string>): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  const as = owner();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  const password = randomBytes(12).toString('hex');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (as.uid !== undefined) {
    fs.chownSync(dir, as.uid, as.gid!);
    fs.chownSync(pwfile, as.uid, as.gid!);
  }
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  const init = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'gf_admin', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8'],
    { ...as, env, cwd: dir, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const args = ['-D', data, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${port}`, '-c', 'unix_socket_directories=', '-c', 'logging_collector=off'];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const log = fs.openSync(path.join(dir, 'postgres.log'), 'a');
  const child: ChildProcess = spawn(path.join(bin, 'postgres'), args, { ...as, env, cwd: dir, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const admin = parseConnectionUrl('throwaway', `postgres://gf_admin:${password}@127.0.0.1:${port}/postgres`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new Client({ host: admin.host, port, user: admin.user, password, database: 'postgres', connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        const text = fs.readFileSync(path.join(dir, 'postgres.log'), 'utf8');
        child.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`throwaway postgres did not start: ${String(err)}\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    admin,
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT'); // fast shutdown
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
