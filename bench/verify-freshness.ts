/**
 * Freshness and verification duration, measured on a deployed pipeline:
 *
 *   npx ts-node bench/verify-freshness.ts [--name sgcc] [--probes 100] [--gap 250] [--load 0] [--verifications 10]
 *
 * 1. makes sure the pipeline runs: when its four jobs are not all RUNNING it runs `gridflow deploy` (its
 *    workflow deploys it, as for an operator; a worker must be running: `gridflow worker start`), and
 *    waits until the sink equals the contract;
 * 2. sends --probes probes one after another (--gap ms apart) through the real path with the same
 *    activities the verification workflow uses, and reports freshness p50/p90/p99/max and the hops;
 *    with --load N, `gridflow load` writes N changes/s into the source meanwhile (and during step 3);
 * 3. runs --verifications VerifyPipelineWorkflow runs on the configured Temporal (an in-process worker on
 *    its own task queue) and reports their duration (first to last observation) and the client's wall time.
 * Uses the stack GRIDFLOW_* points at (GRIDFLOW_HOME, GRIDFLOW_PORT_OFFSET, ...). Prints a Markdown block.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, defaultDeps } from '../src/activities';
import { createVerifyActivities } from '../src/activities/verify';
import { allowFlags, intFlag, parseArgs } from '../src/cli/args';
import { loadConfig, resolveConnection } from '../src/config';
import { FlinkRestClient } from '../src/flink/rest';
import { localSpec } from '../src/stack/local-spec';
import { PipelineSpec } from '../src/core/spec';
import { compareAll } from '../src/postgres/reconcile';
import { runLoad } from '../src/load/runner';
import { VerifyPipelineWorkflow } from '../src/workflows/verify';

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x);
  return { n: s.length, min: r(s[0]), p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1]) };
}

async function ensureDeployed(spec: PipelineSpec): Promise<void> {
  const rest = new FlinkRestClient(loadConfig().flink.restUrl);
  const live = (await rest.jobsOverview()).filter((j) => j.name.startsWith(`gridflow/${spec.name}/`) && j.state === 'RUNNING');
  if (live.length < 4) {
    log(`deploying ${spec.name} through its workflow (gridflow deploy)`);
    execFileSync(path.join(__dirname, '..', 'bin', 'gridflow'), ['deploy', '--name', spec.name, '--timeout', '600'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const source = resolveConnection(spec.source.connection);
  const sink = resolveConnection(spec.sink.connection);
  const deadline = Date.now() + 180_000;
  while (!(await compareAll(source, sink)).ok) {
    if (Date.now() > deadline) throw new Error('the sink did not equal the contract within 180 s of deploying');
    await new Promise((r) => setTimeout(r, 500));
  }
  log('pipeline running, sink equal to the contract');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['name', 'probes', 'gap', 'load', 'verifications']);
  allowFlags(args, ['name', 'probes', 'gap', 'load', 'verifications']);
  const probes = intFlag(args, 'probes', 100, 1);
  const gapMs = intFlag(args, 'gap', 250, 0);
  const loadRate = intFlag(args, 'load', 0, 0);
  const verifications = intFlag(args, 'verifications', 10, 0);
  const config = loadConfig();
  const spec = localSpec(config, { name: typeof args.flags.name === 'string' ? args.flags.name : 'sgcc' });
  await ensureDeployed(spec);

  // ---- freshness
  const acts = createVerifyActivities(defaultDeps());
  const controller = new AbortController();
  const load = loadRate
    ? runLoad(resolveConnection(spec.source.connection), { ratePerSecond: loadRate, durationSeconds: 3600, seed: 42, signal: controller.signal })
    : null;
  if (load) {
    log(`load: ${loadRate} changes/s into the source during the probes`);
    await new Promise((r) => setTimeout(r, 3000)); // let the pipeline reach a steady state under load
  }
  const fresh: number[] = [];
  const hops: Record<string, number[]> = { health: [], capacity: [], dashboard: [] };
  let lost = 0;
  for (let i = 0; i < probes; i++) {
    const probeId = `bench-${randomUUID()}`;
    const sent = await acts.sendProbe({ spec, probeId });
    const a = await acts.awaitProbe({ spec, probeId, value: sent.value, sentAt: sent.sentAt, timeoutMs: 30_000, pollMs: 50 });
    if (!a.arrived || a.freshnessMs === null) lost++;
    else {
      fresh.push(a.freshnessMs);
      for (const [hop, ms] of Object.entries(a.hopsMs)) if (ms !== null) hops[hop].push(ms);
    }
    if ((i + 1) % 25 === 0) log(`${i + 1}/${probes} probes, last ${Math.round(a.freshnessMs ?? NaN)} ms`);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  await acts.cleanupProbes({ spec, keep: 20 });

  // ---- verification runs
  const durations: number[] = [];
  const walls: number[] = [];
  const attempts: number[] = [];
  const moving: number[] = [];
  let passed = 0;
  if (verifications) {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      /* installed */
    }
    const taskQueue = `bench-verify-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, '..', 'src', 'workflows', 'index.ts'),
      activities: createActivities(defaultDeps()),
    });
    const connection = await Connection.connect({ address: config.temporal.address });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    await worker.runUntil(async () => {
      for (let i = 0; i < verifications; i++) {
        const t0 = Date.now();
        const r = await client.workflow.execute(VerifyPipelineWorkflow, {
          taskQueue,
          workflowId: `verify:${spec.name}:bench-${randomUUID().slice(0, 8)}`,
          args: [{ spec }],
        });
        walls.push(Date.now() - t0);
        durations.push(r.durationMs);
        attempts.push(r.compare.attempts);
        moving.push(r.compare.moving);
        if (r.ok) passed++;
        else log(`run ${i + 1} failed: ${r.problems.join(' ')}`);
      }
    });
    await connection.close();
    await nativeConnection.close();
  }
  controller.abort();
  const loadResult = load ? await load : null;

  const f = stats(fresh);
  const lines = [
    `- date: ${new Date().toISOString()}; machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB; node ${process.version}`,
    `- command: \`npx ts-node bench/verify-freshness.ts ${process.argv.slice(2).join(' ')}\`; pipeline ${spec.name}, checkpoint interval ${spec.checkpointInterval}`,
    `- load during the probes and the verifications: ${loadResult ? `${loadResult.operations} changes at ${loadResult.achievedRatePerSecond.toFixed(0)}/s` : 'none (idle source)'}`,
    `- freshness over ${f.n} probes (${lost} lost): p50 ${f.p50} ms, p90 ${f.p90} ms, p99 ${f.p99} ms, min ${f.min} ms, max ${f.max} ms`,
    `- hops (ms after sent, p50 / p99): ${Object.entries(hops).map(([hop, v]) => `${hop} ${stats(v).p50} / ${stats(v).p99}`).join(', ')}`,
  ];
  if (verifications) {
    const d = stats(durations);
    const w = stats(walls);
    lines.push(
      `- verification (VerifyPipelineWorkflow, ${verifications} runs, ${passed} passed): duration p50 ${d.p50} ms, max ${d.max} ms; ` +
        `client wall time p50 ${w.p50} ms, max ${w.max} ms; comparison attempts ${JSON.stringify(attempts)}; cells in flight (moving) max ${Math.max(...moving)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
