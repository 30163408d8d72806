/** A small, strict argument parser: positionals, --flag, --key value / --key=value, -h. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * @param valued flags that take a value (everything else is boolean).
 */
export function parseArgs(argv: string[], valued: string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.help = true;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (valued.includes(name)) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
        flags[name] = value;
      } else {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        flags[name] = true;
      }
    } else if (/^-[a-z]$/.test(arg) && valued.includes(arg.slice(1))) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags[arg.slice(1)] = value;
    } else if (/^-[a-z]$/.test(arg)) {
      flags[arg.slice(1)] = true;
    } else {
      positionals.push(arg);
    }
  }
  return { positionals, flags };
}

/** Reject flags a command does not know, naming them (a typo must not be silently ignored). */
export function allowFlags(args: ParsedArgs, allowed: string[]): void {
  const unknown = Object.keys(args.flags).filter((f) => f !== 'help' && !allowed.includes(f));
  if (unknown.length) throw new UsageError(`unknown option ${unknown.map((f) => (f.length === 1 ? `-${f}` : `--${f}`)).join(', ')}`);
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
