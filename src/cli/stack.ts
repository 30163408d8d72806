/** `gridflow stack ...` */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config';
import { connectorJars } from '../stack/fetch';
import { addTaskManager, createContext, logFileOf, stackDown, stackStatus, stackUp } from '../stack/manager';
import { runSupervisor } from '../stack/supervisor';
import { ParsedArgs, UsageError, bind, defineCommand } from './args';
import { Out } from './output';

export const STACK_COMMAND = defineCommand({
  name: 'stack',
  title: 'the local stack: PostgreSQL ×2, ZooKeeper, Fluss, Flink, Temporal',
  options: {
    purge: { type: 'boolean', description: 'also delete data, logs and credentials' },
    n: { type: 'integer', value: 'N', min: 1, default: 100, description: 'lines of the log to show' },
    follow: { type: 'boolean', short: 'f', description: 'keep printing what the log gets' },
    out: { type: 'string', value: 'DIR', required: true, description: 'where to copy the jars' },
  },
  subcommands: [
    {
      name: 'up',
      args: '[component...]',
      maxArgs: Infinity,
      summary: 'fetch what is missing (once), start, wait until healthy; then the supervisor restarts any component (and the detached worker) that exits',
      options: [],
    },
    { name: 'down', summary: 'stop the supervisor, the detached worker and dashboard, then every component', options: ['purge'] },
    { name: 'status', summary: 'component, pid, address, health, memory, restarts (worker and dashboard too)', options: [] },
    { name: 'supervise', summary: 'the supervisor itself, in the foreground (stack up runs it detached)', options: [] },
    { name: 'logs', args: '[component]', maxArgs: 1, summary: "show a component's log (without a component: where the logs are)", options: ['n', 'follow'] },
    { name: 'add-taskmanager', summary: 'start one more Flink TaskManager (more task slots)', options: [] },
    { name: 'jars', summary: 'copy the pinned connector jars to DIR (for docker/compose.yml)', options: ['out'] },
  ],
  notes: `Environment:
  GRIDFLOW_HOME        stack folder (default: <repo>/.gridflow): data, configs, logs, pid files
  GRIDFLOW_CACHE       downloads (default: ~/.cache/gridflow): Maven jars, the Temporal CLI
  GRIDFLOW_TASKMANAGERS, GRIDFLOW_SLOTS_PER_TASKMANAGER, GRIDFLOW_TASKMANAGER_MEMORY, GRIDFLOW_JOBMANAGER_MEMORY
  GRIDFLOW_FLUSS_TABLETS Fluss tablet servers (default 3: a small production-like cluster whose
                       tables keep 3 copies and survive a tablet server's loss; 1 for a smaller
                       stack). Remembered by the stack until stack down --purge.
  GRIDFLOW_FLUSS_REPLICATION  replication factor of new Fluss tables (default min(tablet servers, 3))
  GRIDFLOW_TEMPORAL_BIN  use this Temporal CLI binary instead of fetching one

Exit codes: 0 ok, 1 a component failed (its log tail is printed), 2 usage error, 3 missing prerequisite.`,
  examples: ['gridflow stack up', 'gridflow stack status', 'gridflow stack logs flink-jobmanager -n 200 -f', 'gridflow stack down --purge'],
});

export async function stackCommand(args: ParsedArgs, out: Out): Promise<number> {
  const call = bind(STACK_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const { sub, args: rest } = call;
  const config = loadConfig();
  const ctx = createContext(config, (m) => out.progress(m));
  switch (sub) {
    case 'up': {
      out.progress(`stack folder ${config.home}; downloads cached in ${config.cacheDir}`);
      const result = await stackUp(ctx, rest.length ? rest : undefined);
      const summary = result.started.length
        ? `stack up in ${result.seconds.toFixed(1)} s: started ${result.started.join(', ')}` +
          (result.alreadyRunning.length ? `; already running: ${result.alreadyRunning.join(', ')}` : '')
        : `stack already up: all ${result.alreadyRunning.length} components were running and healthy; nothing started`;
      out.result(result, summary);
      out.text(
        `\n  Flink UI     ${config.flink.restUrl}\n  Temporal UI  http://${config.stack.host}:${config.stack.ports.temporalUi}\n  logs         ${ctx.layout.logs}`,
      );
      return 0;
    }
    case 'supervise': {
      await runSupervisor(ctx, (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
      return 0;
    }
    case 'down':
      await stackDown(ctx, { purge: call.values.purge });
      out.progress('stack down');
      return 0;
    case 'status': {
      const rows = await stackStatus(ctx);
      const mb = (b: number | null) => (b === null ? '-' : `${Math.round(b / 1048576)} MiB`);
      out.table(
        rows,
        ['component', 'pid', 'address', 'status', 'rss', 'restarts', 'detail'],
        (r) => [r.component, r.pid === null ? '-' : String(r.pid), r.address, r.status, mb(r.rssBytes), String(r.restarts), r.supervision ? `${r.detail} [${r.supervision}]` : r.detail],
      );
      const total = rows.reduce((s, r) => s + (r.rssBytes ?? 0), 0);
      if (!out.json) out.text(`total RSS ${mb(total)}`);
      return rows.every((r) => r.status === 'healthy' || r.status === 'external' || r.status === 'not started') ? 0 : 1;
    }
    case 'logs': {
      const component = rest[0];
      if (!component) {
        out.text(`logs are in ${ctx.layout.logs}; one per component:`);
        for (const r of await stackStatus(ctx)) out.text(`  ${r.component.padEnd(18)} ${r.log}`);
        return 0;
      }
      const files = logFileOf(ctx, component);
      const lines = call.values.n;
      const follow = call.values.follow;
      const child = spawn('tail', ['-n', String(lines), ...(follow ? ['-F'] : []), ...files], { stdio: 'inherit' });
      return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
    }
    case 'add-taskmanager': {
      const name = await addTaskManager(ctx);
      out.result({ taskManager: name }, `${name} is up`);
      return 0;
    }
    case 'jars': {
      const dir = call.values.out;
      fs.mkdirSync(dir, { recursive: true });
      const copied = connectorJars(ctx.artifacts()).map((jar) => {
        const target = path.join(dir, path.basename(jar));
        fs.copyFileSync(jar, target);
        return target;
      });
      out.result(copied, `copied ${copied.length} connector jars to ${dir}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown stack command ${sub}`);
  }
}
