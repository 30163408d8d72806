/**
 * A Flink 1.20 session cluster assembled from Maven module jars: JobManager (REST + web UI),
 * TaskManagers, and the SQL Gateway, all with the connector jars on their classpath. Checkpoints and
 * savepoints on local disk; checkpoints retained on cancel so a lost job can be resubmitted from them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import axios from 'axios';
import { stringify } from 'yaml';
import { GridflowConfig } from '../../config';
import { Component, StackContext } from '../component';
import { Health, healthy, unhealthy } from '../health';
import { Layout } from '../layout';
import { readPid, run } from '../process';
import { startJava } from './java';

export function flinkConfig(config: GridflowConfig, paths: Layout): Record<string, unknown> {
  const { host, ports, slotsPerTaskManager, jobManagerMemory, taskManagerMemory } = config.stack;
  return {
    jobmanager: {
      'rpc.address': host,
      'rpc.port': ports.flinkRpc,
      'bind-host': host,
      'memory.process.size': jobManagerMemory,
      // Failed jobs stay listed, so the control plane can read why they failed.
      'execution.failover-strategy': 'region',
    },
    taskmanager: {
      host,
      'bind-host': host,
      numberOfTaskSlots: slotsPerTaskManager,
      'memory.process.size': taskManagerMemory,
      // RocksDB keeps state in managed memory and on disk, so the heap holds only what is in flight;
      // the Fluss client's Arrow buffers and the CDC/JDBC connectors need direct memory
      // ("Direct buffer memory" OOM otherwise).
      'memory.managed.size': '512m',
      'memory.task.off-heap.size': '256m',
    },
    rest: { address: host, 'bind-address': host, port: ports.flinkRest },
    parallelism: { default: 1 },
    io: { 'tmp.dirs': paths.flinkTmp },
    web: { 'tmpdir': path.join(paths.flinkTmp, 'web'), 'upload.dir': path.join(paths.flinkTmp, 'upload') },
    // RocksDB with incremental checkpoints: the latest-reading Top-N holds every reading, which on
    // the heap backend fills a TaskManager at ~300k readings (measured, sql/NOTES.md).
    // RocksDB's own LOG files (one per operator and job) go beside, not among, the component logs.
    state: { 'backend.type': 'rocksdb', 'backend.incremental': true, 'backend.rocksdb.log.dir': path.join(paths.flinkTmp, 'rocksdb-logs') },
    execution: {
      checkpointing: {
        dir: `file://${paths.checkpoints}`,
        'savepoint-dir': `file://${paths.savepoints}`,
        'externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
        'num-retained': 3,
      },
    },
    // A TaskManager killed with -9 is noticed in seconds rather than the default 50 s.
    heartbeat: { interval: 5000, timeout: 20000 },
    'restart-strategy': {
      type: 'exponential-delay',
      'exponential-delay.initial-backoff': '1 s',
      'exponential-delay.max-backoff': '30 s',
    },
    // Keep finished/failed jobs visible to the control plane for an hour.
    jobstore: { 'expiration-time': 3600 },
    // Flink's Prometheus reporter, bound to the stack's host (Flink's own factory binds every interface).
    // This port is the JobManager's; each TaskManager gets its own on its command line.
    metrics: {
      reporters: 'prom',
      'reporter.prom.factory.class': PROMETHEUS_REPORTER_FACTORY,
      'reporter.prom.host': host,
      // A string: the reporter reads its options as strings (a YAML number would be ignored, leaving 9249).
      'reporter.prom.port': String(ports.flinkJobManagerMetrics),
    },
  };
}

/** gridflow's loopback factory for Flink's Prometheus reporter (src/stack/java/reporter). */
export const PROMETHEUS_REPORTER_FACTORY = 'org.apache.flink.metrics.prometheus.LoopbackPrometheusReporterFactory';

/** Where a component's Prometheus reporter listens: the JobManager, or taskmanager-<index> (from 1). */
export function flinkMetricsPort(config: GridflowConfig, component: 'jobmanager' | { taskManager: number }): number {
  const { ports } = config.stack;
  return component === 'jobmanager' ? ports.flinkJobManagerMetrics : ports.flinkTaskManagerMetrics + component.taskManager - 1;
}

function writeFlinkConfig(config: GridflowConfig, paths: Layout): string {
  fs.mkdirSync(paths.flinkConf, { recursive: true });
  for (const dir of [paths.flinkTmp, path.join(paths.flinkTmp, 'rocksdb-logs'), paths.checkpoints, paths.savepoints]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(paths.flinkConf, 'config.yaml'), stringify(flinkConfig(config, paths)));
  return paths.flinkConf;
}

/**
 * Flink's scripts resolve the process memory into explicit JVM flags and -D settings with
 * BashJavaUtils; we call the same code. Lines start BASH_JAVA_UTILS_EXEC_RESULT:; the first is the JVM
 * flags, the second the dynamic properties.
 */
export function parseBashJavaUtils(output: string): { jvmArgs: string[]; dynamicProperties: string[] } {
  const results = output
    .split('\n')
    .filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
    .map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
  if (results.length < 2) {
    throw new Error(`BashJavaUtils printed no resource parameters:\n${output.split('\n').slice(-20).join('\n')}`);
  }
  const dynamicProperties: string[] = [];
  const tokens = results[results.length - 1].split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '-D' && tokens[i + 1]) dynamicProperties.push('-D', tokens[++i]);
  }
  return { jvmArgs: results[results.length - 2].split(/\s+/).filter(Boolean), dynamicProperties };
}

function resourceParams(ctx: StackContext, which: 'GET_JM_RESOURCE_PARAMS' | 'GET_TM_RESOURCE_PARAMS') {
  const out = run(
    'java',
    ['-cp', ctx.artifacts().flinkClasspath.join(':'), 'org.apache.flink.runtime.util.bash.BashJavaUtils', which, '--configDir', ctx.layout.flinkConf],
    { timeoutMs: 60_000 },
  );
  return parseBashJavaUtils(out);
}

const http = axios.create({ timeout: 5000, validateStatus: () => true });

export function jobManagerComponent(config: GridflowConfig, home: string): Component {
  const name = 'flink-jobmanager';
  const url = `http://${config.stack.host}:${config.stack.ports.flinkRest}`;
  return {
    name,
    address: url,
    logFile: path.join(home, 'logs', `${name}.log`),
    dataDirs: [path.join(home, 'flink')],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),
    async start(ctx) {
      const confDir = writeFlinkConfig(ctx.config, ctx.layout);
      const params = resourceParams(ctx, 'GET_JM_RESOURCE_PARAMS');
      startJava(ctx, {
        component: name,
        mainClass: 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
        classpath: ctx.artifacts().flinkClasspath,
        writes: [ctx.layout.flink],
        jvmArgs: params.jvmArgs,
        args: ['--configDir', confDir, ...params.dynamicProperties],
        env: { ...process.env, FLINK_CONF_DIR: confDir },
      });
    },
    async health(): Promise<Health> {
      const res = await http.get(`${url}/overview`);
      if (res.status !== 200 || typeof res.data?.['flink-version'] !== 'string') {
        return unhealthy(`GET /overview answered ${res.status}`);
      }
      const d = res.data;
      return healthy(`Flink ${d['flink-version']}, ${d.taskmanagers} TaskManagers, ${d['slots-available']}/${d['slots-total']} slots free`);
    },
  };
}

export function taskManagerComponent(config: GridflowConfig, home: string, index: number): Component {
  const name = `taskmanager-${index}`;
  const url = `http://${config.stack.host}:${config.stack.ports.flinkRest}`;
  // Each start registers under a fresh resource id, recorded here: after a kill -9 the JobManager still
  // lists the dead process under its old id until the heartbeat times out, and that must not count.
  const ridFile = path.join(home, 'run', `${name}.rid`);
  const currentRid = () => {
    try {
      return fs.readFileSync(ridFile, 'utf8').trim();
    } catch {
      return name;
    }
  };
  return {
    name,
    address: `${config.stack.slotsPerTaskManager} slots`,
    logFile: path.join(home, 'logs', `${name}.log`),
    dataDirs: [],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),
    async start(ctx) {
      const confDir = writeFlinkConfig(ctx.config, ctx.layout);
      const params = resourceParams(ctx, 'GET_TM_RESOURCE_PARAMS');
      const rid = `${name}-${Date.now().toString(36)}`;
      fs.mkdirSync(path.dirname(ridFile), { recursive: true });
      fs.writeFileSync(ridFile, `${rid}\n`);
      startJava(ctx, {
        component: name,
        mainClass: 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
        classpath: ctx.artifacts().flinkClasspath,
        writes: [ctx.layout.flink],
        jvmArgs: params.jvmArgs,
        args: [
          '--configDir',
          confDir,
          ...params.dynamicProperties,
          '-D',
          `taskmanager.resource-id=${rid}`,
          '-D',
          `metrics.reporter.prom.port=${flinkMetricsPort(ctx.config, { taskManager: index })}`,
        ],
        env: { ...process.env, FLINK_CONF_DIR: confDir },
      });
    },
    async health(): Promise<Health> {
      const res = await http.get(`${url}/taskmanagers`);
      if (res.status !== 200 || !Array.isArray(res.data?.taskmanagers)) return unhealthy(`GET /taskmanagers answered ${res.status}`);
      const rid = currentRid();
      const me = (res.data.taskmanagers as Array<{ id: string; slotsNumber: number; freeSlots: number }>).find((t) => t.id === rid);
      if (!me) return unhealthy(`not registered with the JobManager as ${rid} yet`);
      // Registration comes first, the slot report a moment later: without slots it is of no use yet.
      if (!(me.slotsNumber > 0)) return unhealthy(`registered as ${rid}, but its task slots are not reported yet`);
      return healthy(`registered as ${rid}, ${me.freeSlots}/${me.slotsNumber} slots free`);
    },
  };
}

export function sqlGatewayComponent(config: GridflowConfig, home: string): Component {
  const name = 'sql-gateway';
  const url = `http://${config.stack.host}:${config.stack.ports.sqlGateway}`;
  return {
    name,
    address: url,
    logFile: path.join(home, 'logs', `${name}.log`),
    dataDirs: [],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),
    async start(ctx) {
      const confDir = writeFlinkConfig(ctx.config, ctx.layout);
      startJava(ctx, {
        component: name,
        mainClass: 'org.apache.flink.table.gateway.SqlGateway',
        classpath: ctx.artifacts().flinkClasspath,
        writes: [ctx.layout.flink],
        jvmArgs: ['-Xms256m', '-Xmx768m'],
        args: [
          `-Dsql-gateway.endpoint.rest.address=${ctx.config.stack.host}`,
          `-Dsql-gateway.endpoint.rest.bind-address=${ctx.config.stack.host}`,
          `-Dsql-gateway.endpoint.rest.port=${ctx.config.stack.ports.sqlGateway}`,
        ],
        env: { ...process.env, FLINK_CONF_DIR: confDir },
      });
    },
    async health(): Promise<Health> {
      const res = await http.get(`${url}/v2/info`);
      if (res.status !== 200 || typeof res.data?.version !== 'string') return unhealthy(`GET /v2/info answered ${res.status}`);
      return healthy(`${res.data.productName} ${res.data.version} SQL Gateway`);
    },
  };
}
