/**
 * The gridflow command line. Each command lives in src/cli/<command>.ts; this file only dispatches,
 * prints errors as one clear sentence, and maps them to exit codes.
 */
import { ConfigError } from './config';
import { PrerequisiteError } from './stack/fetch';
import { StackError } from './stack/manager';
import { Command, ParsedArgs, UsageError, columns, parseCommandLine } from './cli/args';
import { Out } from './cli/output';
import { STACK_COMMAND, stackCommand } from './cli/stack';
import { WORKER_COMMAND, workerCommand } from './cli/worker';
import { PIPELINE_COMMANDS, pipelineCommand } from './cli/pipeline';
import { LOAD_COMMAND, loadCommand } from './cli/load';
import { DEMO_COMMAND, demoCommand } from './cli/demo';
import { VERIFY_COMMAND, verifyCommand } from './cli/verify';
import { DASHBOARD_COMMAND, dashboardCommand } from './cli/dashboard';
import { ALERTS_COMMAND, alertsCommand } from './cli/alerts';
import { TemporalUnavailable } from './cli/common';
import { SpecError } from './core/spec';

/** Every command: its declaration (options, subcommands, help) and what runs it. */
export const COMMANDS: ReadonlyArray<{ def: Command; run: (args: ParsedArgs, out: Out) => Promise<number> }> = [
  { def: STACK_COMMAND, run: stackCommand },
  { def: WORKER_COMMAND, run: workerCommand },
  { def: PIPELINE_COMMANDS, run: (args, out) => pipelineCommand(args.positionals[0], args, out) },
  { def: LOAD_COMMAND, run: loadCommand },
  { def: DEMO_COMMAND, run: demoCommand },
  { def: VERIFY_COMMAND, run: verifyCommand },
  { def: DASHBOARD_COMMAND, run: dashboardCommand },
  { def: ALERTS_COMMAND, run: alertsCommand },
];

/** The words that start a command: `stack`, …, and each pipeline command (`deploy`, `status`, …). */
export const words = (def: Command) => (def.name ? [def.name] : def.subcommands.map((s) => s.name));

function entry(def: Command): string {
  if (!def.name) return def.subcommands.map((s) => s.name).join(' | ');
  const subs = def.subcommands.filter((s) => s.name).map((s) => s.name);
  if (subs.length) return `${def.name} ${def.subcommands.some((s) => !s.name) ? `[${subs.join('|')}]` : subs.join('|')}`;
  const required = Object.entries(def.options).filter(([, d]) => d.required);
  return [def.name, ...required.map(([name, d]) => `--${name} ${d.value ?? 'N'}`)].join(' ');
}

const HELP = `gridflow — deploys and operates the SGCC real-time warehouse on Temporal
(PostgreSQL CDC → Flink SQL → Fluss DWD/DWS/ADS → PostgreSQL)

Usage: gridflow <command> [options]
       gridflow <command> --help (or gridflow help <command>): its subcommands and options

Commands:
${columns(COMMANDS.map(({ def }) => [entry(def), def.title]), 30)}

Every command takes --json (machine-readable output on stdout; progress stays on stderr) and -h/--help.
Exit codes: 0 ok, 1 failed, 2 usage error, 3 missing prerequisite or configuration.`;

const COMMAND_WORDS = COMMANDS.flatMap(({ def }) => words(def));

export async function main(argv: string[]): Promise<number> {
  let out = new Out(false);
  try {
    // Before the command only what every command takes: the rest belongs to a command, after it.
    const at = argv.findIndex((a) => !a.startsWith('-') || a === '--');
    const leading = at < 0 ? argv : argv.slice(0, at);
    const stray = leading.filter((a) => !['--json', '-h', '--help'].includes(a));
    if (stray.length) throw new UsageError(`unknown option ${stray.join(', ')} before the command (a command's options go after it: gridflow <command> [options])`);
    const command = at < 0 || argv[at] === '--' ? undefined : argv[at];
    if (!command) return out.help(HELP, leading.some((a) => a !== '--json') ? 0 : 2);
    if (command === 'help') {
      const topic = argv.slice(at + 1).find((a) => !a.startsWith('-'));
      const found = topic && COMMANDS.find(({ def }) => words(def).includes(topic));
      if (topic && !found) throw new UsageError(`unknown command ${topic} (commands: ${COMMAND_WORDS.join(', ')}; gridflow --help)`);
      return found ? await found.run({ positionals: [topic], flags: { help: true } }, out) : out.help(HELP);
    }
    const found = COMMANDS.find(({ def }) => words(def).includes(command));
    if (!found) throw new UsageError(`unknown command ${command} (commands: ${COMMAND_WORDS.join(', ')}; gridflow --help)`);
    const args = parseCommandLine(found.def, argv);
    out = new Out(args.flags.json === true);
    return await found.run(args, out);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      process.stderr.write(`gridflow: ${message}\n${err.usage ? `${err.usage}\n` : ''}`);
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
