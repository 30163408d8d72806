/** `gridflow stack ...` */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config';
import { connectorJars } from '../stack/fetch';
import { addTaskManager, createContext, logFileOf, stackDown, stackStatus, stackUp } from '../stack/manager';
import { runSupervisor } from '../stack/supervisor';
import { ParsedArgs, UsageError, allowFlags, intFlag } from './args';
import { Out } from './output';

export const STACK_HELP = `gridflow stack — the local stack (PostgreSQL ×2, ZooKeeper, Fluss, Flink + SQL Gateway, Temporal)

Usage:
  gridflow stack up [component...]      fetch what is missing (once), start, wait until healthy; then the
                                        supervisor restarts any component (and the detached worker) that exits
  gridflow stack down [--purge]         stop the supervisor, the detached worker and dashboard, then every component;
                                        --purge also deletes data, logs and credentials
  gridflow stack status [--json]        component, pid, address, health, memory, restarts (worker and dashboard too)
  gridflow stack supervise              the supervisor itself, in the foreground (stack up runs it detached)
  gridflow stack logs [component] [-n N] [-f]
                                        show a component's log (without a component: where the logs are)
  gridflow stack add-taskmanager        start one more Flink TaskManager (more task slots)
  gridflow stack jars --out DIR         copy the pinned connector jars to DIR (for docker/compose.yml)

Environment:
  GRIDFLOW_HOME        stack folder (default: <repo>/.gridflow): data, configs, logs, pid files
  GRIDFLOW_CACHE       downloads (default: ~/.cache/gridflow): Maven jars, the Temporal CLI
  GRIDFLOW_TASKMANAGERS, GRIDFLOW_SLOTS_PER_TASKMANAGER, GRIDFLOW_TASKMANAGER_MEMORY, GRIDFLOW_JOBMANAGER_MEMORY
  GRIDFLOW_FLUSS_TABLETS Fluss tablet servers (default 1; 3 = a small production-like cluster whose
                       tables keep 3 copies and survive a tablet server's loss). Remembered by the
                       stack until stack down --purge.
  GRIDFLOW_FLUSS_REPLICATION  replication factor of new Fluss tables (default min(tablet servers, 3))
  GRIDFLOW_TEMPORAL_BIN  use this Temporal CLI binary instead of fetching one

Exit codes: 0 ok, 1 a component failed (its log tail is printed), 2 usage error, 3 missing prerequisite.`;

export async function stackCommand(args: ParsedArgs, out: Out): Promise<number> {
  const [, sub, ...rest] = args.positionals;
  if (!sub || args.flags.help) {
    out.text(STACK_HELP);
    return sub || args.flags.help ? 0 : 2;
  }
  const config = loadConfig();
  const ctx = createContext(config, (m) => out.progress(m));
  switch (sub) {
    case 'up': {
      allowFlags(args, ['json']);
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
      allowFlags(args, []);
      await runSupervisor(ctx, (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
      return 0;
    }
    case 'down':
      allowFlags(args, ['purge']);
      await stackDown(ctx, { purge: args.flags.purge === true });
      out.progress('stack down');
      return 0;
    case 'status': {
      allowFlags(args, ['json']);
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
      allowFlags(args, ['n', 'f', 'follow']);
      const component = rest[0];
      if (!component) {
        out.text(`logs are in ${ctx.layout.logs}; one per component:`);
        for (const r of await stackStatus(ctx)) out.text(`  ${r.component.padEnd(18)} ${r.log}`);
        return 0;
      }
      const files = logFileOf(ctx, component);
      const lines = intFlag(args, 'n', 100, 1);
      const follow = args.flags.f === true || args.flags.follow === true;
      const child = spawn('tail', ['-n', String(lines), ...(follow ? ['-F'] : []), ...files], { stdio: 'inherit' });
      return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
    }
    case 'add-taskmanager': {
      allowFlags(args, ['json']);
      const name = await addTaskManager(ctx);
      out.result({ taskManager: name }, `${name} is up`);
      return 0;
    }
    case 'jars': {
        allowFlags(args, ['out', 'json']);
      const dir = args.flags.out;
      if (typeof dir !== 'string') throw new UsageError('stack jars needs --out DIR');
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
      throw new UsageError(`unknown stack command ${sub}\n\n${STACK_HELP}`);
  }
}
