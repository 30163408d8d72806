/**
 * Output discipline: progress goes to stderr (so `--json` stdout stays machine-readable), results to
 * stdout as text or JSON.
 */
export class Out {
  constructor(readonly json: boolean, private readonly quiet = false) {}

  progress(message: string): void {
    if (!this.quiet) process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  text(message: string): void {
    if (!this.json) process.stdout.write(`${message}\n`);
  }

  result(value: unknown, summary: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(`${summary}\n`);
  }

  table<T>(rows: T[], headers: string[], cells: (row: T) => string[]): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const body = rows.map(cells);
    const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
    const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
    process.stdout.write(`${line(headers.map((h) => h.toUpperCase()))}\n`);
    for (const r of body) process.stdout.write(`${line(r)}\n`);
  }
}
