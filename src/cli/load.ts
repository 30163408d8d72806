/** `gridflow load`: realistic changes into the source, paced, deterministic from a seed. */
import { loadConfig, resolveConnection } from '../config';
import { LoadResult, runLoad } from '../load/runner';
import { ParsedArgs, UsageError, allowFlags, intFlag } from './args';
import { specFromArgs } from './common';
import { Out } from './output';

export const LOAD_HELP = `gridflow load --rate N --duration S [--seed N] [--name sgcc | --spec FILE]

Writes N operations per second for S seconds into the pipeline's source: mostly new readings, with
late (older) readings, readings for unknown equipment, reading deletes, and equipment inserts, updates
(moves between type, region, voltage and status groups; capacity to and from NULL) and deletes.
Prints what it wrote. Ctrl-C stops early and still reports.`;

export function describeLoad(r: LoadResult): string {
  const counts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const moves = Object.entries(r.updates)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `wrote ${r.operations} operations in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.achievedRatePerSecond.toFixed(1)}/s)${r.aborted ? ', stopped early' : ''}\n` +
    `  ${counts}${moves ? `\n  equipment updates: ${moves}` : ''}`
  );
}

export async function loadCommand(args: ParsedArgs, out: Out): Promise<number> {
  if (args.flags.help) {
    out.text(LOAD_HELP);
    return 0;
  }
  allowFlags(args, ['rate', 'duration', 'seed', 'name', 'spec', 'json']);
  if (args.flags.rate === undefined || args.flags.duration === undefined) throw new UsageError(`load needs --rate and --duration\n\n${LOAD_HELP}`);
  const rate = intFlag(args, 'rate', 10, 1);
  const duration = intFlag(args, 'duration', 10, 1);
  const seed = intFlag(args, 'seed', Date.now() % 100000, 0);
  const spec = specFromArgs(args, loadConfig());
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let lastReport = 0;
  try {
    const result = await runLoad(resolveConnection(spec.source.connection), {
      ratePerSecond: rate,
      durationSeconds: duration,
      seed,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.elapsedMs - lastReport >= 2000 || p.done === p.total) {
          lastReport = p.elapsedMs;
          out.progress(`load: ${p.done}/${p.total} operations (${(p.elapsedMs / 1000).toFixed(0)} s)`);
        }
      },
    });
    out.result(result, describeLoad(result));
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
