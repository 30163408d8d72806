/**
 * Apache Fluss: one coordinator and one or more tablet servers (fluss-tablet-0, -1, …) from the shaded
 * fluss-server jar, each with its own data.dir and the shared remote.data.dir. Health asks the
 * coordinator over Fluss RPC which servers are registered.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Component, StackContext } from '../component';
import { Health, healthy, unhealthy } from '../health';
import { readPid } from '../process';
import { startJava } from './java';

interface FlussServerNode {
  type: 'COORDINATOR' | 'TABLET_SERVER';
  id: number;
  address: string;
}

/** Parse FlussProbe output lines: "<COORDINATOR|TABLET_SERVER> <id> <host>:<port>". */
export function parseProbeOutput(text: string): FlussServerNode[] {
  const nodes: FlussServerNode[] = [];
  for (const line of text.split('\n')) {
    const m = /^(COORDINATOR|TABLET_SERVER) (-?\d+) (\S+)$/.exec(line.trim());
    if (m) nodes.push({ type: m[1] as FlussServerNode['type'], id: Number(m[2]), address: m[3] });
  }
  return nodes;
}

function probeFluss(ctx: StackContext, bootstrap: string): Promise<FlussServerNode[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      ['-Xmx64m', '-XX:TieredStopAtLevel=1', '-cp', ctx.artifacts().flussProbeClasspath.join(':'), 'FlussProbe', bootstrap],
      { timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const reason = stderr.split('\n').filter((l) => l && !l.startsWith('SLF4J')).pop() ?? err.message;
          reject(new Error(`Fluss at ${bootstrap}: ${reason}`));
        } else {
          resolve(parseProbeOutput(stdout));
        }
      },
    );
  });
}

type Role = 'coordinator' | 'tablet';

const flussTabletName = (index: number) => `fluss-tablet-${index}`;

/** Server settings beside the addresses, identical in docker/compose.yml (test/unit/stack/compose.test.ts). */
export const FLUSS_SERVER_TUNING = ['log.replica.fetch.wait-max-time: 100ms'];

/** The default.replication.factor a running Fluss server was started with (from its server.yaml). */
export function startedReplicationFactor(flussDir: string, name: string): number | undefined {
  try {
    const m = /^default\.replication\.factor: (\d+)$/m.exec(fs.readFileSync(path.join(flussDir, name, 'conf', 'server.yaml'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function flussComponent(
  role: Role,
  opts: {
    host: string;
    port: number;
    coordinatorPort: number;
    zookeeperPort: number;
    home: string;
    /** The tablet server's id (tablets only). */
    index?: number;
    /** default.replication.factor of new tables: the coordinator's setting is the one that counts. */
    replicationFactor: number;
  },
): Component {
  const index = opts.index ?? 0;
  const name = role === 'coordinator' ? 'fluss-coordinator' : flussTabletName(index);
  const bootstrap = `${opts.host}:${opts.coordinatorPort}`;
  return {
    name,
    address: `${opts.host}:${opts.port}`,
    logFile: path.join(opts.home, 'logs', `${name}.log`),
    dataDirs: [path.join(opts.home, 'fluss')],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),

    async start(ctx) {
      const confDir = path.join(ctx.layout.fluss, name, 'conf');
      fs.mkdirSync(confDir, { recursive: true });
      fs.mkdirSync(ctx.layout.flussRemote, { recursive: true });
      const lines = [
        `zookeeper.address: ${opts.host}:${opts.zookeeperPort}`,
        `bind.listeners: FLUSS://${opts.host}:${opts.port}`,
        `data.dir: ${path.join(ctx.layout.fluss, name, 'data')}`,
        `remote.data.dir: ${ctx.layout.flussRemote}`,
        'default.bucket.number: 1',
        `default.replication.factor: ${opts.replicationFactor}`,
        // Snapshots of primary-key tables go to remote.data.dir; a short interval keeps restarts quick.
        'kv.snapshot.interval: 1min',
        // With three copies a write is visible to readers once the followers have fetched it (the high
        // watermark). Fluss 0.9 does not answer a waiting fetch when records arrive (apache/fluss#3455),
        // so a follower waits out this timeout (default 500ms) before it sees a write: every Fluss hop of
        // the pipeline waited for it. 100ms, like the clients' client.scanner.log.fetch.wait-max-time.
        ...FLUSS_SERVER_TUNING,
      ];
      if (role === 'tablet') lines.push(`tablet-server.id: ${index}`);
      fs.writeFileSync(path.join(confDir, 'server.yaml'), `${lines.join('\n')}\n`);
      startJava(ctx, {
        component: name,
        mainClass:
          role === 'coordinator'
            ? 'org.apache.fluss.server.coordinator.CoordinatorServer'
            : 'org.apache.fluss.server.tablet.TabletServer',
        classpath: ctx.artifacts().flussClasspath,
        writes: [ctx.layout.fluss],
        jvmArgs: role === 'coordinator' ? ['-Xms128m', '-Xmx384m'] : ['-Xms256m', '-Xmx768m', '-XX:MaxDirectMemorySize=512m'],
        args: ['--configDir', confDir],
      });
    },

    async health(ctx): Promise<Health> {
      let nodes: FlussServerNode[];
      try {
        nodes = await probeFluss(ctx, bootstrap);
      } catch (err) {
        // The client got the coordinator's metadata answer, which lists no tablet server yet: the
        // coordinator itself is serving (the tablet server starts after it).
        if (role === 'coordinator' && /Alive tablet server is empty/.test(String(err))) {
          return healthy('COORDINATOR answers (no tablet server registered yet)');
        }
        throw err;
      }
      const want = role === 'coordinator' ? 'COORDINATOR' : 'TABLET_SERVER';
      const me = nodes.find((n) => n.type === want && n.address === `${opts.host}:${opts.port}`);
      if (!me) return unhealthy(`not registered yet (coordinator lists: ${nodes.map((n) => `${n.type} ${n.address}`).join(', ') || 'nothing'})`);
      return healthy(`${want} ${me.id} registered (${nodes.length} servers)`);
    },
  };
}
