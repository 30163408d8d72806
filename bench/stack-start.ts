/**
 * Stack start-up and memory, measured (results go to docs/BENCHMARKS.md by hand, with the machine):
 *   cold   — empty download cache and stack folder: Maven fetch, Temporal CLI fetch (or go build), initdb, start
 *   warm   — downloads cached, empty stack folder: initdb + start
 *   restart — data kept (stack down, stack up)
 * plus the stack's total RSS when idle. Runs on its own ports (+40000) and folders under /tmp, so a
 * running stack is not touched.
 *
 *   npx ts-node -T bench/stack-start.ts [--cold] [--runs 3]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { createContext, stackDown, stackStatus, stackUp } from '../src/stack/manager';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const cold = args.includes('--cold');

function env(home: string, cache?: string): NodeJS.ProcessEnv {
  return { ...process.env, GRIDFLOW_HOME: home, GRIDFLOW_PORT_OFFSET: '40000', ...(cache ? { GRIDFLOW_CACHE: cache } : {}) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, value];
}

async function main(): Promise<void> {
  const quiet = () => undefined;
  const results: Record<string, number[]> = { warm: [], restart: [], idleRssMiB: [] };
  if (cold) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-bench-home-'));
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-bench-cache-'));
    const config = loadConfig(env(home, cache));
    const ctx = createContext(config, (m) => process.stderr.write(`[cold] ${m}\n`));
    const [s] = await timed(() => stackUp(ctx));
    results.cold = [s];
    await stackDown(ctx, { purge: true });
    fs.rmSync(cache, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
  for (let i = 0; i < runs; i++) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-bench-home-'));
    const ctx = createContext(loadConfig(env(home)), quiet);
    const [warm] = await timed(() => stackUp(ctx));
    results.warm.push(warm);
    await new Promise((r) => setTimeout(r, 10_000)); // let the JVMs settle before reading RSS
    const rss = (await stackStatus(ctx)).reduce((n, r) => n + (r.rssBytes ?? 0), 0);
    results.idleRssMiB.push(Math.round(rss / 1048576));
    await stackDown(ctx);
    const [restart] = await timed(() => stackUp(ctx));
    results.restart.push(restart);
    await stackDown(ctx, { purge: true });
    fs.rmSync(home, { recursive: true, force: true });
    process.stderr.write(`run ${i + 1}: warm ${warm.toFixed(1)} s, restart ${restart.toFixed(1)} s, idle RSS ${results.idleRssMiB[i]} MiB\n`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (k: string) => `${k}: median ${median(results[k]).toFixed(1)} (min ${Math.min(...results[k]).toFixed(1)}, max ${Math.max(...results[k]).toFixed(1)}, n=${results[k].length})`;
  process.stdout.write(
    `${new Date().toISOString()} ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0].model}\n` +
      Object.keys(results).filter((k) => results[k].length).map(row).join('\n') +
      '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
