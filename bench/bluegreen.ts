/**
 * Blue/green redeploys, measured (issue 23), beside a savepoint redeploy of every job in the same run:
 * how stale the sink gets for a reader while one equipment gets a reading every 100 ms, the time from
 * request to switch, and the extra CPU and memory of the machine's JVMs (Flink, Fluss) during the overlap.
 *
 *   GRIDFLOW_HOME=$PWD/.gridflow-test GRIDFLOW_PORT_OFFSET=20000 \
 *     npx ts-node -T bench/bluegreen.ts [--equipment 300] [--readings 3] [--load 0] [--name benchbg]
 *
 * 1. the source gets --equipment equipment with --readings readings each (generated); a pipeline of its
 *    own is deployed by its workflow and the sink proven equal to the contract;
 * 2. a writer adds a reading of one equipment every 100 ms (and `gridflow load` --load changes/s when
 *    asked); a reader (the dashboard's role) reads that equipment's latest_measured_at every 100 ms:
 *    staleness = read time − the newest reading the sink shows;
 * 3. 10 s to settle, 20 s of steady state; `redeploy --jobs ingest,dws,ads,sink` (savepoint); 20 s; a blue-green
 *    redeploy (rollback window 0: the old version released at once); 20 s.
 * Per phase: staleness p50 / p99 / max, the longest stretch over 2 s, the change's duration, and the
 * mean CPU (cores) and summed RSS of every java process (sampled each second from /proc).
 * Prints a Markdown block. The pipeline is decommissioned at the end, its slots dropped.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { runLoad } from '../src/load/runner';
import { allowFlags, intFlag, parseArgs } from '../src/cli/args';
import { resolveConnection } from '../src/config';
import { query, withClient } from '../src/postgres/connection';
import { redeployUpdate } from '../src/workflows/definitions';
import type { RedeployOutcome } from '../src/core/types';
import { benchSpec, deployBenchPipeline, generateSource, log, sql } from './support/pipeline';

const args = parseArgs(process.argv.slice(2), ['equipment', 'readings', 'load', 'name']);
allowFlags(args, ['equipment', 'readings', 'load', 'name']);
const EQUIPMENT = intFlag(args, 'equipment', 300);
const READINGS = intFlag(args, 'readings', 3);
const LOAD = intFlag(args, 'load', 0);
const NAME = typeof args.flags.name === 'string' ? args.flags.name : 'benchbg';
const spec = benchSpec(NAME, { redeploy: { strategy: 'savepoint', rollbackWindow: '0s', timeout: '30min' } });
const WATCHED = 'BR-0000001';

interface Sample {
  at: number;
  stalenessMs: number | null;
}

/** The watched equipment's staleness, as a reader sees it, every 100 ms. */
function stalenessSampler() {
  const samples: Sample[] = [];
  let on = true;
  const loop = withClient(resolveConnection('sink_reader'), async (c) => {
    while (on) {
      const r = await query<{ ms: number | null }>(
        c,
        'staleness',
        `SELECT (extract(epoch FROM clock_timestamp() - latest_measured_at) * 1000)::float8 AS ms FROM ${spec.sink.schema}.ads_equipment_health WHERE equipment_id = $1`,
        [WATCHED],
      );
      samples.push({ at: Date.now(), stalenessMs: r.rows[0]?.ms ?? null });
      await new Promise((res) => setTimeout(res, 100));
    }
  });
  return {
    samples,
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

/** CPU (cores) and RSS (MiB) of every java process, each second: the JVMs of Flink and Fluss. */
function jvmSampler() {
  const tick = 100; // USER_HZ on Linux
  const read = () => {
    let jiffies = 0;
    let rssPages = 0;
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('java')) continue;
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        jiffies += Number(f[11]) + Number(f[12]);
        rssPages += Number(f[21]);
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return { jiffies, rssMiB: (rssPages * 4096) / 1048576 };
  };
  const samples: Array<{ at: number; cores: number; rssMiB: number }> = [];
  let last = read();
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = read();
    const at = Date.now();
    samples.push({ at, cores: (now.jiffies - last.jiffies) / tick / ((at - lastAt) / 1000), rssMiB: now.rssMiB });
    last = now;
    lastAt = at;
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function phase(samples: Sample[], jvm: ReturnType<typeof jvmSampler>['samples'], from: number, to: number) {
  const st = samples.filter((s) => s.at >= from && s.at <= to && s.stalenessMs !== null).map((s) => s.stalenessMs!);
  let longest = 0;
  let since: number | null = null;
  for (const s of samples.filter((x) => x.at >= from && x.at <= to)) {
    if (s.stalenessMs !== null && s.stalenessMs > 2000) {
      since ??= s.at;
      longest = Math.max(longest, s.at - since);
    } else since = null;
  }
  const j = jvm.filter((s) => s.at >= from && s.at <= to);
  return {
    p50: pct(st, 50),
    p99: pct(st, 99),
    max: Math.max(...st),
    over2s: longest,
    cores: j.reduce((n, s) => n + s.cores, 0) / Math.max(1, j.length),
    rssMiB: Math.max(...j.map((s) => s.rssMiB)),
  };
}

async function main(): Promise<void> {
  log(`source: ${EQUIPMENT} equipment × ${READINGS} readings`);
  await generateSource(spec, EQUIPMENT, READINGS);
  const p = await deployBenchPipeline(spec, `bench-bg-${randomUUID().slice(0, 8)}`);
  const source = resolveConnection(spec.source.connection);
  let writing = true;
  const writer = withClient(source, async (c) => {
    for (let i = 0; writing; i++) {
      await query(c, 'a reading', 'INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at) VALUES ($1, $2, 40, 220, clock_timestamp())', [WATCHED, 10 + (i % 50)]);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  if (LOAD > 0) void runLoad(source, { ratePerSecond: LOAD, durationSeconds: 3600, seed: 23 }).catch((err) => log(`load stopped: ${(err as Error).message}`));
  const reader = stalenessSampler();
  const jvm = jvmSampler();
  const rest = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const redeploy = async (strategy: 'savepoint' | 'blue-green', version: number) => {
    const t0 = Date.now();
    const request = strategy === 'savepoint' ? { spec: { ...spec, version }, jobs: ['ingest', 'dws', 'ads', 'sink'] as never, strategy, requestId: `bench-${randomUUID().slice(0, 8)}` } : { spec: { ...spec, version }, strategy, requestId: `bench-${randomUUID().slice(0, 8)}` };
    const outcome: RedeployOutcome = await p.handle.executeUpdate(redeployUpdate, { args: [request] });
    const t1 = Date.now();
    log(`${strategy}: ${outcome.outcome} in ${t1 - t0} ms${outcome.reason ? `: ${outcome.reason}` : ''}`);
    if (outcome.outcome !== 'deployed') throw new Error(`${strategy} redeploy ${outcome.outcome}: ${outcome.reason}`);
    return { t0, t1, outcome };
  };

  // The watched equipment's generated readings are old: the steady window starts once the writer's are in the sink.
  await rest(30_000);
  const steadyTo = Date.now();
  const sp = await redeploy('savepoint', 2);
  await rest(20_000);
  const bg = await redeploy('blue-green', 3);
  await rest(20_000);
  writing = false;
  await Promise.all([writer, reader.stop()]);
  jvm.stop();

  const steady = phase(reader.samples, jvm.samples, steadyTo - 20_000, steadyTo);
  const spP = phase(reader.samples, jvm.samples, sp.t0, sp.t1 + 10_000);
  const bgP = phase(reader.samples, jvm.samples, bg.t0, bg.t1 + 10_000);
  const readingsTotal = Number((await sql(spec.source.connection, 'SELECT count(*) AS n FROM equipment_reading'))[0].n);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const row = (label: string, x: ReturnType<typeof phase>, took: string) =>
    `| ${label} | ${took} | ${s(x.p50)} | ${s(x.p99)} | ${s(x.max)} | ${s(x.over2s)} | ${x.cores.toFixed(2)} | ${Math.round(x.rssMiB)} |`;
  process.stdout.write(
    [
      `### Blue/green vs savepoint redeploy (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${EQUIPMENT} equipment, ${readingsTotal} readings, one reading / 100 ms${LOAD ? ` + ${LOAD} changes/s` : ''})`,
      '',
      '| phase | request → done | staleness p50 | p99 | max | longest stretch > 2 s | JVM CPU (cores, mean) | JVM RSS (MiB, max) |',
      '|---|---|---|---|---|---|---|---|',
      row('steady (20 s before)', steady, '-'),
      row('savepoint redeploy, every job', spP, `${s(sp.t1 - sp.t0)}`),
      row('blue-green redeploy', bgP, `${s(bg.t1 - bg.t0)} (switch at ${s(bg.outcome.switchMs ?? NaN)})`),
      '',
      `Ratios, blue-green / savepoint: longest stretch over 2 s ${(bgP.over2s / Math.max(1, spP.over2s)).toFixed(2)}, max staleness ${(bgP.max / Math.max(1, spP.max)).toFixed(2)}; ` +
        `blue-green / steady: JVM CPU ${(bgP.cores / Math.max(0.01, steady.cores)).toFixed(2)}, JVM RSS ${(bgP.rssMiB / Math.max(1, steady.rssMiB)).toFixed(2)}.`,
      '',
    ].join('\n'),
  );
  await p.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
