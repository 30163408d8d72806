/**
 * docker/compose.yml cannot run here (no Docker engine); this keeps it equivalent to the local stack:
 * the same services, published ports, pinned versions and connector jars on every Flink classpath.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';
import { flinkConfig, flinkMetricsPort } from '../../../src/stack/components/flink';
import { layout } from '../../../src/stack/layout';
import { components, createContext } from '../../../src/stack/manager';
import { CONNECTOR_JARS, VERSIONS } from '../../../src/stack/versions';
import { EXACT_JAR_NAME } from '../../../src/stack/fetch';
import { FLUSS_SERVER_TUNING } from '../../../src/stack/components/fluss';

interface Service {
  image: string;
  command?: string | string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
}

const compose = parse(fs.readFileSync(path.join(__dirname, '../../../docker/compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const config = loadConfig({ GRIDFLOW_HOME: '/nonexistent/gridflow-compose-test' });
const ctx = createContext(config, () => undefined);
const flinkServices = ['flink-jobmanager', 'taskmanager-1', 'sql-gateway'];

const published = (s: Service) => (s.ports ?? []).map((p) => Number(p.split(':').slice(-2)[0]));

const names = (pred: (s: Service) => boolean) => Object.entries(services).filter(([, s]) => pred(s)).map(([name]) => name).sort();

test('the same components as the local stack, three Fluss tablet servers by default', () => {
  expect(names((s) => !s.profiles)).toEqual(components(ctx).map((c) => c.name).sort());
  expect(components(ctx).filter((c) => c.name.startsWith('fluss-tablet-'))).toHaveLength(3);
  for (const i of [1, 2]) {
    const tablet = services[`fluss-tablet-${i}`];
    expect(published(tablet)).toEqual([config.stack.ports.flussTablet + i]);
    expect(tablet.environment!.FLUSS_PROPERTIES).toContain(`tablet-server.id: ${i}`);
  }
  // One replication setting for the coordinator and every tablet server: 3, like the local stack.
  for (const name of ['fluss-coordinator', 'fluss-tablet-0', 'fluss-tablet-1', 'fluss-tablet-2']) {
    expect(services[name].environment!.FLUSS_PROPERTIES).toContain('default.replication.factor: ${FLUSS_REPLICATION:-3}');
    for (const line of FLUSS_SERVER_TUNING) expect(services[name].environment!.FLUSS_PROPERTIES).toContain(line);
  }
});

test('the same ports on loopback', () => {
  const p = config.stack.ports;
  expect(published(services['postgres-source'])).toEqual([p.postgresSource]);
  expect(published(services['postgres-sink'])).toEqual([p.postgresSink]);
  expect(published(services.zookeeper)).toEqual([p.zookeeper]);
  expect(published(services['fluss-coordinator'])).toEqual([p.flussCoordinator]);
  expect(published(services['fluss-tablet-0'])).toEqual([p.flussTablet]);
  expect(published(services['flink-jobmanager'])).toEqual([p.flinkRest, p.flinkJobManagerMetrics]);
  // Flink's Prometheus reporters where the local stack has them (inside each container: 9249).
  expect(published(services['taskmanager-1'])).toEqual([flinkMetricsPort(config, { taskManager: 1 })]);
  expect(services['taskmanager-1'].ports).toEqual([`127.0.0.1:${p.flinkTaskManagerMetrics}:9249`]);
  expect(published(services['sql-gateway'])).toEqual([p.sqlGateway]);
  expect(published(services.temporal)).toEqual([p.temporal, p.temporalUi]);
  for (const s of Object.values(services)) for (const port of s.ports ?? []) expect(port.startsWith('127.0.0.1:')).toBe(true);
});

test('the pinned versions', () => {
  for (const name of flinkServices) expect(services[name].image).toBe(`flink:${VERSIONS.flink}-scala_2.12-java${VERSIONS.java}`);
  expect(services['fluss-coordinator'].image).toBe(`apache/fluss:${VERSIONS.fluss}`);
  expect(services['fluss-tablet-0'].image).toBe(`apache/fluss:${VERSIONS.fluss}`);
  expect(services['postgres-source'].image).toBe(`postgres:${VERSIONS.postgres}`);
  expect(services.temporal.image).toBe(`temporalio/temporal:${VERSIONS.temporalCli.replace(/^v/, '')}`);
  expect(services.prometheus.image).toBe(`prom/prometheus:${VERSIONS.prometheusImage}`);
  expect(services.grafana.image).toBe(`grafana/grafana:${VERSIONS.grafanaImage}`);
});

test('monitoring (profile monitoring): Prometheus and Grafana on the host network, listening on loopback only', () => {
  expect(names((s) => (s.profiles ?? []).includes('monitoring'))).toEqual(['grafana', 'prometheus']);
  for (const name of ['prometheus', 'grafana']) {
    const s = services[name] as Service & { network_mode?: string };
    // On the host's network to reach the dashboard and the reporters on 127.0.0.1; so no published ports.
    expect(s.network_mode).toBe('host');
    expect(s.ports).toBeUndefined();
  }
  expect(services.prometheus.command).toEqual(expect.arrayContaining(['--web.listen-address=127.0.0.1:9090', '--config.file=/etc/prometheus/prometheus.yml']));
  expect(services.prometheus.volumes).toContain('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  expect(services.grafana.environment!.GF_SERVER_HTTP_ADDR).toBe('127.0.0.1');
  for (const mount of services.grafana.volumes!.filter((v) => v.startsWith('./'))) {
    expect(fs.existsSync(path.join(__dirname, '../../../docker', mount.split(':')[0]))).toBe(true);
  }
});

test('every Flink process reports to Prometheus with Flink\'s reporter factory (the image ships it as a plugin)', () => {
  const props = services['flink-jobmanager'].environment!.FLINK_PROPERTIES;
  expect(props).toMatch(/^metrics\.reporters: prom$/m);
  expect(props).toMatch(/^metrics\.reporter\.prom\.factory\.class: org\.apache\.flink\.metrics\.prometheus\.PrometheusReporterFactory$/m);
  expect(props).toMatch(/^metrics\.reporter\.prom\.port: 9249$/m);
  for (const name of flinkServices) expect(services[name].environment!.FLINK_PROPERTIES).toBe(props);
});

test('every Flink process mounts every connector jar, and the warehouse functions, into lib/', () => {
  for (const name of flinkServices) {
    const mounts = services[name].volumes ?? [];
    for (const jar of CONNECTOR_JARS) {
      const file = `${jar.artifactId}-${jar.version}.jar`;
      expect(mounts).toContain(`./jars/${file}:/opt/flink/lib/${file}:ro`);
    }
    expect(mounts).toContain('./jars/gridflow-udf.jar:/opt/flink/lib/gridflow-udf.jar:ro');
    // The exact aggregates replace Flink classes: their jar must sort before every Flink jar in lib/.
    expect(mounts).toContain(`./jars/${EXACT_JAR_NAME}:/opt/flink/lib/${EXACT_JAR_NAME}:ro`);
    const libJars = mounts.map((m) => /:\/opt\/flink\/lib\/([^:]+):ro$/.exec(m)?.[1]).filter((f): f is string => !!f);
    expect([...libJars, 'flink-table-runtime-1.20.3.jar'].sort()[0]).toBe(EXACT_JAR_NAME);
  }
});

test('Flink settings match the local stack (slots, memory, retained checkpoints)', () => {
  const props = services['flink-jobmanager'].environment!.FLINK_PROPERTIES;
  expect(props).toContain(`taskmanager.numberOfTaskSlots: ${config.stack.slotsPerTaskManager}`);
  expect(props).toContain(`taskmanager.memory.process.size: ${config.stack.taskManagerMemory}`);
  expect(props).toContain(`jobmanager.memory.process.size: ${config.stack.jobManagerMemory}`);
  expect(props).toContain('externalized-checkpoint-retention: RETAIN_ON_CANCELLATION');
  const local = flinkConfig(config, layout(config)) as {
    taskmanager: Record<string, string>;
    state: Record<string, unknown>;
  };
  expect(props).toContain(`taskmanager.memory.managed.size: ${local.taskmanager['memory.managed.size']}`);
  expect(props).toContain(`taskmanager.memory.task.off-heap.size: ${local.taskmanager['memory.task.off-heap.size']}`);
  expect(props).toContain(`state.backend.type: ${local.state['backend.type']}`);
  expect(props).toContain(`state.backend.incremental: ${local.state['backend.incremental']}`);
  expect(local.state['backend.rocksdb.log.dir']).toBeDefined();
  expect(props).toMatch(/^state\.backend\.rocksdb\.log\.dir: \/data\/flink\/rocksdb-logs$/m);
});

test('the source Postgres decodes logically and Temporal registers the search attributes', () => {
  expect(services['postgres-source'].command).toEqual(expect.arrayContaining(['wal_level=logical']));
  expect(services.temporal.command).toEqual(expect.arrayContaining(['GridflowPipeline=Keyword', 'GridflowState=Keyword']));
});
