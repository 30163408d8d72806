/**
 * The gridflow command line. Each command lives in src/cli/<command>.ts; this file only dispatches,
 * prints errors as one clear sentence, and maps them to exit codes.
 */
import { ConfigError } from './config';
import { PrerequisiteError } from './stack/fetch';
import { StackError } from './stack/manager';
import { UsageError, parseArgs } from './cli/args';
import { Out } from './cli/output';
import { stackCommand } from './cli/stack';
import { workerCommand } from './cli/worker';
import { pipelineCommand } from './cli/pipeline';
import { loadCommand } from './cli/load';
import { demoCommand } from './cli/demo';
import { verifyCommand } from './cli/verify';
import { dashboardCommand } from './cli/dashboard';
import { alertsCommand } from './cli/alerts';
import { TemporalUnavailable } from './cli/common';
import { SpecError } from './core/spec';

const HELP = `gridflow — deploys and operates the SGCC real-time warehouse on Temporal
(PostgreSQL CDC → Flink SQL → Fluss DWD/DWS/ADS → PostgreSQL)

Usage: gridflow <command> [options]

Commands:
  stack up|down|status|logs|add-taskmanager|jars   the local stack (gridflow stack --help)
  worker [start|stop|status]                        run the gridflow worker (gridflow worker --help)
  deploy | status | redeploy | pause | resume | savepoint | decommission
                                                    operate a pipeline (gridflow deploy --help)
  load --rate N --duration S [--seed N]             write a realistic mix of changes into the source
  demo                                              the whole thing: stack, worker, SGCC pipeline, data, results
  verify schedule|now|history|unschedule           check the sink against the contract, freshness, slots (gridflow verify --help)
  dashboard [start|stop|status]                     the grid's live page and the pipeline's page on :8090 (gridflow dashboard --help)
  alerts status|test                                the pipeline's alerts: what holds, what waits for delivery (gridflow alerts --help)

Options: --json (machine-readable output on stdout; progress stays on stderr), -h/--help.
Exit codes: 0 ok, 1 failed, 2 usage error, 3 missing prerequisite or configuration.`;

const VALUED = ['n', 'out', 'rate', 'duration', 'every', 'spec', 'jobs', 'timeout', 'limit', 'seed', 'name', 'mode', 'reason', 'request-id', 'host', 'port', 'text'];

export async function main(argv: string[]): Promise<number> {
  let out = new Out(false);
  try {
    const args = parseArgs(argv, VALUED);
    out = new Out(args.flags.json === true);
    const command = args.positionals[0];
    if (!command) {
      out.text(HELP);
      return args.flags.help ? 0 : 2;
    }
    switch (command) {
      case 'help':
        out.text(HELP);
        return 0;
      case 'stack':
        return await stackCommand(args, out);
      case 'worker':
        return await workerCommand(args, out);
      case 'deploy':
      case 'status':
      case 'redeploy':
      case 'pause':
      case 'resume':
      case 'savepoint':
      case 'decommission':
        return await pipelineCommand(command, args, out);
      case 'load':
        return await loadCommand(args, out);
      case 'demo':
        return await demoCommand(args, out);
      case 'verify': return await verifyCommand(args, out);
      case 'dashboard':
        return await dashboardCommand(args, out);
      case 'alerts':
        return await alertsCommand(args, out);
      default:
        throw new UsageError(`unknown command ${command}\n\n${HELP}`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      process.stderr.write(`gridflow: ${message}\n`);
      return 2;
    }
    if (err instanceof SpecError) {
      process.stderr.write(`gridflow: ${message}\n`);
      return 2;
    }
    if (err instanceof PrerequisiteError || err instanceof ConfigError || err instanceof TemporalUnavailable) {
      process.stderr.write(`gridflow: ${message}\n`);
      return 3;
    }
    if (err instanceof StackError) {
      process.stderr.write(`gridflow: ${message}\n`);
      return 1;
    }
    process.stderr.write(`gridflow: ${err instanceof Error && process.env.GRIDFLOW_DEBUG ? err.stack : message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`gridflow: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
