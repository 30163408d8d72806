/**
 * Prometheus on the local stack: Flink's reporter configured on loopback with a port per component
 * (shifted with GRIDFLOW_PORT_OFFSET), the scrape configuration docker/prometheus/prometheus.yml is kept
 * equal to, and the Grafana dashboard's queries naming only series that exist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';
import { METRICS } from '../../../src/core/metrics';
import { PROMETHEUS_REPORTER_FACTORY, flinkConfig, flinkMetricsPort } from '../../../src/stack/components/flink';
import { layout } from '../../../src/stack/layout';
import { localScrapeTargets, renderPrometheusConfig } from '../../../src/stack/prometheus';

const repo = path.join(__dirname, '../../..');
const config = loadConfig({ GRIDFLOW_HOME: '/nonexistent/gridflow-prometheus-test' });

test('Flink\'s reporter: gridflow\'s loopback factory, on the stack\'s host, the JobManager\'s port as a string', () => {
  const metrics = (flinkConfig(config, layout(config)) as { metrics: Record<string, unknown> }).metrics;
  expect(metrics).toEqual({
    reporters: 'prom',
    'reporter.prom.factory.class': PROMETHEUS_REPORTER_FACTORY,
    'reporter.prom.host': '127.0.0.1',
    // A YAML number would reach the reporter as an Integer, which MetricConfig.getString ignores (→ 9249).
    'reporter.prom.port': '9249',
  });
});

test('a port per component: JobManager 9249, taskmanager-N 9250 + N - 1, all shifted with the stack', () => {
  expect(flinkMetricsPort(config, 'jobmanager')).toBe(9249);
  expect(flinkMetricsPort(config, { taskManager: 1 })).toBe(9250);
  expect(flinkMetricsPort(config, { taskManager: 16 })).toBe(9265);
  const shifted = loadConfig({ GRIDFLOW_HOME: '/nonexistent/x', GRIDFLOW_PORT_OFFSET: '30000' });
  expect(flinkMetricsPort(shifted, 'jobmanager')).toBe(39249);
  expect(flinkMetricsPort(shifted, { taskManager: 2 })).toBe(39251);
  // No other port of the stack falls into the reporters' range (16 TaskManagers at most).
  const others = Object.entries(config.stack.ports).filter(([k]) => !/Metrics$/.test(k)).map(([, v]) => v);
  for (const p of others) expect(p >= 9249 && p <= 9265).toBe(false);
});

test('the factory the config names is the one src/stack/java/reporter builds and registers as a service', () => {
  const dir = path.join(repo, 'src/stack/java/reporter');
  const file = path.join(dir, `${PROMETHEUS_REPORTER_FACTORY.replace(/\./g, '/')}.java`);
  expect(fs.readFileSync(file, 'utf8')).toContain('new InetSocketAddress(host, port)');
  const service = fs.readFileSync(path.join(dir, 'META-INF/services/org.apache.flink.metrics.reporter.MetricReporterFactory'), 'utf8');
  expect(service.trim()).toBe(PROMETHEUS_REPORTER_FACTORY);
});

test('local scrape targets: the dashboard, the JobManager and every TaskManager', () => {
  const three = loadConfig({ GRIDFLOW_HOME: '/nonexistent/x', GRIDFLOW_TASKMANAGERS: '3', GRIDFLOW_PORT_OFFSET: '20000' });
  expect(localScrapeTargets(three)).toEqual({
    dashboard: ['127.0.0.1:28090'],
    flinkJobManager: ['127.0.0.1:29249'],
    flinkTaskManagers: ['127.0.0.1:29250', '127.0.0.1:29251', '127.0.0.1:29252'],
  });
  const yaml = parse(renderPrometheusConfig(localScrapeTargets(three), 1));
  expect(yaml.global.scrape_interval).toBe('1s');
  expect(yaml.global.scrape_timeout).toBe('1s');
  expect(yaml.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual(['gridflow-dashboard', 'flink-jobmanager', 'flink-taskmanager']);
  expect(() => renderPrometheusConfig(localScrapeTargets(three), 0.5)).toThrow(/whole number of seconds/);
});

test('docker/prometheus/prometheus.yml is the rendering for the default ports (regenerate it from src/stack/prometheus.ts)', () => {
  const file = fs.readFileSync(path.join(repo, 'docker/prometheus/prometheus.yml'), 'utf8');
  expect(file).toBe(renderPrometheusConfig(localScrapeTargets(config), 15));
});

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
}

test('the Grafana dashboard queries the provisioned datasource, and every gridflow_ series it names exists', () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(repo, 'docker/grafana/dashboards/gridflow.json'), 'utf8')) as { uid: string; panels: Panel[] };
  const datasources = parse(fs.readFileSync(path.join(repo, 'docker/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  const uid = datasources.datasources[0].uid as string;
  expect(datasources.datasources[0].url).toBe('http://127.0.0.1:9090');
  const known = new Set(Object.values(METRICS).map((d) => d.name));
  const named = new Set<string>();
  for (const p of dashboard.panels) {
    expect(p.datasource.uid).toBe(uid);
    expect(p.targets.length).toBeGreaterThan(0);
    for (const t of p.targets) {
      expect(t.datasource.uid).toBe(uid);
      for (const m of t.expr.match(/\bgridflow_[a-z_]+/g) ?? []) named.add(m);
    }
  }
  expect([...named].filter((m) => !known.has(m))).toEqual([]);
  // The panels: state, freshness, restarts, checkpoint age, slot lag, verification, alerts.
  for (const m of ['gridflow_pipeline_state', 'gridflow_pipeline_freshness_seconds', 'gridflow_job_recent_restarts', 'gridflow_job_checkpoint_age_seconds',
    'gridflow_replication_slot_lag_bytes', 'gridflow_verification_ok', 'gridflow_verification_duration_seconds', 'gridflow_pipeline_alerts']) {
    expect(named).toContain(m);
  }
});
