/** `gridflow load`: realistic changes into the source, paced, deterministic from a seed. */
import { loadConfig, resolveConnection } from '../config';
import { LoadResult, runLoad } from '../load/runner';
import { ParsedArgs, bind, defineCommand } from './args';
import { PIPELINE_OPTIONS, specFromArgs } from './common';
import { Out } from './output';

export const LOAD_COMMAND = defineCommand({
  name: 'load',
  title: 'write a realistic mix of changes into the source',
  options: {
    rate: { type: 'integer', value: 'N', min: 1, required: true, description: 'operations per second' },
    duration: { type: 'integer', value: 'S', min: 1, required: true, description: 'seconds to write for' },
    seed: { type: 'integer', value: 'N', min: 0, defaultText: 'a new one each run', description: 'the same seed writes the same changes' },
    name: PIPELINE_OPTIONS.name,
    spec: PIPELINE_OPTIONS.spec,
  },
  subcommands: [
    {
      name: '',
      summary: 'write N operations per second for S seconds into the pipeline\'s source, then print what it wrote',
      options: ['rate', 'duration', 'seed', 'name', 'spec'],
    },
  ],
  notes: `Mostly new readings, with late (older) readings, readings for unknown equipment, reading deletes, and
equipment inserts, updates (moves between type, region, voltage and status groups; capacity to and from
NULL) and deletes. Ctrl-C stops early and still reports.`,
  examples: ['gridflow load --rate 50 --duration 30', 'gridflow load --rate 20 --duration 60 --seed 7 --name other'],
});

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
  const call = bind(LOAD_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const { rate, duration } = call.values;
  const seed = call.values.seed ?? Date.now() % 100000;
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
