/**
 * Verification under steady telemetry (issue 22's done-when, as a bench): a correct pipeline, readings
 * written at --rate per second for --minutes, a verification run every --every seconds — none may fail;
 * then a DWS row corrupted by hand, which the next run must find.
 *
 *   GRIDFLOW_HOME=$PWD/.gridflow-test GRIDFLOW_PORT_OFFSET=20000 \
 *     npx ts-node -T bench/verify-load.ts [--equipment 300] [--rate 2000] [--minutes 10] [--every 60]
 *
 * The rate is readings only (the writer's mix: new readings for existing equipment), as telemetry is;
 * the reference in the same run is what PostgreSQL committed per second (the writer's own count).
 * Prints a Markdown block: per run its result, duration, keys checked / moving per table group.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { runLoad } from '../src/load/runner';
import { resolveConnection } from '../src/config';
import type { VerificationResult } from '../src/core/verify';
import { allowFlags, intFlag, parseArgs } from '../src/cli/args';
import { VerifyPipelineWorkflow } from '../src/workflows/verify';
import { benchSpec, deployBenchPipeline, generateSource, log, sql } from './support/pipeline';

const args = parseArgs(process.argv.slice(2), ['equipment', 'rate', 'minutes', 'every', 'name']);
allowFlags(args, ['equipment', 'rate', 'minutes', 'every', 'name']);
const EQUIPMENT = intFlag(args, 'equipment', 300, 1);
const RATE = intFlag(args, 'rate', 2000, 1);
const MINUTES = intFlag(args, 'minutes', 10, 1);
const EVERY_S = intFlag(args, 'every', 60, 5);
const NAME = typeof args.flags.name === 'string' ? args.flags.name : 'benchver';

async function main(): Promise<void> {
  const spec = benchSpec(NAME);
  await generateSource(spec, EQUIPMENT, 3);
  const p = await deployBenchPipeline(spec, `bench-verify-${randomUUID().slice(0, 8)}`);
  const verify = () =>
    p.client.workflow.execute(VerifyPipelineWorkflow, { taskQueue: p.taskQueue, workflowId: `verify:${NAME}:bench-${randomUUID().slice(0, 8)}`, args: [{ spec }] });

  const mix = { readingInsert: 1, lateReading: 0, unknownReading: 0, readingDelete: 0, equipmentInsert: 0, equipmentUpdate: 0, equipmentDelete: 0 };
  log(`writing ${RATE} readings/s for ${MINUTES} min; a verification every ${EVERY_S} s`);
  const loadStart = Date.now();
  const load = runLoad(resolveConnection(spec.source.connection), { ratePerSecond: RATE, durationSeconds: MINUTES * 60, seed: 22, mix });
  const runs: Array<{ at: number; r: VerificationResult }> = [];
  const end = loadStart + MINUTES * 60_000;
  let next = loadStart + 30_000;
  while (next < end) {
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    const r = await verify();
    runs.push({ at: Date.now() - loadStart, r });
    const t = r.compare.tables;
    log(`run ${runs.length} at ${((Date.now() - loadStart) / 1000).toFixed(0)} s: ${r.ok ? 'PASS' : 'FAIL'} in ${(r.durationMs / 1000).toFixed(1)} s — ${r.summary.split('\n')[0]}`);
    void t;
    next += EVERY_S * 1000;
  }
  const loaded = await load;
  const committed = Object.values(loaded.counts).reduce((a, b) => a + b, 0);
  const seconds = (Date.now() - loadStart) / 1000;

  // A real difference, with the writer stopped: found by the next run.
  const [row] = await sql(spec.sink.connection, `SELECT region FROM ${spec.sink.schema}.dws_region_stats ORDER BY region LIMIT 1`);
  await sql(spec.sink.connection, `UPDATE ${spec.sink.schema}.dws_region_stats SET running_count = running_count + 3 WHERE region = $1`, [row.region]);
  const caught = await verify();

  const group = (r: VerificationResult, pred: (t: string) => boolean) => {
    const ts = r.compare.tables.filter((t) => pred(t.table));
    const checked = ts.reduce((n, t) => n + ((t as { checked?: number }).checked ?? 0), 0);
    const moving = ts.reduce((n, t) => n + ((t as { movingKeys?: number }).movingKeys ?? 0), 0);
    return `${checked} / ${moving}`;
  };
  const lines = [
    `### Verification at ${RATE} readings/s, ${EQUIPMENT} equipment, ${MINUTES} min (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores)`,
    '',
    `Writer: ${committed} changes committed in ${seconds.toFixed(0)} s = ${(committed / seconds).toFixed(0)}/s (asked ${RATE}/s).`,
    '',
    '| run | at | result | duration | DWS keys checked / moving | ADS keys checked / moving | attempts |',
    '|---|---|---|---|---|---|---|',
    ...runs.map(({ at, r }, i) => `| ${i + 1} | ${(at / 1000).toFixed(0)} s | ${r.ok ? 'PASS' : 'FAIL'} | ${(r.durationMs / 1000).toFixed(1)} s | ${group(r, (t) => t.startsWith('dws'))} | ${group(r, (t) => t.startsWith('ads'))} | ${r.compare.attempts} |`),
    '',
    `Failed runs under load: ${runs.filter((x) => !x.r.ok).length} of ${runs.length}. After the writer stopped, a DWS row changed by hand: ${caught.ok ? 'NOT found' : `found — ${caught.summary.split('\n')[0]}`}.`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await p.close();
  process.exit(runs.some((x) => !x.r.ok) || caught.ok ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
