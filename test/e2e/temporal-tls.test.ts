/**
 * gridflow talks to a secured Temporal: the tests' Temporal dev server (which has no TLS flags) behind
 * Debian's haproxy as a TLS terminator (ALPN h2, as gRPC needs) that requires a client certificate signed
 * by the test CA. The CLI's
 * client (connectClient) and the worker's connection (NativeConnection, as createWorker opens it) both
 * connect with GRIDFLOW_TEMPORAL_TLS_CA / _CERT / _KEY; without the client certificate, or trusting
 * another CA, the connection is refused with the reason.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { connectClient } from '../../src/client';
import { GridflowConfig, loadConfig, temporalConnectionOptions } from '../../src/config';
import { freePort } from '../support/net';
import { STACK_UP_TIMEOUT_MS, ensureStack } from '../support/stack';

jest.setTimeout(120_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-tls-'));
const file = (name: string) => path.join(dir, name);
let proxy: ChildProcess | undefined;
let port = 0;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it; and an unrelated CA. */
function makeCertificates(): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=gridflow test ${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`]);
  }
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=gridflow ${who}`, '-keyout', `${who}.key`, '-out', `${who}.csr`]);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${who}.ext`, '-out', `${who}.pem`]);
  }
}

async function waitListening(p: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(p, '127.0.0.1', () => (c.end(), resolve(true))).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`haproxy is not listening on ${p}: ${fs.existsSync(file('haproxy.log')) ? fs.readFileSync(file('haproxy.log'), 'utf8') : ''}`);
}

/** The test stack's config, pointed at the terminator, with the given TLS settings. */
function tlsConfig(tls: Partial<GridflowConfig['temporal']['tls']>): GridflowConfig {
  const base = loadConfig();
  return { ...base, temporal: { ...base.temporal, address: `127.0.0.1:${port}`, tls: { enabled: true, ...tls } } };
}

beforeAll(async () => {
  await ensureStack();
  makeCertificates();
  port = await freePort();
  const upstream = loadConfig().temporal.address;
  fs.writeFileSync(file('server-bundle.pem'), fs.readFileSync(file('server.pem'), 'utf8') + fs.readFileSync(file('server.key'), 'utf8'));
  fs.writeFileSync(
    file('haproxy.cfg'),
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend temporal_tls',
      // TLS ends here; the gRPC stream (HTTP/2, negotiated by ALPN) goes on in plain TCP to the dev server.
      `  bind 127.0.0.1:${port} ssl crt ${file('server-bundle.pem')} ca-file ${file('ca.pem')} verify required alpn h2`,
      '  default_backend temporal',
      'backend temporal',
      `  server dev ${upstream}`,
      '',
    ].join('\n'),
  );
  proxy = spawn(fs.existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy', ['-db', '-f', file('haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  proxy.stderr?.on('data', (d: Buffer) => fs.appendFileSync(file('haproxy.log'), d));
  await waitListening(port);
}, STACK_UP_TIMEOUT_MS);

afterAll(() => {
  proxy?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the CLI client and the worker connect with mTLS through a terminator that requires a client certificate', async () => {
  const config = tlsConfig({ caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') });
  const { client, close } = await connectClient(config);
  try {
    const info = await client.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/^\d+\.\d+/);
    const ns = await client.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    expect(ns.namespaceInfo?.name).toBe(config.temporal.namespace);
  } finally {
    await close();
  }
  const worker = await NativeConnection.connect({ address: config.temporal.address, ...temporalConnectionOptions(config) });
  try {
    const ns = await worker.workflowService.describeNamespace({ namespace: config.temporal.namespace });
    expect(ns.namespaceInfo?.name).toBe(config.temporal.namespace);
  } finally {
    await worker.close();
  }
});

test('without the client certificate the terminator refuses the connection', async () => {
  await expect(connectClient(tlsConfig({ caFile: file('ca.pem') })).then((c) => c.client.workflowService.getSystemInfo({}))).rejects.toThrow();
});

test('a server certificate from another CA is not trusted', async () => {
  await expect(
    connectClient(tlsConfig({ caFile: file('other-ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') })).then((c) => c.client.workflowService.getSystemInfo({})),
  ).rejects.toThrow();
});

test('a missing certificate file is named before anything connects', () => {
  expect(() => temporalConnectionOptions(tlsConfig({ caFile: file('nope.pem') }))).toThrow(/GRIDFLOW_TEMPORAL_TLS_CA: .*nope\.pem does not exist/);
  expect(() => temporalConnectionOptions(tlsConfig({ certFile: file('client.pem') }))).toThrow(/GRIDFLOW_TEMPORAL_TLS_CERT and GRIDFLOW_TEMPORAL_TLS_KEY go together/);
});
