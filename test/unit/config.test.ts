import { tlsOptions } from '../../src/postgres/connection';
import { renderJob } from '../../src/warehouse/render';
import { parseSpec } from '../../src/core/spec';
import { testSpec } from '../workflows/doubles';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConnectionUrl, parseEnvFile, resolveConnection, temporalConnectionOptions } from '../../src/config';
import { redact } from '../../src/core/redact';
import { knownSecrets } from '../../src/secrets';

describe('loadConfig', () => {
  test('defaults: loopback addresses, stack under the repo, cache under ~/.cache', () => {
    const config = loadConfig({ HOME: '/home/op' });
    expect(config.flink.restUrl).toBe('http://127.0.0.1:8081');
    expect(config.flink.gatewayUrl).toBe('http://127.0.0.1:8083');
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.temporal.namespace).toBe('default');
    expect(config.home.endsWith('.gridflow')).toBe(true);
    expect(config.stack.taskManagers).toBe(1);
    expect(config.stack.slotsPerTaskManager).toBe(8);
  });

  test('environment overrides, including external clusters', () => {
    const config = loadConfig({
      GRIDFLOW_HOME: '/srv/gf',
      GRIDFLOW_CACHE: '/var/cache/gf',
      GRIDFLOW_TASKMANAGERS: '2',
      GRIDFLOW_FLINK_REST: 'http://flink.prod:8081',
      GRIDFLOW_SQL_GATEWAY: 'http://gateway.prod:8083',
      GRIDFLOW_TEMPORAL_ADDRESS: 'temporal.prod:7233',
      GRIDFLOW_TEMPORAL_NAMESPACE: 'grid',
    });
    expect(config.home).toBe('/srv/gf');
    expect(config.cacheDir).toBe('/var/cache/gf');
    expect(config.stack.taskManagers).toBe(2);
    expect(config.flink.restUrl).toBe('http://flink.prod:8081');
    expect(config.flink.gatewayUrl).toBe('http://gateway.prod:8083');
    expect(config.temporal).toEqual({ address: 'temporal.prod:7233', namespace: 'grid', tls: { enabled: false } });
  });

  test('GRIDFLOW_PORT_OFFSET shifts every default port', () => {
    const config = loadConfig({ GRIDFLOW_PORT_OFFSET: '10000' });
    expect(config.stack.ports.postgresSource).toBe(25432);
    expect(config.stack.ports.flinkRest).toBe(18081);
    expect(config.flink.restUrl).toBe('http://127.0.0.1:18081');
    expect(config.temporal.address).toBe('127.0.0.1:17233');
    expect(config.stack.ports.dashboard).toBe(18090);
  });

  test('the dashboard listens on 8090 by default; GRIDFLOW_DASHBOARD_PORT wins, also over the offset', () => {
    expect(loadConfig({}).stack.ports.dashboard).toBe(8090);
    expect(loadConfig({ GRIDFLOW_DASHBOARD_PORT: '9000' }).stack.ports.dashboard).toBe(9000);
    const shifted = loadConfig({ GRIDFLOW_PORT_OFFSET: '10000', GRIDFLOW_DASHBOARD_PORT: '9000' });
    expect(shifted.stack.ports.dashboard).toBe(9000);
    expect(shifted.stack.ports.flinkRest).toBe(18081);
  });

  test.each([
    [{ GRIDFLOW_TASKMANAGERS: 'two' }, /GRIDFLOW_TASKMANAGERS \(stack\.taskManagers\)/],
    [{ GRIDFLOW_TASKMANAGERS: '0' }, /GRIDFLOW_TASKMANAGERS/],
    [{ GRIDFLOW_TASKMANAGER_MEMORY: 'lots' }, /GRIDFLOW_TASKMANAGER_MEMORY.*memory size/],
    [{ GRIDFLOW_FLINK_REST: 'not a url' }, /GRIDFLOW_FLINK_REST \(flink\.restUrl\)/],
    [{ GRIDFLOW_PORT_OFFSET: '-5' }, /GRIDFLOW_PORT_OFFSET/],
    [{ GRIDFLOW_DASHBOARD_PORT: '70000' }, /GRIDFLOW_DASHBOARD_PORT \(stack\.ports\.dashboard\)/],
  ])('a bad value names the variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('connections', () => {
  test('a URL parses and the password is not enumerable (never logged or serialised)', () => {
    const c = parseConnectionUrl('source_cdc', 'postgres://gridflow_cdc:s%40cret@db.example:5433/sgcc_source');
    expect(c).toMatchObject({ name: 'source_cdc', host: 'db.example', port: 5433, database: 'sgcc_source', user: 'gridflow_cdc' });
    expect(c.password).toBe('s@cret');
    expect(JSON.stringify(c)).not.toContain('s@cret');
    expect(Object.keys(c)).not.toContain('password');
  });

  test('the environment wins over the local stack file', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-conn-'));
    fs.writeFileSync(path.join(home, 'connections.env'), 'GRIDFLOW_PG_SINK=postgres://w:file@127.0.0.1:15433/sgcc_dw\n');
    expect(resolveConnection('sink', { home }, {}).password).toBe('file');
    expect(resolveConnection('sink', { home }, { GRIDFLOW_PG_SINK: 'postgres://w:env@prod:5432/dw' }).host).toBe('prod');
  });

  test('an undefined connection says how to define it', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-conn-'));
    expect(() => resolveConnection('sink', { home }, {})).toThrow(/GRIDFLOW_PG_SINK=postgres:\/\//);
  });

  test('names that could reach SQL are validated', () => {
    expect(() => resolveConnection('Sink; drop', { home: '/nonexistent' }, {})).toThrow(/must match/);
  });

  test('a non-postgres URL is refused with the variable named', () => {
    expect(() => parseConnectionUrl('sink', 'mysql://a:b@h/db')).toThrow(/GRIDFLOW_PG_SINK must be a postgres:\/\/ URL/);
    expect(() => parseConnectionUrl('sink', 'postgres://a:b@h')).toThrow(/names no database/);
  });

  test.each([
    ['postgres://u%zz:pw@h/db', /GRIDFLOW_PG_SINK: the user name holds a malformed percent-escape \(write % as %25\)/],
    ['postgres://u:p%G1w@h/db', /GRIDFLOW_PG_SINK: the password holds a malformed percent-escape/],
    ['postgres://u:pw@h/d%b', /GRIDFLOW_PG_SINK: the database holds a malformed percent-escape/],
    ['postgres://u:pw@h/a%2Fb', /GRIDFLOW_PG_SINK: the database name "a\/b" holds a \//],
    ['postgres://:pw@h/db', /GRIDFLOW_PG_SINK names no user/],
    ['postgres://u:pw@h:99999/db', /GRIDFLOW_PG_SINK is not a URL/],
    ['postgres://u:pw@[fe80::1%25eth0]:5432/db', /GRIDFLOW_PG_SINK is not a URL/],
  ])('a malformed GRIDFLOW_PG_* URL (%s) is refused naming the variable and the part, never the password', (url, message) => {
    let error: Error | undefined;
    try {
      parseConnectionUrl('sink', url);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toMatch(/pw|p%G1w/);
  });

  test('percent-escapes, IPv6 hosts and upper-case database names are what Postgres allows: decoded and kept', () => {
    const c = parseConnectionUrl('sink', 'postgres://w%40rk:p%40ss%2F%3Aw%25@[::1]:6543/SGCC_Dw');
    expect({ host: c.host, port: c.port, user: c.user, database: c.database, password: c.password }).toEqual({ host: '::1', port: 6543, user: 'w@rk', database: 'SGCC_Dw', password: 'p@ss/:w%' });
    // Into Flink: the JDBC URL brackets the address and encodes the name; the CDC options take both as they are.
    const cdc = parseConnectionUrl('source_cdc', "postgres://cdc:pw@[2001:db8::5]/Source-DB");
    const spec = parseSpec(testSpec());
    const sink = renderJob(spec, 'sink', { sourceCdc: cdc, sink: c, flussBootstrap: '127.0.0.1:9123' }).setup.join('\n');
    expect(sink).toContain("'url' = 'jdbc:postgresql://[::1]:6543/SGCC_Dw?currentSchema=dw_wf_v0%2Cdw_wf%2Cgridflow'");
    const ingest = renderJob(spec, 'ingest', { sourceCdc: cdc, sink: c, flussBootstrap: '127.0.0.1:9123' }).setup.join('\n');
    expect(ingest).toContain("'hostname' = '2001:db8::5'");
    expect(ingest).toContain("'database-name' = 'Source-DB'");
    // A quote in a database name cannot end the SQL string the URL sits in.
    const quoted = parseConnectionUrl('sink', "postgres://w:pw@h/it's");
    expect(renderJob(spec, 'sink', { sourceCdc: cdc, sink: quoted, flussBootstrap: '127.0.0.1:9123' }).setup.join('\n')).toContain("jdbc:postgresql://h:5432/it%27s?currentSchema=");
  });

  test('env files: comments and blank lines ignored, values may contain =', () => {
    expect(parseEnvFile('# c\n\nA=1\nB=x=y\n bad line\n')).toEqual({ A: '1', B: 'x=y' });
  });
});

describe('TLS for Postgres connections (sslmode, sslrootcert)', () => {
  const ca = path.join(os.tmpdir(), `gridflow-test-ca-${process.pid}.pem`);
  beforeAll(() => fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'));
  afterAll(() => fs.rmSync(ca, { force: true }));
  const url = (q: string) => `postgres://u:pw@db.example:5432/sgcc_dw${q}`;

  test('honoured, not dropped: the modes node-postgres and pgjdbc both implement', () => {
    expect(parseConnectionUrl('sink', url('')).ssl).toBeUndefined();
    expect(parseConnectionUrl('sink', url('?sslmode=disable')).ssl).toBeUndefined();
    expect(parseConnectionUrl('sink', url('?sslmode=require')).ssl).toEqual({ mode: 'require' });
    expect(parseConnectionUrl('sink', url(`?sslmode=verify-full&sslrootcert=${ca}`)).ssl).toEqual({ mode: 'verify-full', rootCert: ca });
  });

  test.each([
    ['?sslmode=prefer', /GRIDFLOW_PG_SINK: sslmode=prefer \(TLS only if the server offers it\) is not supported/],
    ['?sslmode=verify-full', /sslmode=verify-full needs sslrootcert=/],
    ['?sslmode=strict', /sslmode=strict is not one of disable, require, verify-ca, verify-full/],
    ['?sslmode=verify-ca&sslrootcert=relative.pem', /sslrootcert must be an absolute path/],
    ['?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem', /sslrootcert \/nonexistent\/ca.pem does not exist/],
    ['?sslrootcert=/tmp/x.pem', /sslrootcert needs sslmode=verify-ca or verify-full/],
    ['?application_name=x&sslmode=require', /unknown URL parameter application_name \(supported: sslmode, sslrootcert\)/],
  ])('refused with the reason: %s', (q, message) => {
    expect(() => parseConnectionUrl('sink', url(q))).toThrow(message);
  });

  test('the same TLS reaches node-postgres, the JDBC sink and the CDC source', () => {
    const sink = parseConnectionUrl('sink', url(`?sslmode=verify-full&sslrootcert=${ca}`));
    const cdc = parseConnectionUrl('source_cdc', `postgres://cdc:pw@db.example:5432/sgcc_source?sslmode=require`);
    expect(tlsOptions(sink)).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(tlsOptions(cdc)).toEqual({ rejectUnauthorized: false });
    expect(tlsOptions(parseConnectionUrl('x', url('')))).toBe(false);
    const spec = parseSpec(testSpec());
    const sinkJob = renderJob(spec, 'sink', { sourceCdc: cdc, sink, flussBootstrap: '127.0.0.1:9123' });
    expect(sinkJob.setup.join('\n')).toContain(`'url' = 'jdbc:postgresql://db.example:5432/sgcc_dw?currentSchema=dw_wf_v0%2Cdw_wf%2Cgridflow&sslmode=verify-full&sslrootcert=${ca}'`);
    const ingest = renderJob(spec, 'ingest', { sourceCdc: cdc, sink, flussBootstrap: '127.0.0.1:9123' }).setup.join('\n');
    expect(ingest).toContain("'debezium.database.sslmode' = 'require'");
    // Without TLS the job's SQL (and so its fingerprint) is what it was.
    const plain = renderJob(spec, 'ingest', { sourceCdc: parseConnectionUrl('source_cdc', 'postgres://cdc:pw@db.example:5432/sgcc_source'), sink, flussBootstrap: '127.0.0.1:9123' }).setup.join('\n');
    expect(plain).not.toContain('sslmode');
    expect(plain).toContain("'debezium.poll.interval.ms' = '100'\n");
  });
});

describe('Temporal TLS and API keys from the environment', () => {
  test('off by default; on with any variable; the API key implies TLS and is remembered as a secret', () => {
    expect(temporalConnectionOptions(loadConfig({ HOME: '/home/op' }))).toEqual({});
    expect(temporalConnectionOptions(loadConfig({ HOME: '/home/op', GRIDFLOW_TEMPORAL_TLS: '1' }))).toEqual({ tls: true });
    expect(temporalConnectionOptions(loadConfig({ HOME: '/home/op', GRIDFLOW_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }))).toEqual({ tls: { serverNameOverride: 'temporal.internal' } });
    const withKey = temporalConnectionOptions(loadConfig({ HOME: '/home/op', GRIDFLOW_TEMPORAL_API_KEY: 'tk_live_0123456789' }));
    expect(withKey).toEqual({ tls: true, apiKey: 'tk_live_0123456789' });
    expect(redact('connect failed with tk_live_0123456789', knownSecrets())).toBe('connect failed with ***');
  });

  test('bad values are named', () => {
    expect(() => loadConfig({ HOME: '/home/op', GRIDFLOW_TEMPORAL_TLS: 'maybe' })).toThrow(/GRIDFLOW_TEMPORAL_TLS \(temporal\.tls\.enabled\): true or false/);
    expect(() => temporalConnectionOptions(loadConfig({ HOME: '/home/op', GRIDFLOW_TEMPORAL_TLS_CA: 'ca.pem' }))).toThrow(/GRIDFLOW_TEMPORAL_TLS_CA must be an absolute path/);
  });
});
