/**
 * PostgreSQL 15 from Debian's binaries, two instances with their own data dirs: the source (OLTP,
 * wal_level=logical, room for replication slots and WAL senders) and the sink (analytics).
 * Postgres refuses to run as root; when gridflow runs as root it runs Postgres as the `postgres` user.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Component, StackContext } from '../component';
import { LOCAL_DATABASES, LOCAL_ROLES, LocalPasswords, ensureLocalPasswords } from '../credentials';
import { PrerequisiteError } from '../fetch';
import { Health, healthy, unhealthy } from '../health';
import { readPid, run, startDetached } from '../process';
import { ensureReachable } from '../privilege';
import { VERSIONS } from '../versions';

type PgInstance = 'source' | 'sink';

export function postgresBinDir(env = process.env): string {
  const dir = env.GRIDFLOW_PG_BIN ?? `/usr/lib/postgresql/${VERSIONS.postgres}/bin`;
  if (!fs.existsSync(path.join(dir, 'postgres')) || !fs.existsSync(path.join(dir, 'initdb'))) {
    throw new PrerequisiteError(
      `PostgreSQL ${VERSIONS.postgres} server binaries not found in ${dir}. Install them with: ` +
        `apt-get install -y postgresql-${VERSIONS.postgres} (or set GRIDFLOW_PG_BIN to the folder holding postgres and initdb)`,
    );
  }
  return dir;
}

/** uid/gid to run Postgres as: ourselves, or `postgres` when we are root. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  try {
    const uid = Number(run('id', ['-u', 'postgres']).trim());
    const gid = Number(run('id', ['-g', 'postgres']).trim());
    return { uid, gid };
  } catch {
    throw new PrerequisiteError(
      'gridflow runs as root and Postgres refuses to: create the postgres user with `useradd --system --create-home postgres` ' +
        `(apt-get install postgresql-${VERSIONS.postgres} creates it), or run gridflow as another user`,
    );
  }
}

/** Server settings, passed on the command line so they always match this file. */
export function serverSettings(instance: PgInstance, host: string, port: number): string[] {
  const common: Record<string, string> = {
    listen_addresses: host,
    port: String(port),
    // TCP only: no socket folder to own or clean up; every client uses host + password.
    unix_socket_directories: '',
    shared_buffers: '128MB',
    max_connections: '100',
    logging_collector: 'off',
    log_line_prefix: '%m [%p] %q%u@%d ',
  };
  const source: Record<string, string> = {
    wal_level: 'logical',
    // One slot and one WAL sender per captured table, per pipeline, plus room for snapshots.
    max_replication_slots: '20',
    max_wal_senders: '20',
    // A slot that is never read (a stopped pipeline) must not fill the disk: past this it is lost,
    // which the verification workflow reports (wal_status = lost), instead of Postgres stopping.
    max_slot_wal_keep_size: '4GB',
  };
  const settings = instance === 'source' ? { ...common, ...source } : common;
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

async function withClient<T>(
  ctx: StackContext,
  instance: PgInstance,
  database: string,
  passwords: LocalPasswords,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const { host, ports } = ctx.config.stack;
  const client = new Client({
    host,
    port: instance === 'source' ? ports.postgresSource : ports.postgresSink,
    user: LOCAL_ROLES.admin,
    password: passwords.admin,
    database,
    connectionTimeoutMillis: 3000,
    statement_timeout: 10_000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The dashboard's read-only role on the sink: it may connect to the sink database and read what the
 * sink role (gridflow_writer, which creates every schema and table there) has made or will make — by
 * default privileges, since a pipeline's schema appears only at its deploy — and nothing else. Its
 * sessions are read-only as well, so a grant added by mistake later still writes nothing.
 */
async function grantReader(ctx: StackContext, db: string, passwords: LocalPasswords): Promise<void> {
  const { reader, writer } = LOCAL_ROLES;
  await withClient(ctx, 'sink', 'postgres', passwords, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [reader]);
    await client.query(`${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${reader} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${client.escapeLiteral(passwords.reader)}`);
    await client.query(`ALTER ROLE ${reader} SET default_transaction_read_only = on`);
  });
  await withClient(ctx, 'sink', db, passwords, async (client) => {
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${reader}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${writer} GRANT USAGE ON SCHEMAS TO ${reader}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${writer} GRANT SELECT ON TABLES TO ${reader}`);
    // Schemas made before this role existed (a stack from an earlier gridflow).
    const schemas = await client.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = $1`,
      [writer],
    );
    for (const { nspname } of schemas.rows) {
      const schema = client.escapeIdentifier(nspname);
      await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${reader}`);
      await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${reader}`);
    }
  });
}

export function postgresComponent(instance: PgInstance, ctx0: { host: string; port: number; home: string }): Component {
  const name = `postgres-${instance}`;
  const dataDir = (ctx: StackContext) => ctx.layout.postgres(instance);
  return {
    name,
    address: `${ctx0.host}:${ctx0.port}`,
    logFile: path.join(ctx0.home, 'logs', `${name}.log`),
    stopSignal: 'SIGINT', // fast shutdown: CDC connections would hold a smart (SIGTERM) shutdown forever
    dataDirs: [path.join(ctx0.home, 'postgres', instance)],
    // We exec postgres itself, so the spawned pid is the postmaster; postmaster.pid covers a server
    // started by an earlier gridflow whose run/ folder was removed.
    pid: (ctx) => readPid(ctx.layout.pidFile(name)) ?? readPid(path.join(dataDir(ctx), 'postmaster.pid')),

    async start(ctx) {
      const bin = postgresBinDir();
      const dir = dataDir(ctx);
      const owner = runAs();
      const passwords = ensureLocalPasswords(ctx.config, ctx.layout);
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      ensureReachable(path.dirname(dir), { ...owner, name: 'postgres' }, ctx.config.home);
      if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
        ctx.progress(`${name}: initdb ${dir}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.chmodSync(dir, 0o700);
        const pwfile = path.join(os.tmpdir(), `gridflow-pw-${process.pid}-${instance}`);
        fs.writeFileSync(pwfile, `${passwords.admin}\n`, { mode: 0o600 });
        try {
          if (owner.uid !== undefined) {
            fs.chownSync(dir, owner.uid, owner.gid!);
            fs.chownSync(pwfile, owner.uid, owner.gid!);
          }
          run(
            path.join(bin, 'initdb'),
            ['-D', dir, '-U', LOCAL_ROLES.admin, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8'],
            { ...owner, env: { ...process.env, LC_ALL: 'C.UTF-8' } },
          );
        } finally {
          fs.rmSync(pwfile, { force: true });
        }
      }
      // A stale postmaster.pid (after a crash or kill -9) is handled by postgres itself.
      startDetached({
        command: path.join(bin, 'postgres'),
        args: ['-D', dir, ...serverSettings(instance, ctx.config.stack.host, instance === 'source' ? ctx.config.stack.ports.postgresSource : ctx.config.stack.ports.postgresSink)],
        logFile: ctx.layout.logFile(name),
        pidFile: ctx.layout.pidFile(name),
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
        ...owner,
      });
    },

    async health(ctx): Promise<Health> {
      const passwords = ensureLocalPasswords(ctx.config, ctx.layout);
      return withClient(ctx, instance, 'postgres', passwords, async (client) => {
        const res = await client.query<{ wal_level: string; version: string }>(
          "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version') AS version",
        );
        const { wal_level: walLevel, version } = res.rows[0];
        if (instance === 'source' && walLevel !== 'logical') {
          return unhealthy(`wal_level is ${walLevel}, CDC needs logical`);
        }
        return healthy(`PostgreSQL ${version}, wal_level=${walLevel}`);
      });
    },

    async afterHealthy(ctx) {
      const passwords = ensureLocalPasswords(ctx.config, ctx.layout);
      const db = LOCAL_DATABASES[instance];
      await withClient(ctx, instance, 'postgres', passwords, async (client) => {
        const lit = (s: string) => client.escapeLiteral(s);
        const role = instance === 'source' ? LOCAL_ROLES.cdc : LOCAL_ROLES.writer;
        const password = instance === 'source' ? passwords.cdc : passwords.writer;
        const attrs = instance === 'source' ? 'LOGIN REPLICATION' : 'LOGIN';
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
        // ALTER keeps the role's password equal to connections.env even if someone changed it.
        await client.query(`${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} ${attrs} PASSWORD ${lit(password)}`);
        const hasDb = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
        if (!hasDb.rowCount) {
          const owner = instance === 'sink' ? ` OWNER ${LOCAL_ROLES.writer}` : '';
          await client.query(`CREATE DATABASE ${db}${owner}`);
        }
      });
      if (instance === 'sink') await grantReader(ctx, db, passwords);
      if (instance === 'source') {
        await withClient(ctx, instance, db, passwords, async (client) => {
          await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${LOCAL_ROLES.cdc}`);
          await client.query(`GRANT USAGE ON SCHEMA public TO ${LOCAL_ROLES.cdc}`);
          await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${LOCAL_ROLES.cdc}`);
          await client.query(
            `ALTER DEFAULT PRIVILEGES FOR ROLE ${LOCAL_ROLES.admin} IN SCHEMA public GRANT SELECT ON TABLES TO ${LOCAL_ROLES.cdc}`,
          );
        });
      }
    },
  };
}
