/**
 * Throughput of the SGCC pipeline, side by side with the source's own rates, in one run:
 *
 *   reference   PostgreSQL's own pgoutput decoding of the bulk's WAL (a temporary side slot on the
 *               pipeline's readings publication, dropped afterwards), and the source's own maximum
 *               single-row commit rate (several clients, one INSERT per transaction)
 *   burst       after that commit burst: how long after the last write the sink equals the contract
 *   capacity    a bulk of readings written in large transactions, timed until a freshness probe written
 *               after them has come out of every ADS table (the probe takes the readings' own path, in
 *               order), then checked against the contract — at three amounts of history
 *   sustained   fixed rates of readings with a probe every second: freshness p50 / p99 at each rate
 *   state       every job's latest checkpoint (state size, duration) after each capacity run
 *   cold start  a large source (equipment and readings generated), fresh deploy → sink equal to contract
 *   memory      the stack's total RSS, sampled every 5 s throughout (max)
 *
 *   npx ts-node -T bench/throughput.ts [--bulk 300000] [--histories 10000,100000,1000000]
 *     [--rates 1000,2000,5000,10000] [--rate-seconds 60] [--long-rate 2000] [--long-seconds 300]
 *     [--clients 8] [--burst-seconds 10] [--cold-equipment 100000] [--cold-readings 1000000]
 *     [--skip reference,capacity,sustained,cold] [--out FILE]
 *
 * Needs the local stack, the worker and pipeline sgcc deployed by its workflow (`npm run demo`). It
 * REWRITES THE SOURCE'S DATA and redeploys sgcc with fresh starts (decommission --drop-slots, deploy),
 * through the CLI an operator uses; it ends with the sample reloaded and sgcc RUNNING. Prints a
 * Markdown report (also written to --out).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { PgConnection, loadConfig, repoRoot, resolveConnection } from '../src/config';
import { PROBE_EQUIPMENT_ID, flinkJobName } from '../src/constants';
import { FlinkRestClient } from '../src/flink/rest';
import { localSpec } from '../src/stack/local-spec';
import { JOB_NAMES } from '../src/core/spec';
import { clientConfig, query, withClient } from '../src/postgres/connection';
import { PROBE_HOPS, SentProbe, deleteProbes, probeArrivals, sendProbe } from '../src/postgres/probe';
import { compareAll } from '../src/postgres/reconcile';
import { summarize } from '../src/postgres/compare';
import { artifactName } from '../src/postgres/source/names';
import { createContext, stackStatus } from '../src/stack/manager';

// ------------------------------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const num = (name: string, fallback: number) => Number(opt(name, String(fallback)));
const list = (name: string, fallback: string) => opt(name, fallback).split(',').filter(Boolean).map(Number);
const BULK = num('bulk', 300_000);
const HISTORIES = list('histories', '10000,100000,1000000');
const RATES = list('rates', '1000,2000,5000,10000');
const RATE_SECONDS = num('rate-seconds', 60);
const LONG_RATE = num('long-rate', 2000);
const LONG_SECONDS = num('long-seconds', 300);
const CLIENTS = num('clients', 8);
const BURST_SECONDS = num('burst-seconds', 10);
const COLD_EQUIPMENT = num('cold-equipment', 100_000);
const COLD_READINGS = num('cold-readings', 1_000_000);
const SKIP = new Set(opt('skip', '').split(',').filter(Boolean));
const OUT = opt('out', '');

const config = loadConfig();
const spec = localSpec(config);
const source = resolveConnection(spec.source.connection);
const sink = resolveConnection(spec.sink.connection);
const rest = new FlinkRestClient(config.flink.restUrl);
const gridflow = path.join(repoRoot(), 'bin', 'gridflow');

const log = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report: string[] = [];
const say = (line = '') => {
  report.push(line);
  log(line);
};

// ----------------------------------------------------------------------------------------- helpers

async function sql<R extends Record<string, unknown> = Record<string, unknown>>(conn: PgConnection, text: string, params: unknown[] = []): Promise<R[]> {
  return withClient(conn, async (c) => (await query<R>(c, 'bench', text, params)).rows, { statementTimeoutMs: 3_600_000 });
}

function cli(...args: string[]): void {
  log(`$ gridflow ${args.join(' ')}`);
  execFileSync(gridflow, args, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 30 * 60_000 });
}

/** Max total RSS of the stack's processes, sampled every 5 s while the benchmark runs. */
const rss = { maxMiB: 0, atMax: '', phase: 'start' };
async function sampleRss(): Promise<void> {
  const rows = await stackStatus(createContext(config, () => undefined));
  const mib = Math.round(rows.reduce((n, r) => n + (r.rssBytes ?? 0), 0) / 1048576);
  if (mib > rss.maxMiB) {
    rss.maxMiB = mib;
    rss.atMax = `${rss.phase}: ${rows.map((r) => `${r.component} ${Math.round((r.rssBytes ?? 0) / 1048576)}`).join(', ')}`;
  }
}

/** Readings of real equipment ids, `perStatement` rows per INSERT, in one transaction per statement. */
async function writeReadings(n: number, opts: { perStatement?: number; pastSeconds?: number } = {}): Promise<void> {
  const per = opts.perStatement ?? 50_000;
  const past = opts.pastSeconds ?? 0;
  for (let done = 0; done < n; done += per) {
    await sql(
      source,
      `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
       SELECT ids[1 + (g % array_length(ids, 1))], round((random() * 300)::numeric, 3), round((20 + random() * 75)::numeric, 2),
              round((random() * 500)::numeric, 3), clock_timestamp() - $2 * random() * interval '1 second'
       FROM (SELECT array_agg(equipment_id) AS ids FROM power_equipment) e, generate_series(1, $1) g`,
      [Math.min(per, n - done), past],
    );
  }
}

async function readingCount(): Promise<number> {
  const [row] = await sql<{ n: string }>(source, 'SELECT count(*)::text AS n FROM equipment_reading WHERE equipment_id <> $1', [PROBE_EQUIPMENT_ID]);
  return Number(row.n);
}

const probesSent: string[] = [];
async function probe(): Promise<SentProbe> {
  const p = await sendProbe(source, null, spec.name, spec.source.schema);
  probesSent.push(p.readingId);
  return p;
}

/** When the probe (or a newer one) had come out of every hop: epoch ms, or null at the deadline. */
async function probeOut(p: SentProbe, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await probeArrivals(sink, spec.name, p.value);
    const times = PROBE_HOPS.map((h) => a[h]);
    if (times.every((t) => t !== null)) return Math.max(...(times as number[]));
    if (Date.now() > deadline) return null;
    await sleep(100);
  }
}

/** Poll until the sink equals the contract; ms from the call, or throws with the differences. */
async function consistentWithin(timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const r = await compareAll(source, sink);
    if (r.ok) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`the sink does not equal the contract ${timeoutMs} ms on:\n${summarize(r)}`);
    await sleep(200);
  }
}

/** Settle: a probe comes out, then the contract holds. */
async function settle(label: string, timeoutMs = 1_800_000): Promise<void> {
  const p = await probe();
  const out = await probeOut(p, timeoutMs);
  if (out === null) throw new Error(`${label}: the probe did not come out within ${timeoutMs} ms`);
  const ms = await consistentWithin(120_000);
  log(`${label}: settled (probe ${out - p.sentAt} ms, then contract equal ${ms} ms later)`);
}

async function checkpoints(): Promise<string> {
  const jobs = await rest.jobsOverview();
  const parts: string[] = [];
  for (const job of JOB_NAMES) {
    const j = jobs.filter((x) => x.name === flinkJobName(spec.name, job) && x.state === 'RUNNING')[0];
    if (!j) {
      parts.push(`${job} -`);
      continue;
    }
    const cp = await rest.checkpoints(j.jid);
    const c = cp.latest.completed;
    parts.push(c ? `${job} ${mib(c.stateSize)} / ${c.endToEndDurationMs} ms` : `${job} (no checkpoint yet)`);
  }
  return parts.join(', ');
}
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 2 : 0)} MiB`;
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// -------------------------------------------------------------------------------------------- setup

/** Readings down (oldest first, like a retention job) or up (older than now) to `target`, then settle. */
async function setHistory(target: number): Promise<void> {
  const have = await readingCount();
  if (have > target) {
    log(`history: deleting the ${fmt(have - target)} oldest readings (${fmt(have)} → ${fmt(target)})`);
    let left = have - target;
    while (left > 0) {
      const k = Math.min(100_000, left);
      await sql(
        source,
        `DELETE FROM equipment_reading WHERE reading_id IN (SELECT reading_id FROM equipment_reading WHERE equipment_id <> $2 ORDER BY reading_id LIMIT $1)`,
        [k, PROBE_EQUIPMENT_ID],
      );
      left -= k;
    }
  } else if (have < target) {
    log(`history: adding ${fmt(target - have)} readings from the past day (${fmt(have)} → ${fmt(target)})`);
    await writeReadings(target - have, { pastSeconds: 86_400 });
  }
  await settle(`history ${fmt(target)}`);
}

async function freshDeploy(label: string): Promise<{ runningMs: number; consistentMs: number }> {
  const t0 = Date.now();
  cli('deploy', '--timeout', '1800');
  const runningMs = Date.now() - t0;
  await consistentWithin(1_800_000);
  const consistentMs = Date.now() - t0;
  log(`${label}: RUNNING after ${runningMs} ms, sink equal to the contract after ${consistentMs} ms`);
  return { runningMs, consistentMs };
}

async function resetSource(loadSample: boolean): Promise<void> {
  cli('decommission', '--drop-slots', '--reason', 'benchmark: new source data');
  await sql(source, 'TRUNCATE equipment_reading, power_equipment');
  if (loadSample) {
    const { loadSampleData } = await import('../src/postgres/source/schema');
    await loadSampleData(source);
  }
}

// ------------------------------------------------------------------------------------------- phases

async function referenceAndBurst(): Promise<void> {
  rss.phase = 'commit burst';
  log(`source: ${CLIENTS} clients, one INSERT per transaction, for ${BURST_SECONDS} s`);
  const [{ ids }] = await sql<{ ids: string[] }>(source, 'SELECT array_agg(equipment_id) AS ids FROM power_equipment');
  const end = Date.now() + BURST_SECONDS * 1000;
  let commits = 0;
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new Client(clientConfig(source));
      await c.connect();
      return c;
    }),
  );
  const t0 = Date.now();
  await Promise.all(
    clients.map(async (c, i) => {
      let k = i;
      while (Date.now() < end) {
        await c.query(
          "INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at) VALUES ($1, round((random() * 300)::numeric, 3), 55.5, 220, clock_timestamp())",
          [ids[k++ % ids.length]],
        );
        commits++;
      }
    }),
  );
  const lastWrite = Date.now();
  await Promise.all(clients.map((c) => c.end()));
  const commitRate = rate(commits, lastWrite - t0);
  const p = await probe();
  const out = await probeOut(p, 600_000);
  const consistentMs = await consistentWithin(300_000);
  const caughtUp = Date.now() - lastWrite;
  say(`| source's own max single-row commit rate (${CLIENTS} clients, ${BURST_SECONDS} s) | **${fmt(commitRate)} commits/s** (${fmt(commits)} readings) |`);
  say(
    `| after that burst: sink equal to the contract | **${(caughtUp / 1000).toFixed(1)} s after the last write** (a probe written after it came out ${out === null ? 'never' : `${out - lastWrite} ms after the last write`}; the contract held ${consistentMs} ms after that) |`,
  );
}

/** Capacity: a bulk in large transactions, until a probe written after it comes out. With a side slot: PG's own decode rate of the same WAL. */
async function capacity(history: number, withDecode: boolean): Promise<number> {
  rss.phase = `capacity at ${fmt(history)}`;
  const slot = `gridflow_bench_side_${process.pid}`;
  const publication = artifactName(spec.name, 'equipment_reading');
  if (withDecode) await sql(source, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  try {
    log(`capacity: ${fmt(BULK)} readings in transactions of 50,000, history ${fmt(history)}`);
    const t0 = Date.now();
    await writeReadings(BULK);
    const written = Date.now();
    const p = await probe();
    const out = await probeOut(p, 1_800_000);
    if (out === null) throw new Error('the probe after the bulk never came out');
    const contractMs = await consistentWithin(300_000);
    const ms = out - t0;
    const cap = rate(BULK, ms);
    const cps = await checkpoints();
    await sampleRss();
    let decode = '';
    if (withDecode) {
      const d0 = Date.now();
      const [row] = await sql<{ n: string }>(
        source,
        `SELECT count(*) FILTER (WHERE get_byte(data, 0) IN (73, 85, 68))::text AS n
         FROM pg_logical_slot_get_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
        [slot, publication],
      );
      const decodeMs = Date.now() - d0;
      const decodeRate = rate(Number(row.n), decodeMs);
      decode = ` | ${fmt(decodeRate)} changes/s (${fmt(Number(row.n))} changes in ${decodeMs} ms) | **${((cap / decodeRate) * 100).toFixed(1)} %**`;
    }
    say(
      `| ${fmt(history)} | ${fmt(BULK)} in ${((written - t0) / 1000).toFixed(1)} s | ${(ms / 1000).toFixed(1)} s | **${fmt(cap)} readings/s**${decode} | contract equal ${contractMs} ms after the probe | ${cps} |`,
    );
    return cap;
  } finally {
    if (withDecode) await sql(source, 'SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
  }
}

async function sustained(perSecond: number, seconds: number): Promise<void> {
  rss.phase = `sustained ${fmt(perSecond)}/s`;
  log(`sustained: ${fmt(perSecond)} readings/s for ${seconds} s, a probe every second`);
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const probes: SentProbe[] = [];
  const t0 = Date.now();
  let written = 0;
  let lastProbe = 0;
  let behind = 0;
  const writer = new Client(clientConfig(source));
  await writer.connect();
  try {
    const [{ ids }] = (await writer.query<{ ids: string[] }>('SELECT array_agg(equipment_id) AS ids FROM power_equipment')).rows;
    for (let tick = 0; Date.now() - t0 < seconds * 1000; tick++) {
      const due = t0 + tick * tickMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else behind++;
      await writer.query(
        `INSERT INTO equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
         SELECT ($2::text[])[1 + ((g + $3) % array_length($2::text[], 1))], round((random() * 300)::numeric, 3), round((20 + random() * 75)::numeric, 2), 220, clock_timestamp()
         FROM generate_series(1, $1) g`,
        [perTick, ids, tick],
      );
      written += perTick;
      if (Date.now() - lastProbe >= 1000) {
        lastProbe = Date.now();
        probes.push(await probe());
      }
    }
  } finally {
    await writer.end();
  }
  const elapsed = Date.now() - t0;
  const latencies: number[] = [];
  let late = 0;
  for (const p of probes) {
    const out = await probeOut(p, 120_000);
    if (out === null) late++;
    else latencies.push(out - p.sentAt);
  }
  await consistentWithin(300_000);
  await sampleRss();
  latencies.sort((a, b) => a - b);
  say(
    `| ${fmt(perSecond)}/s for ${seconds} s | ${fmt(rate(written, elapsed))}/s (${fmt(written)}${behind ? `, writer behind on ${behind} ticks` : ''}) | ${probes.length}${late ? ` (${late} not out in 120 s)` : ''} | **${Math.round(percentile(latencies, 50))} ms** | **${Math.round(percentile(latencies, 99))} ms** | ${Math.round(latencies[latencies.length - 1] ?? NaN)} ms |`,
  );
}

async function coldStart(): Promise<void> {
  rss.phase = 'cold start';
  log(`cold start: ${fmt(COLD_EQUIPMENT)} equipment and ${fmt(COLD_READINGS)} readings, fresh deploy`);
  await resetSource(false);
  await sql(
    source,
    `INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw, status, commissioned_on, last_maintenance_on)
     SELECT 'BEN-' || lpad(g::text, 7, '0'), 'bench ' || g,
            (ARRAY['发电机','变压器','输电线路','配电设备'])[1 + g % 4], (ARRAY['华北','华东','华中','东北','西北','西南'])[1 + g % 6],
            (ARRAY[10, 35, 110, 220, 500])[1 + g % 5], CASE WHEN g % 50 = 0 THEN NULL ELSE round((5 + random() * 500)::numeric, 2) END,
            (ARRAY['运行','运行','运行','检修','停运','备用'])[1 + g % 6], date '2015-01-01' + g % 3000, NULL
     FROM generate_series(1, $1) g`,
    [COLD_EQUIPMENT],
  );
  await writeReadings(COLD_READINGS, { pastSeconds: 86_400 * 30 });
  const { runningMs, consistentMs } = await freshDeploy('cold start');
  await sampleRss();
  say(
    `| cold start: ${fmt(COLD_EQUIPMENT)} equipment, ${fmt(COLD_READINGS)} readings, \`gridflow deploy\` after \`decommission --drop-slots\` | RUNNING after ${(runningMs / 1000).toFixed(1)} s; **sink equal to the contract after ${(consistentMs / 1000).toFixed(1)} s** (${fmt(rate(COLD_READINGS + COLD_EQUIPMENT, consistentMs))} rows/s); checkpoints ${await checkpoints()} |`,
  );
}

// --------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = new Date();
  const timer = setInterval(() => void sampleRss().catch(() => undefined), 5000);
  try {
    say(`## Throughput (bench/throughput.ts)`);
    say();
    say(`${started.toISOString()}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
    say(`Command: \`npx ts-node -T bench/throughput.ts ${argv.join(' ')}\``);
    say();
    log('resetting the source to the sample (300 equipment) and redeploying sgcc with a fresh start');
    await resetSource(true);
    await freshDeploy('sample');
    if (!SKIP.has('reference')) {
      await setHistory(HISTORIES[0]);
      say('| reference | result |');
      say('|---|---|');
      await referenceAndBurst();
      say();
    }
    if (!SKIP.has('capacity')) {
      say('| history (readings in the source) | bulk written | bulk written → probe out | capacity | PostgreSQL pgoutput decode of the same WAL | pipeline ÷ decode | contract | checkpoints after (state size / duration) |');
      say('|---|---|---|---|---|---|---|---|');
      const caps: number[] = [];
      for (const [i, h] of HISTORIES.entries()) {
        await setHistory(h);
        caps.push(await capacity(h, i === 0));
      }
      if (caps.length > 1) say(`\nCapacity with ${fmt(HISTORIES[HISTORIES.length - 1])} readings of history ÷ with ${fmt(HISTORIES[0])}: **${(caps[caps.length - 1] / caps[0]).toFixed(2)}**`);
      say();
    }
    if (!SKIP.has('sustained')) {
      say('| rate asked | rate written | probes | freshness p50 | p99 | max |');
      say('|---|---|---|---|---|---|');
      for (const r of RATES) await sustained(r, r === LONG_RATE ? LONG_SECONDS : RATE_SECONDS);
      say();
    }
    if (!SKIP.has('cold')) {
      say('| cold start | result |');
      say('|---|---|');
      await coldStart();
      say();
    }
    await sampleRss();
    say(`Stack RSS, sampled every 5 s: max **${fmt(rss.maxMiB)} MiB** (${rss.atMax})`);
  } finally {
    clearInterval(timer);
    log('restoring the sample and a fresh sgcc');
    await deleteProbes(source, spec.source.schema, probesSent).catch(() => undefined);
    await resetSource(true).catch((e) => log(`restore: ${e}`));
    await freshDeploy('restored').catch((e) => log(`restore: ${e}`));
  }
  const text = `${report.join('\n')}\n`;
  process.stdout.write(text);
  if (OUT) fs.writeFileSync(OUT, text);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
