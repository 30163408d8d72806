import { redact, redactDeep } from '../core/redact';
import { knownSecrets } from '../secrets';
/**
 * Output discipline: progress goes to stderr (so `--json` stdout stays machine-readable), results to
 * stdout as text or JSON.
 */
/** Everything the CLI prints passes the redactor (src/core/redact.ts) with the secrets it resolved. */
const clean = (text: string) => redact(text, knownSecrets());

export class Out {
  constructor(readonly json: boolean, private readonly quiet = false) {}

  progress(message: string): void {
    if (!this.quiet) process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${clean(message)}\n`);
  }

  text(message: string): void {
    if (!this.json) process.stdout.write(`${clean(message)}\n`);
  }

  /** Help goes to stdout whatever --json says; returns the exit code to end with. */
  help(text: string, code = 0): number {
    process.stdout.write(`${text}\n`);
    return code;
  }

  result(value: unknown, summary: string): void {
    if (this.json) process.stdout.write(`${clean(JSON.stringify(redactDeep(value, knownSecrets()), null, 2))}\n`);
    else process.stdout.write(`${clean(summary)}\n`);
  }

  table<T>(rows: T[], headers: string[], cells: (row: T) => string[]): void {
    if (this.json) {
      process.stdout.write(`${clean(JSON.stringify(redactDeep(rows, knownSecrets()), null, 2))}\n`);
      return;
    }
    const body = rows.map(cells);
    const widths = headers.map((h, i) => Math.max(displayWidth(h), ...body.map((r) => displayWidth(r[i] ?? ''))));
    const pad = (c: string, w: number) => c + ' '.repeat(Math.max(0, w - displayWidth(c)));
    const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : pad(c, widths[i]))).join('  ');
    process.stdout.write(`${clean(line(headers.map((h) => h.toUpperCase())))}\n`);
    for (const r of body) process.stdout.write(`${clean(line(r))}\n`);
  }
}

/** Columns a string takes in a terminal: CJK ideographs and full-width forms take two (区域, 发电机). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}
