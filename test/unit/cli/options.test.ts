/**
 * Options declared per command (src/cli/args.ts): util.parseArgs tokenizes with them, bind() checks them
 * against the subcommand, and --help is generated from them. Most checks go through the pure functions:
 * a regression must not start anything (a `demo` or `stack down` that was meant to print help).
 */
import { COMMANDS, main, words } from '../../../src/cli';
import { Command, UsageError, bind, defineCommand, optionLabel, parseCommandLine } from '../../../src/cli/args';
import { DEMO_COMMAND } from '../../../src/cli/demo';
import { PIPELINE_COMMANDS } from '../../../src/cli/pipeline';
import { STACK_COMMAND } from '../../../src/cli/stack';
import { VERIFY_COMMAND } from '../../../src/cli/verify';

/** The words that select each (sub)command: ['stack', 'logs'], ['deploy'], ['worker'] (bare), … */
const invocations = (def: Command) => def.subcommands.map((sub) => ({ sub, words: [def.name, sub.name].filter(Boolean) }));

const parse = (def: Command, argv: string[]) => bind(def, parseCommandLine(def, argv));

/** A value an option accepts, so that only the option's name can be the problem. */
const sample = (def: Command, name: string) => {
  const d = def.options[name];
  if (d.type === 'boolean') return [];
  if (d.type === 'integer') return [String(Math.max(d.min ?? 0, 1))];
  return [d.choices?.[0] ?? (name === 'every' ? '5m' : 'x')];
};

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const err: string[] = [];
  const out: string[] = [];
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  try {
    return { code: await main(argv), stdout: out.join(''), stderr: err.join('') };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

describe('generated help', () => {
  test.each(COMMANDS.map(({ def }) => [words(def)[0], def] as const))('gridflow %s --help lists every option of its declaration', (_word, def) => {
    for (const { sub, words: w } of invocations(def)) {
      const call = parse(def, [...w, '--help']);
      expect(call).toMatchObject({ kind: 'help', code: 0 });
      const text = call.kind === 'help' ? call.text : '';
      const flat = text.replace(/\s+/g, ' ');
      for (const name of sub.options) {
        expect(text).toContain(optionLabel(name, def.options[name]));
        expect(flat).toContain(def.options[name].description);
      }
      expect(text).toContain('--json');
      expect(text).toContain('-h, --help');
    }
    // The command's own help (no subcommand named): every option it declares, once.
    if (def.name) {
      const call = parse(def, [def.name, '-h']);
      const text = call.kind === 'help' ? call.text : '';
      for (const [name, d] of Object.entries(def.options)) expect(text.split(`  ${optionLabel(name, d)} `)).toHaveLength(2);
    }
  });

  test('a subcommand\'s help: its usage line with value names, aligned descriptions, defaults, its examples', () => {
    const call = parse(STACK_COMMAND, ['stack', 'logs', '--help']);
    const text = call.kind === 'help' ? call.text : '';
    expect(text).toContain('Usage: gridflow stack logs [component] [-n N] [-f]');
    expect(text).toContain(['Options:', '  -n N          lines of the log to show (default 100)', '  -f, --follow  keep printing what the log gets', '  --json  '].join('\n'));
    expect(text).toContain('gridflow stack logs flink-jobmanager -n 200 -f');
    expect(text).not.toMatch(/^ {2}--purge/m);
  });

  test('required options are not in brackets; choices are listed', () => {
    const help = parse(PIPELINE_COMMANDS, ['redeploy', '--help']);
    // Columns wrap at the terminal width: compare with the whitespace folded.
    const folded = help.kind === 'help' ? help.text.replace(/\s+/g, ' ') : '';
    expect(folded).toContain(' --mode MODE how the jobs move to the new spec: savepoint or last-state (default savepoint) ');
    expect(folded).toContain(': savepoint or blue-green (default: the spec\'s redeploy.strategy) ');
    const top = COMMANDS.find(({ def }) => def.name === 'load')!.def;
    const load = parse(top, ['load', '--help']);
    expect(load.kind === 'help' && load.text).toContain('Usage: gridflow load --rate N --duration S [--seed N]');
  });

  test('demo --help is help (the demo never checked it, and ran)', () => {
    expect(parse(DEMO_COMMAND, ['demo', '--help'])).toMatchObject({ kind: 'help', code: 0 });
    expect(parse(DEMO_COMMAND, ['demo', '-h', '--rate', '0'])).toMatchObject({ kind: 'help', code: 0 });
  });

  test('gridflow --help lists every command from the one table; help <command> is the command\'s help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const { def } of COMMANDS) for (const w of words(def)) expect(top.stdout).toContain(w);
    expect(top.stdout).toMatch(/^ {2}deploy \| status \| redeploy \| rollback \| repair \| pause \| resume \| savepoint \| decommission/m);
    const verify = await run(['help', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^gridflow verify — /);
    expect(await run([])).toMatchObject({ code: 2 });
    expect(await run(['help', 'frob'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command frob/) });
  });
});

describe('per-command options', () => {
  test('an option of one command is refused by every command that does not declare it, by name', () => {
    const all = COMMANDS.flatMap(({ def }) => Object.keys(def.options).map((name) => ({ from: def, name })));
    let checked = 0;
    for (const { def } of COMMANDS) {
      for (const { sub, words: w } of invocations(def)) {
        for (const { from, name } of all) {
          if (sub.options.includes(name)) continue;
          const flag = name.length === 1 ? `-${name}` : `--${name}`;
          expect(() => parse(def, [...w, flag, ...sample(from, name)])).toThrow(new UsageError(`unknown option ${flag}`));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  test('--rate, a valued option of load, means nothing to status (the bug of one global list of valued flags)', async () => {
    const r = await run(['status', '--rate', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gridflow: unknown option --rate\nusage: gridflow status \[--name NAME\]/);
  });

  test.each([
    [['verify', 'history', '--timeout', '5'], /unknown option --timeout\nusage: gridflow verify history \[-n N\]/],
    [['stack', 'logs', '--purge'], /unknown option --purge\nusage: gridflow stack logs/],
    [['alerts', 'status', '--timeout=5'], /unknown option --timeout/],
    [['worker', 'status', '-x'], /unknown option -x/],
    [['--name', 'sgcc', 'status'], /unknown option --name before the command/],
  ])('gridflow %j → exit 2, naming the option', async (argv, message) => {
    const r = await run(argv);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  test('every option of a subcommand is accepted, as --key value and --key=value', () => {
    for (const { def } of COMMANDS) {
      for (const { sub, words: w } of invocations(def)) {
        const spaced = sub.options.flatMap((name) => [name.length === 1 ? `-${name}` : `--${name}`, ...sample(def, name)]);
        const joined = sub.options.map((name) => `--${name}${sample(def, name).map((v) => `=${v}`).join('')}`);
        const extra = Array.from({ length: Math.min(sub.maxArgs ?? 0, 1) }, () => 'arg');
        for (const argv of [spaced, joined]) {
          const call = parse(def, [...w, ...argv, ...extra, '--json']);
          expect(call).toMatchObject({ kind: 'run', sub: sub.name });
          if (call.kind === 'run') expect(call.values.json).toBe(true);
        }
      }
    }
  });
});

describe('values', () => {
  test('typed, defaulted, checked against the declaration with a message naming the option', () => {
    const history = parse(VERIFY_COMMAND, ['verify', 'history', '-n', '20']);
    expect(history).toMatchObject({ kind: 'run', sub: 'history', values: { n: 20, timeout: 600, every: '5m', json: false } });
    expect(parse(VERIFY_COMMAND, ['verify', 'history', '-n20'])).toMatchObject({ values: { n: 20 } });
    expect(parse(STACK_COMMAND, ['stack', 'logs', 'temporal', '-f'])).toMatchObject({ args: ['temporal'], values: { follow: true, n: 100 } });
    expect(() => parse(VERIFY_COMMAND, ['verify', 'history', '-n', '0'])).toThrow(new UsageError('-n must be an integer ≥ 1, got "0"'));
    expect(() => parse(VERIFY_COMMAND, ['verify', 'now', '--timeout', '1e3'])).toThrow('--timeout must be an integer ≥ 1, got "1e3"');
    expect(() => parse(PIPELINE_COMMANDS, ['redeploy', '--mode', 'yolo'])).toThrow('--mode must be one of savepoint, last-state, got "yolo"');
    expect(() => parse(STACK_COMMAND, ['stack', 'jars'])).toThrow('stack jars needs --out DIR');
  });

  test('a missing value, a value given to a switch, a stray argument', () => {
    expect(() => parse(VERIFY_COMMAND, ['verify', 'now', '--timeout'])).toThrow(new UsageError('--timeout needs a value'));
    expect(() => parse(VERIFY_COMMAND, ['verify', 'now', '--name', '--json'])).toThrow(new UsageError('--name needs a value'));
    expect(() => parse(STACK_COMMAND, ['stack', 'down', '--purge=yes'])).toThrow(new UsageError('--purge takes no value'));
    expect(() => parse(STACK_COMMAND, ['stack', 'down', 'now'])).toThrow('stack down takes no further arguments; got "now"');
    expect(() => parse(STACK_COMMAND, ['stack', 'logs', 'a', 'b'])).toThrow('stack logs takes at most 1 argument; got "b"');
    expect(() => parse(PIPELINE_COMMANDS, ['pause', 'sgcc'])).toThrow('pause takes no arguments; got "sgcc"');
  });

  test('a command that needs a subcommand prints its help with exit code 2 when given none', () => {
    expect(parse(STACK_COMMAND, ['stack'])).toMatchObject({ kind: 'help', code: 2 });
    expect(() => parse(STACK_COMMAND, ['stack', 'explode'])).toThrow(/unknown stack command explode \(up, down, status, supervise, logs, add-taskmanager, jars\)/);
  });

  test('a declaration naming an option it does not declare, or two options sharing a letter, is refused', () => {
    expect(() => defineCommand({ name: 'x', title: 't', options: { a: { type: 'boolean', description: 'a' } }, subcommands: [{ name: '', summary: 's', options: ['b' as 'a'] }] })).toThrow(
      'x: option b is not declared',
    );
    expect(() =>
      defineCommand({
        name: 'x',
        title: 't',
        options: { hold: { type: 'boolean', short: 'h', description: 'h' } },
        subcommands: [{ name: '', summary: 's', options: ['hold'] }],
      }),
    ).toThrow('two options share a short name');
  });
});
