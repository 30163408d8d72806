/**
 * Settle time of the deployed SGCC pipeline: after a burst of source changes, how long until every
 * sink table equals sql/contract on the source again. Also the stack's RSS at the end of a sustained
 * load. Uses the stack GRIDFLOW_HOME/GRIDFLOW_PORT_OFFSET point at, with pipeline `sgcc` deployed
 * (`gridflow demo` leaves it so).
 *
 *   npx ts-node -T bench/pipeline-settle.ts [--bursts 5] [--ops 500] [--rate 250] [--sustain 60]
 */
import * as os from 'node:os';
import { loadConfig, resolveConnection } from '../src/config';
import { localSpec } from '../src/stack/local-spec';
import { runLoad } from '../src/load/runner';
import { compareAll } from '../src/postgres/reconcile';
import { summarize } from '../src/postgres/compare';
import { createContext, stackStatus } from '../src/stack/manager';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

async function settle(): Promise<number> {
  const spec = localSpec(loadConfig());
  const source = resolveConnection(spec.source.connection);
  const sink = resolveConnection(spec.sink.connection);
  const t0 = Date.now();
  for (;;) {
    const r = await compareAll(source, sink);
    if (r.ok) return Date.now() - t0;
    if (Date.now() - t0 > 300_000) throw new Error(`not settled after 300 s:\n${summarize(r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function main(): Promise<void> {
  const bursts = flag('bursts', 5);
  const ops = flag('ops', 500);
  const rate = flag('rate', 250);
  const sustain = flag('sustain', 60);
  const source = resolveConnection(localSpec(loadConfig()).source.connection);
  process.stderr.write(`baseline settle: ${await settle()} ms\n`);
  const times: number[] = [];
  for (let i = 0; i < bursts; i++) {
    const load = await runLoad(source, { ratePerSecond: rate, durationSeconds: ops / rate, seed: 1000 + i });
    const ms = await settle();
    times.push(ms);
    process.stderr.write(`burst ${i + 1}: ${load.operations} ops in ${(load.elapsedMs / 1000).toFixed(1)} s → settled ${ms} ms after the last write\n`);
  }
  let rssMiB = 0;
  let sustained = '';
  if (sustain > 0) {
    const load = await runLoad(source, { ratePerSecond: 50, durationSeconds: sustain, seed: 99 });
    const ms = await settle();
    const rows = await stackStatus(createContext(loadConfig(), () => undefined));
    rssMiB = Math.round(rows.reduce((n, r) => n + (r.rssBytes ?? 0), 0) / 1048576);
    sustained = `sustained ${load.operations} ops at ${load.achievedRatePerSecond.toFixed(0)}/s for ${sustain} s: settled ${ms} ms after; stack RSS ${rssMiB} MiB (${rows.map((r) => `${r.component} ${Math.round((r.rssBytes ?? 0) / 1048576)}`).join(', ')})`;
  }
  const sorted = [...times].sort((a, b) => a - b);
  process.stdout.write(
    `${new Date().toISOString()} ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB\n` +
      `bursts of ${ops} ops at ${rate}/s: settle median ${sorted[Math.floor(sorted.length / 2)]} ms, min ${sorted[0]} ms, max ${sorted[sorted.length - 1]} ms (n=${times.length})\n` +
      (sustained ? `${sustained}\n` : ''),
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
