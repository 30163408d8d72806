import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';
import { flinkConfig, parseBashJavaUtils } from '../../../src/stack/components/flink';
import { parseProbeOutput } from '../../../src/stack/components/fluss';
import { serverSettings } from '../../../src/stack/components/postgres';
import { renderPom } from '../../../src/stack/fetch';
import { layout } from '../../../src/stack/layout';
import { CONNECTOR_JARS, FLINK_JARS, VERSIONS } from '../../../src/stack/versions';

test('BashJavaUtils output: JVM flags and -D properties (recorded from flink-runtime 1.20.3)', () => {
  const output = [
    'some log line',
    'BASH_JAVA_UTILS_EXEC_RESULT:-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456',
    'BASH_JAVA_UTILS_EXEC_RESULT:-D taskmanager.memory.network.min=134217730b -D taskmanager.cpu.cores=8.0 -D taskmanager.numberOfTaskSlots=8',
  ].join('\n');
  const parsed = parseBashJavaUtils(output);
  expect(parsed.jvmArgs).toEqual(['-Xmx536870902', '-Xms536870902', '-XX:MaxDirectMemorySize=268435458', '-XX:MaxMetaspaceSize=268435456']);
  expect(parsed.dynamicProperties).toEqual([
    '-D', 'taskmanager.memory.network.min=134217730b',
    '-D', 'taskmanager.cpu.cores=8.0',
    '-D', 'taskmanager.numberOfTaskSlots=8',
  ]);
  expect(() => parseBashJavaUtils('Exception in thread main')).toThrow(/no resource parameters/);
});

test('Fluss probe output', () => {
  expect(parseProbeOutput('COORDINATOR 0 127.0.0.1:9123\nTABLET_SERVER 0 127.0.0.1:9124\nSLF4J: noise\n')).toEqual([
    { type: 'COORDINATOR', id: 0, address: '127.0.0.1:9123' },
    { type: 'TABLET_SERVER', id: 0, address: '127.0.0.1:9124' },
  ]);
});

test('the pom pins every artifact and keeps fat jars without their dependencies', () => {
  const pom = renderPom([...FLINK_JARS, ...CONNECTOR_JARS]);
  expect(pom).toContain(`<artifactId>flink-runtime</artifactId><version>${VERSIONS.flink}</version></dependency>`);
  expect(pom).toMatch(/flink-sql-connector-postgres-cdc<\/artifactId><version>3\.5\.0<\/version><exclusions>/);
  expect(pom).not.toContain('flink-table-planner_2.12');
});

test('Flink config: loopback, retained checkpoints on local disk, slots from settings', () => {
  const config = loadConfig({ GRIDFLOW_HOME: '/srv/gf', GRIDFLOW_SLOTS_PER_TASKMANAGER: '4' });
  const yaml = parse(JSON.stringify(flinkConfig(config, layout(config))));
  expect(yaml.taskmanager.numberOfTaskSlots).toBe(4);
  expect(yaml.rest['bind-address']).toBe('127.0.0.1');
  expect(yaml.execution.checkpointing.dir).toBe('file:///srv/gf/flink/checkpoints');
  expect(yaml.execution.checkpointing['externalized-checkpoint-retention']).toBe('RETAIN_ON_CANCELLATION');
});

test('the source Postgres is started for logical decoding; the sink is not', () => {
  const source = serverSettings('source', '127.0.0.1', 15432).join(' ');
  expect(source).toContain('wal_level=logical');
  expect(source).toMatch(/max_replication_slots=\d+/);
  expect(serverSettings('sink', '127.0.0.1', 15433).join(' ')).not.toContain('wal_level');
});

describe('ensureReachable (Postgres runs as the postgres user when gridflow runs as root)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const path = require('node:path') as typeof import('node:path');
  const { ensureReachable } = require('../../../src/stack/privilege') as typeof import('../../../src/stack/privilege');
  const postgresUser = (() => {
    try {
      const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
      return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
    } catch {
      return null;
    }
  })();
  const asRoot = process.getuid?.() === 0 && postgresUser !== null;

  (asRoot ? test : test.skip)('a 0700 folder inside the stack folder is opened up; one outside is reported by name', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-reach-')); // 0700, not ours to change
    const home = path.join(outside, 'home');
    fs.mkdirSync(path.join(home, 'postgres'), { recursive: true });
    expect(() => ensureReachable(path.join(home, 'postgres'), { ...postgresUser!, name: 'postgres' }, home)).toThrow(
      new RegExp(`the postgres user cannot reach ${outside} \\(mode 700\\).*chmod o\\+x ${outside}`),
    );
    fs.chmodSync(outside, 0o755);
    fs.chmodSync(home, 0o700);
    ensureReachable(path.join(home, 'postgres'), { ...postgresUser!, name: 'postgres' }, home);
    expect(fs.statSync(home).mode & 0o011).toBe(0o011);
    // Not running as root: nothing to check.
    expect(() => ensureReachable('/root/x', {}, '/root')).not.toThrow();
  });
});

describe('the stack user (components run unprivileged when gridflow runs as root)', () => {
  const { serviceUser, runtimePath } = require('../../../src/stack/privilege') as typeof import('../../../src/stack/privilege');
  // As root, a bad GRIDFLOW_STACK_USER is refused before anything is created; as anyone else there is no stack user.
  (process.getuid?.() === 0 ? test : test.skip)('GRIDFLOW_STACK_USER=root or a malformed name is refused, naming it', () => {
    expect(() => serviceUser({ GRIDFLOW_STACK_USER: 'root' })).toThrow(/GRIDFLOW_STACK_USER=root: the stack does not run its components as root/);
    expect(() => serviceUser({ GRIDFLOW_STACK_USER: 'Bad Name' })).toThrow(/GRIDFLOW_STACK_USER=Bad Name is not a user name/);
  });
  test('not root: no stack user, everything runs as whoever started it', () => {
    if (process.getuid?.() === 0) return; // covered by the test above and the listeners e2e
    expect(serviceUser({})).toBeUndefined();
  });
  test('artifacts reach the stack user as hard links under runtime/, idempotently; files outside the cache as they are', () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const os = require('node:os') as typeof import('node:os');
    const path = require('node:path') as typeof import('node:path');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-runtime-'));
    const cache = path.join(root, 'cache');
    fs.mkdirSync(path.join(cache, 'flink-1'), { recursive: true });
    const jar = path.join(cache, 'flink-1', 'a.jar');
    fs.writeFileSync(jar, 'jar');
    const linked = runtimePath(jar, cache, path.join(root, 'runtime'));
    expect(linked).toBe(path.join(root, 'runtime', 'flink-1', 'a.jar'));
    expect(fs.statSync(linked).ino).toBe(fs.statSync(jar).ino);
    expect(runtimePath(jar, cache, path.join(root, 'runtime'))).toBe(linked);
    expect(runtimePath('/usr/bin/env', cache, path.join(root, 'runtime'))).toBe('/usr/bin/env');
    fs.rmSync(root, { recursive: true, force: true });
  });
});

test('start chains: independent components side by side, dependencies in order, a stage side by side', () => {
  const { startChains, components, createContext } = require('../../../src/stack/manager') as typeof import('../../../src/stack/manager');
  const ctx = createContext(loadConfig({ GRIDFLOW_HOME: '/nonexistent/gridflow-chains', GRIDFLOW_TASKMANAGERS: '2' }), () => undefined);
  const names = (cs: ReturnType<typeof components>) => startChains(cs).map((chain) => chain.map((stage) => stage.map((c) => c.name)));
  expect(names(components(ctx))).toEqual([
    [['postgres-source']],
    [['postgres-sink']],
    [['zookeeper'], ['fluss-coordinator'], ['fluss-tablet-0', 'fluss-tablet-1', 'fluss-tablet-2']],
    [['flink-jobmanager'], ['taskmanager-1', 'taskmanager-2', 'sql-gateway']],
    [['temporal']],
  ]);
  // Only some components asked for: the order holds, no empty stage.
  expect(names(components(ctx).filter((c) => ['zookeeper', 'fluss-tablet-1'].includes(c.name)))).toEqual([[['zookeeper'], ['fluss-tablet-1']]]);
});
