/**
 * `sslmode` and `sslrootcert` in a GRIDFLOW_PG_* URL are honoured against a real PostgreSQL that only
 * accepts TLS: a throwaway server (initdb, ssl=on, `hostssl` only in pg_hba, a certificate for
 * 127.0.0.1 signed by a test CA) started for this file. verify-full and verify-ca connect and the session
 * is encrypted (pg_stat_ssl); no TLS is refused by the server; trusting another CA is refused by the
 * client before a password is sent.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConnectionUrl } from '../../src/config';
import { query, withClient } from '../../src/postgres/connection';
import { postgresBinDir } from '../../src/stack/components/postgres';
import { freePort } from '../support/net';

jest.setTimeout(120_000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-pgtls-'));
const data = path.join(root, 'data');
const file = (name: string) => path.join(root, name);
let server: ChildProcess | undefined;
let port = 0;
const PASSWORD = 'tls-test-pw-4d1c';

/** Postgres refuses to run as root: as the postgres user then (the stack does the same). */
const owner = (() => {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
})();

function must(cmd: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

const url = (q: string) => `postgres://tls_user:${PASSWORD}@127.0.0.1:${port}/postgres${q}`;
const sslInUse = (q: string) =>
  withClient(parseConnectionUrl('tls', url(q)), async (c) => (await query<{ ssl: boolean }>(c, 'ssl?', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0].ssl);

beforeAll(async () => {
  for (const ca of ['ca', 'other-ca']) {
    must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=gridflow pg test ${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`]);
  }
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  must('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  must('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  fs.chmodSync(root, 0o755);
  fs.writeFileSync(file('pw'), 'bootstrap-pw\n');
  fs.chmodSync(file('server.key'), 0o600);
  fs.mkdirSync(data, { mode: 0o700 });
  fs.mkdirSync(file('sock'), { mode: 0o700 });
  if (owner.uid !== undefined) {
    for (const f of ['server.key', 'server.pem', 'pw', 'data', 'sock']) fs.chownSync(file(f), owner.uid, owner.gid!);
  }
  const bin = postgresBinDir();
  must(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${file('pw')}`], owner);
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
  port = await freePort();
  server = spawn(
    path.join(bin, 'postgres'),
    ['-D', data, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${file('sock')}`, '-c', 'ssl=on',
      '-c', `ssl_cert_file=${file('server.pem')}`, '-c', `ssl_key_file=${file('server.key')}`],
    { ...owner, stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    const r = spawnSync(path.join(bin, 'psql'), ['-h', file('sock'), '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', `CREATE ROLE tls_user LOGIN PASSWORD '${PASSWORD}'`], { encoding: 'utf8', ...owner });
    if (r.status === 0) break;
    if (i > 100) throw new Error(`the TLS Postgres did not start: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
});

afterAll(async () => {
  server?.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 500));
  fs.rmSync(root, { recursive: true, force: true });
});

test('verify-full and verify-ca connect over TLS, checking the certificate against the CA', async () => {
  expect(await sslInUse(`?sslmode=verify-full&sslrootcert=${file('ca.pem')}`)).toBe(true);
  expect(await sslInUse(`?sslmode=verify-ca&sslrootcert=${file('ca.pem')}`)).toBe(true);
  expect(await sslInUse('?sslmode=require')).toBe(true);
});

test('without TLS the server refuses (hostssl only), and the error names the connection, not the password', async () => {
  const err = await sslInUse('').catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/no pg_hba\.conf entry .*no encryption/);
  expect((err as Error).message).not.toContain(PASSWORD);
});

test('a server certificate from another CA is refused by the client', async () => {
  const err = await sslInUse(`?sslmode=verify-full&sslrootcert=${file('other-ca.pem')}`).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/certificate|self.signed|unable to verify/i);
});
