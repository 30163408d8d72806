/**
 * Command-line options, declared once per command (a CommandDef: each option's type, short alias,
 * value name, default and description; each subcommand's options and arguments). From that one
 * declaration Node's util.parseArgs tokenizes the command line, bind() checks it against the subcommand
 * given, and the --help text is generated. Only --json and -h/--help belong to every command: an option
 * of one command (--rate, --timeout) means nothing to another, which refuses it by name.
 */
import { parseArgs as tokenizeArgs } from 'node:util';
import { displayWidth } from './output';

/** The command line after tokenizing: words in order, options by long name (a value, or true). */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

export class UsageError extends Error {
  override name = 'UsageError';
  /** A usage line the CLI prints under the message (what the command does accept). */
  usage?: string;

  constructor(message: string, usage?: string) {
    super(message);
    if (usage) this.usage = usage;
  }
}

// ---------------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------------

interface OptionDef {
  readonly type: 'boolean' | 'string' | 'integer';
  readonly description: string;
  /** One letter: -f for --follow. A one-letter option (n) is written -n anyway. */
  readonly short?: string;
  /** The value's name in help and usage lines: FILE, N, S (default: N for integers, the name upper-cased). */
  readonly value?: string;
  /** A string or integer option's value when it is not given; help shows it. */
  readonly default?: string | number;
  /** Help's words for a default decided at run time ("the stack's dashboard port"). */
  readonly defaultText?: string;
  readonly required?: boolean;
  /** Integers: the smallest and largest accepted, and what the error calls the value (default "an integer"). */
  readonly min?: number;
  readonly max?: number;
  readonly kind?: string;
  /** Strings: the only values accepted. */
  readonly choices?: readonly string[];
}

export type OptionDefs = Readonly<Record<string, OptionDef>>;

interface SubcommandDef<K extends string = string> {
  /** The word after the command ('' for the command alone: `gridflow worker`, `gridflow load`). */
  readonly name: string;
  /** What it does: the first line of its help and its entry in the command's help. */
  readonly summary: string;
  /** Names from the command's options that this subcommand takes (--json and --help: always). */
  readonly options: readonly K[];
  /** Its positional arguments in the usage line ("[component...]"), and how many it takes (default 0). */
  readonly args?: string;
  readonly maxArgs?: number;
}

/** A command, whatever its options: what dispatch and help need. */
export interface Command {
  /** The command word; '' when each subcommand is a command of its own (deploy, status, …). */
  readonly name: string;
  /** One line: the top-level help's entry and the head of the command's help. */
  readonly title: string;
  /** Every option of the command, once. */
  readonly options: OptionDefs;
  readonly subcommands: readonly SubcommandDef[];
  /** Prose after the options: what an operator needs beyond them (environment, files, exit codes). */
  readonly notes?: string;
  /** Command lines as typed; a subcommand's help shows those that start with it. */
  readonly examples?: readonly string[];
}

/** A command declared with its options' types (defineCommand), for typed values from bind(). */
interface CommandDef<O extends OptionDefs> extends Command {
  readonly options: O;
  readonly subcommands: readonly SubcommandDef<Extract<keyof O, string>>[];
}

/** Declares a command; the generic keeps each option's type, for the values bind() returns. */
export function defineCommand<O extends OptionDefs>(def: CommandDef<O>): CommandDef<O> {
  for (const sub of def.subcommands) {
    for (const name of sub.options) if (!(name in def.options)) throw new Error(`${path(def, sub)}: option ${name} is not declared`);
  }
  const every: OptionDefs = { ...def.options, ...COMMON_OPTIONS };
  const shorts = Object.entries(every).map(([name, d]) => d.short ?? (name.length === 1 ? name : '')).filter(Boolean);
  if (new Set(shorts).size !== shorts.length) throw new Error(`gridflow ${def.name}: two options share a short name`);
  for (const name of Object.keys(COMMON_OPTIONS)) if (name in def.options) throw new Error(`gridflow ${def.name}: --${name} is every command's`);
  return def;
}

/** Options every command takes. */
const COMMON_OPTIONS = {
  json: { type: 'boolean', description: 'machine-readable output on stdout (progress stays on stderr)' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
} as const satisfies OptionDefs;

type ValueOf<D extends OptionDef> = D['type'] extends 'boolean' ? boolean : D['type'] extends 'integer' ? number : string;
/** The options' values: booleans are false when absent; others undefined unless they have a default. */
export type Values<O extends OptionDefs> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K] extends { default: string | number } | { required: true }
      ? ValueOf<O[K]>
      : ValueOf<O[K]> | undefined;
} & { json: boolean };

/** What the command line asks for: a subcommand to run, or help to print (exit code 0, or 2 when nothing was asked). */
type Invocation<O extends OptionDefs> =
  | { kind: 'run'; sub: string; args: string[]; values: Values<O> }
  | { kind: 'help'; text: string; code: number };

// ---------------------------------------------------------------------------------------------------
// Tokenizing (util.parseArgs) and binding
// ---------------------------------------------------------------------------------------------------

/** How an option is written: -n for one-letter names, --name otherwise. */
const flagName = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

type NodeOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function nodeOptions(defs: OptionDefs): NodeOptions {
  const options: NodeOptions = {};
  for (const [name, d] of Object.entries(defs)) {
    const short = d.short ?? (name.length === 1 ? name : undefined);
    options[name] = { type: d.type === 'boolean' ? 'boolean' : 'string', ...(short ? { short } : {}) };
  }
  return options;
}

/**
 * Tokenize with util.parseArgs (--key value, --key=value, -k value, -kVALUE, -abc, --), then refuse
 * what it lets through in its non-strict mode, naming the option as written: an unknown option (when
 * `known` says so), a missing value (also `--name --json`: a value never starts with --), a value given
 * to a switch. -h/--help anywhere asks for help, and then nothing else is checked.
 */
function tokenize(argv: string[], options: NodeOptions, known: (name: string) => boolean): ParsedArgs {
  const { tokens } = tokenizeArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { positionals, flags: { help: true } };
  const flags: Record<string, string | boolean> = {};
  const unknown: string[] = [];
  let problem: string | undefined;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!known(t.name)) {
      if (!unknown.includes(t.rawName)) unknown.push(t.rawName);
      continue;
    }
    if (options[t.name]?.type === 'string') {
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) problem ??= `${t.rawName} needs a value`;
      else flags[t.name] = t.value;
    } else if (t.value !== undefined) {
      problem ??= `${t.rawName} takes no value`;
    } else {
      flags[t.name] = true;
    }
  }
  if (unknown.length) throw new UsageError(`unknown option ${unknown.join(', ')}`);
  if (problem) throw new UsageError(problem);
  return { positionals, flags };
}

/** The command line of one command: its own options and the common ones, nothing else. */
export function parseCommandLine(def: Command, argv: string[]): ParsedArgs {
  const options = nodeOptions({ ...def.options, ...COMMON_OPTIONS });
  try {
    return tokenize(argv, options, (name) => name in options);
  } catch (err) {
    if (err instanceof UsageError && !err.usage) {
      // The words so far name the subcommand, most likely: show what it takes (else every subcommand's line).
      const word = argv.filter((a) => !a.startsWith('-'))[def.name ? 1 : 0];
      const sub = def.subcommands.find((s) => s.name === word) ?? (def.subcommands.length === 1 ? def.subcommands[0] : undefined);
      err.usage = usage(def, sub);
    }
    throw err;
  }
}

/**
 * The subcommand and its checked values: each option given must be one this subcommand takes, with a
 * value of its type (integers in range, strings among their choices), required ones present, and no
 * more arguments than it takes. The command word(s) lead `parsed.positionals`, as on the command line.
 */
export function bind<O extends OptionDefs>(def: CommandDef<O>, parsed: ParsedArgs): Invocation<O> {
  const words = def.name ? parsed.positionals.slice(1) : parsed.positionals;
  const named = def.subcommands.find((s) => s.name !== '' && s.name === words[0]);
  const bare = def.subcommands.find((s) => s.name === '');
  if (parsed.flags.help) {
    return { kind: 'help', text: named && def.subcommands.length > 1 ? subcommandHelp(def, named) : commandHelp(def), code: 0 };
  }
  // Options first: a misspelt one (--prot 9000) is named, before its value is taken for a subcommand.
  const all: OptionDefs = { ...def.options, ...COMMON_OPTIONS };
  const unknown = Object.keys(parsed.flags).filter((f) => !(f in all));
  if (unknown.length) throw new UsageError(`unknown option ${unknown.map(flagName).join(', ')}`, usage(def));
  if (!named && !bare) {
    if (words[0] === undefined) return { kind: 'help', text: commandHelp(def), code: 2 };
    throw unknownSubcommand(def, words[0]);
  }
  const sub = (named ?? bare)!;
  const args = named ? words.slice(1) : words;
  const line = usage(def, sub);
  const accepted = new Set<string>([...sub.options, ...Object.keys(COMMON_OPTIONS)]);
  const refused = Object.keys(parsed.flags).filter((f) => !accepted.has(f));
  if (refused.length) throw new UsageError(`unknown option ${refused.map(flagName).join(', ')}`, line);
  const max = sub.maxArgs ?? 0;
  if (args.length > max) {
    // A bare command (gridflow worker) given a word it does not know: a misspelt subcommand.
    if (!named && max === 0 && def.subcommands.length > 1) throw unknownSubcommand(def, args[0]);
    const where = path(def, sub);
    const got = `got ${args.slice(max).map((a) => JSON.stringify(a)).join(', ')}`;
    throw new UsageError(
      max === 0 ? `${where} takes no ${where.includes(' ') ? 'further ' : ''}arguments; ${got}` : `${where} takes at most ${max} argument${max === 1 ? '' : 's'}; ${got}`,
      line,
    );
  }
  const values: Record<string, string | number | boolean | undefined> = {};
  const missing: string[] = [];
  for (const [name, d] of Object.entries(all)) {
    const raw = parsed.flags[name];
    if (!accepted.has(name)) {
      // Another subcommand's option: its default, so that every value has the type Values says.
      values[name] = d.type === 'boolean' ? false : d.default;
    } else if (d.type === 'boolean') {
      if (typeof raw === 'string') throw new UsageError(`${flagName(name)} takes no value`, line);
      values[name] = raw === true;
    } else if (raw === undefined) {
      if (d.required) missing.push(`${flagName(name)} ${valueName(name, d)}`);
      values[name] = d.default;
    } else if (typeof raw !== 'string') {
      throw new UsageError(`${flagName(name)} needs a value`, line);
    } else if (d.type === 'integer') {
      values[name] = integer(name, d, raw, line);
    } else {
      if (d.choices && !d.choices.includes(raw)) throw new UsageError(`${flagName(name)} must be one of ${d.choices.join(', ')}, got ${JSON.stringify(raw)}`, line);
      values[name] = raw;
    }
  }
  if (missing.length) throw new UsageError(`${path(def, sub)} needs ${missing.join(' and ')}`, line);
  return { kind: 'run', sub: sub.name, args, values: values as Values<O> };
}

function integer(name: string, d: OptionDef, raw: string, line: string): number {
  const n = Number(raw);
  const min = d.min ?? 0;
  if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || (d.max !== undefined && n > d.max)) {
    const range = d.max === undefined ? `≥ ${min}` : `${min}..${d.max}`;
    throw new UsageError(`${flagName(name)} must be ${d.kind ?? 'an integer'} ${range}, got ${JSON.stringify(raw)}`, line);
  }
  return n;
}

function unknownSubcommand(def: Command, word: string): UsageError {
  const names = def.subcommands.filter((s) => s.name).map((s) => s.name);
  return new UsageError(`unknown ${def.name} command ${word} (${names.join(', ')})`, usage(def));
}

// ---------------------------------------------------------------------------------------------------
// Help, generated from the declarations
// ---------------------------------------------------------------------------------------------------

const WIDTH = 100;

const path = (def: Command, sub: SubcommandDef) => [def.name, sub.name].filter(Boolean).join(' ');

const valueName = (name: string, d: OptionDef) => d.value ?? (d.type === 'integer' ? 'N' : name.toUpperCase());

/** `-f, --follow`, `-n N`, `--spec FILE`. */
export function optionLabel(name: string, d: OptionDef): string {
  const short = d.short && d.short !== name ? `-${d.short}, ` : '';
  return `${short}${flagName(name)}${d.type === 'boolean' ? '' : ` ${valueName(name, d)}`}`;
}

function optionText(d: OptionDef): string {
  const choices = d.choices ? `: ${d.choices.join(' or ')}` : '';
  const fallback = d.defaultText ?? (d.default !== undefined ? String(d.default) : undefined);
  // "(default 100)", "(default: the local stack's SGCC pipeline)"
  return `${d.description}${choices}${fallback === undefined ? '' : ` (default${fallback.includes(' ') ? ':' : ''} ${fallback})`}`;
}

/** The usage line of a subcommand: `gridflow verify now [--spec FILE] [--timeout S] [--name NAME]`. */
function synopsis(def: Command, sub: SubcommandDef): string {
  const parts = [`gridflow ${path(def, sub)}`.trimEnd()];
  if (sub.args) parts.push(sub.args);
  for (const name of sub.options) {
    const d = def.options[name];
    const written = `${d.short ? `-${d.short}` : flagName(name)}${d.type === 'boolean' ? '' : ` ${valueName(name, d)}`}`;
    parts.push(d.required ? written : `[${written}]`);
  }
  return parts.join(' ');
}

/** The usage line(s) an error prints: the subcommand's, or every subcommand's. */
function usage(def: Command, sub?: SubcommandDef): string {
  const more = `gridflow ${sub && def.subcommands.length > 1 ? path(def, sub) : def.name || sub?.name || ''} --help`.replace(/ +/g, ' ');
  const lines = (sub ? [sub] : def.subcommands).map((s) => synopsis(def, s));
  return `${lines.length === 1 ? `usage: ${lines[0]}` : `usage:\n${lines.map((l) => `  ${l}`).join('\n')}`}\n(more: ${more})`;
}

/** Words wrapped to `width` columns after `indent` spaces; explicit line breaks are kept. */
function wrap(text: string, indent: number, width = WIDTH): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && indent + displayWidth(line) + 1 + displayWidth(word) > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Two columns: terms (padded to the longest, up to `max`) and their wrapped descriptions. */
export function columns(rows: Array<[string, string]>, max = 28): string {
  const width = Math.min(max, Math.max(...rows.map(([term]) => displayWidth(term))));
  const indent = 2 + width + 2;
  const out: string[] = [];
  for (const [term, text] of rows) {
    const body = wrap(text, indent);
    const fits = displayWidth(term) <= width;
    out.push(`  ${term}${fits ? `${' '.repeat(width - displayWidth(term))}  ${body.shift() ?? ''}` : ''}`.trimEnd());
    for (const line of body) out.push(`${' '.repeat(indent)}${line}`);
  }
  return out.join('\n');
}

function optionTable(def: Command, names: readonly string[]): string {
  const all: OptionDefs = { ...def.options, ...COMMON_OPTIONS };
  return columns([...names, ...Object.keys(COMMON_OPTIONS)].map((name) => [optionLabel(name, all[name]), optionText(all[name])]));
}

function block(title: string, body: string | undefined): string[] {
  return body ? [`${title}:`, body] : [];
}

/** `gridflow <command> --help`: every subcommand's usage and summary, every option once, then the notes. */
function commandHelp(def: Command): string {
  const [only] = def.subcommands.length === 1 ? def.subcommands : [];
  const uses = only
    ? [`Usage: ${synopsis(def, only)}`, '', ...wrap(only.summary, 0)]
    : ['Usage:', ...def.subcommands.flatMap((s) => [`  ${synopsis(def, s)}`, ...wrap(s.summary, 6).map((l) => `      ${l}`)])];
  const names = [...new Set(def.subcommands.flatMap((s) => s.options))];
  const parts = [
    wrap(`gridflow ${def.name} — ${def.title}`.replace('gridflow  — ', 'gridflow — '), 0).join('\n'),
    uses.join('\n'),
    ['Options:', optionTable(def, names)].join('\n'),
    def.notes,
    def.examples?.length ? ['Examples:', ...def.examples.map((e) => `  ${e}`)].join('\n') : undefined,
  ];
  return parts.filter(Boolean).join('\n\n');
}

/** `gridflow <command> <subcommand> --help`: its usage line, summary, options, the command's notes. */
function subcommandHelp(def: Command, sub: SubcommandDef): string {
  const examples = (def.examples ?? []).filter((e) => e === `gridflow ${path(def, sub)}` || e.startsWith(`gridflow ${path(def, sub)} `));
  const others = def.subcommands.filter((s) => s !== sub && s.name).map((s) => s.name);
  const parts = [
    wrap(`gridflow ${path(def, sub)} — ${sub.summary}`, 0).join('\n'),
    `Usage: ${synopsis(def, sub)}`,
    block('Options', optionTable(def, sub.options)).join('\n'),
    def.notes,
    examples.length ? ['Examples:', ...examples.map((e) => `  ${e}`)].join('\n') : undefined,
    others.length ? `See also: ${others.map((o) => [def.name, o].filter(Boolean).join(' ')).join(', ')}${def.name ? ` (gridflow ${def.name} --help)` : ''}` : undefined,
  ];
  return parts.filter(Boolean).join('\n\n');
}

// ---------------------------------------------------------------------------------------------------
// For scripts that parse their own flags (bench/): no declarations, every option they name takes a value
// ---------------------------------------------------------------------------------------------------

/** @param valued flags that take a value (everything else is a switch). */
export function parseArgs(argv: string[], valued: string[] = []): ParsedArgs {
  const options: NodeOptions = { help: { type: 'boolean', short: 'h' } };
  for (const name of valued) options[name] = { type: 'string', ...(name.length === 1 ? { short: name } : {}) };
  return tokenize(argv, options, () => true);
}

/** Reject flags a script does not know, naming them (a typo must not be silently ignored). */
export function allowFlags(args: ParsedArgs, allowed: string[]): void {
  const unknown = Object.keys(args.flags).filter((f) => f !== 'help' && !allowed.includes(f));
  if (unknown.length) throw new UsageError(`unknown option ${unknown.map(flagName).join(', ')}`);
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
