/** `gridflow verify schedule | now | history | unschedule` */
import { randomUUID } from 'node:crypto';
import { Client, ScheduleAlreadyRunning, ScheduleDescription, ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { GridflowConfig, loadConfig, resolveConnection } from '../config';
import { TASK_QUEUE } from '../constants';
import { verificationStartMetadata } from '../core/metadata';
import { PipelineSpec, durationMs } from '../core/spec';
import { VerificationResult, VerifyPipelineInput, formatBytes, formatMs } from '../core/verify';
import { StoredVerificationRun, listVerificationRuns } from '../postgres/sink';
import type { VerifyPipelineWorkflow } from '../workflows/verify';
import { ParsedArgs, UsageError, bind, defineCommand } from './args';
import { PIPELINE_OPTIONS, pipelineName, specFromArgs, temporalClient, temporalUiLink, workerPollers } from './common';
import { Out } from './output';

export const VERIFY_COMMAND = defineCommand({
  name: 'verify',
  title: 'check the sink against the contract, freshness, slots',
  options: {
    every: { type: 'string', value: 'DURATION', default: '5m', description: 'how often: 30s, 5m, 1h…, at least 10s' },
    timeout: { type: 'integer', value: 'S', min: 1, default: 600, description: 'seconds to wait for the result; the run goes on after' },
    n: { type: 'integer', value: 'N', min: 1, default: 10, description: 'how many runs, newest first' },
    spec: PIPELINE_OPTIONS.spec,
    name: PIPELINE_OPTIONS.name,
  },
  subcommands: [
    {
      name: 'schedule',
      summary: 'create (or update) the Temporal schedule verify:<name>: one verification every interval, never two at once (overlap: skip)',
      options: ['every', 'spec', 'name'],
    },
    {
      name: 'now',
      summary: 'run one verification and wait for it: per-table result, freshness, replication slots; exit 0 pass, 1 fail',
      options: ['spec', 'timeout', 'name'],
    },
    { name: 'history', summary: 'the newest runs from gridflow.verification_runs in the sink', options: ['n', 'spec', 'name'] },
    { name: 'unschedule', summary: 'delete the schedule (runs already recorded stay)', options: ['name'] },
  ],
  notes: `A verification writes a probe into the source, waits until it reaches the sink (freshness), compares every
sink table with sql/contract on the source (a difference is retried before it counts), checks the
replication slots and publications, records the run and signals the pipeline workflow pipeline:<name>,
which shows it in \`gridflow status\` and raises an alert when it failed. Nothing is repaired.
A worker must run (\`gridflow worker start\`).`,
  examples: ['gridflow verify now', 'gridflow verify schedule --every 5m', 'gridflow verify history -n 20', 'gridflow verify unschedule --name other'],
});

export const verifyScheduleId = (name: string) => `verify:${name}`;

/** Shortest interval a schedule accepts: a verification itself takes seconds (probe + compare). */
const MIN_EVERY_MS = 10_000;

export function everyFlag(args: ParsedArgs): { text: string; ms: number } {
  const raw = args.flags.every ?? VERIFY_COMMAND.options.every.default;
  if (typeof raw !== 'string') throw new UsageError('--every needs a duration, e.g. --every 5m');
  let ms: number;
  try {
    ms = durationMs(raw);
  } catch {
    throw new UsageError(`--every must be a duration such as 30s, 5m or 1h, got ${JSON.stringify(raw)}`);
  }
  if (ms < MIN_EVERY_MS) throw new UsageError(`--every must be at least 10s, got ${raw}`);
  return { text: raw, ms };
}

interface ScheduleOutcome {
  scheduleId: string;
  outcome: 'created' | 'updated';
  everyMs: number;
  overlap: string;
  nextActionTimes: string[];
}

/**
 * Create the schedule, or update it to this spec and interval when it exists. Idempotent: running it
 * twice leaves one schedule with the same definition.
 */
export async function scheduleVerification(client: Client, spec: PipelineSpec, everyMs: number, taskQueue = TASK_QUEUE): Promise<ScheduleOutcome> {
  const scheduleId = verifyScheduleId(spec.name);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'VerifyPipelineWorkflow',
    // The schedule appends the scheduled time: verify:<name>-2025-11-26T13:00:00Z.
    workflowId: scheduleId,
    taskQueue,
    args: [{ spec }] satisfies [VerifyPipelineInput],
    // One run is seconds; a run that hangs (no worker) must not stay open forever.
    workflowExecutionTimeout: Math.max(everyMs * 3, 15 * 60_000),
    ...verificationStartMetadata(spec),
  };
  const definition = {
    spec: { intervals: [{ every: everyMs }] },
    action,
    policies: { overlap: 'SKIP' as const, catchupWindow: everyMs },
  };
  let outcome: ScheduleOutcome['outcome'] = 'created';
  try {
    await client.schedule.create<typeof VerifyPipelineWorkflow>({ scheduleId, ...definition });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    outcome = 'updated';
    await client.schedule.getHandle(scheduleId).update((previous: ScheduleDescription) => ({
      ...previous,
      ...definition,
      state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
    }));
  }
  const described = await client.schedule.getHandle(scheduleId).describe();
  return {
    scheduleId,
    outcome,
    everyMs,
    overlap: described.policies.overlap ?? 'SKIP (server default)',
    nextActionTimes: described.info.nextActionTimes.map((d) => d.toISOString()),
  };
}

/** Delete the schedule; false when there was none. */
async function unscheduleVerification(client: Client, name: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(verifyScheduleId(name)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------

export function renderVerification(out: Out, r: VerificationResult): void {
  if (out.json) {
    out.result(r, '');
    return;
  }
  out.text(`verification of ${r.pipeline}: ${r.ok ? 'PASS' : 'FAIL'} in ${formatMs(r.durationMs)} (run ${r.runId})`);
  const f = r.freshness;
  const freshness = f.arrived
    ? `${formatMs(f.freshnessMs ?? 0)}${f.hopsMs ? ` (${Object.entries(f.hopsMs).map(([hop, ms]) => `${hop} +${ms === null ? '?' : formatMs(ms)}`).join(', ')})` : ''}, limit ${formatMs(f.limitMs)}`
    : f.sent
      ? `probe did not arrive within ${formatMs(f.timeoutMs)}`
      : `probe not sent: ${f.error}`;
  out.text(`freshness    ${freshness}`);
  if (r.compare.error) out.text(`comparison   failed: ${r.compare.error}`);
  else {
    const c = r.compare;
    const attempts = `${c.attempts} attempt${c.attempts === 1 ? '' : 's'}`;
    out.text(
      `comparison   ${attempts}: ` +
        (c.consistent
          ? `the sink equals the contract${c.earlier.length ? ' (earlier differences were changes in flight)' : ''}`
          : c.ok
            ? c.cutMs !== undefined
              ? `no lasting difference at a cut of ${formatMs(c.cutMs)}: every key whose inputs held still equals the contract; keys whose inputs moved are checked by the next run (and are stale once unwritten for longer than ${formatMs(r.freshness.limitMs)})`
              : `no lasting difference; ${c.moving} differing cells changed between attempts (changes in flight: the source kept changing)`
            : 'differences that persisted through every attempt:'),
    );
    const cut = c.tables.some((t) => t.checked !== undefined);
    out.table(c.tables, ['table', 'rows', ...(cut ? ['checked', 'moving keys'] : []), 'missing', 'extra', 'different', ...(cut ? ['stale'] : []), 'moving', 'result'], (t) => [
      t.table,
      `${t.actualCount}/${t.expectedCount}`,
      ...(cut ? [String(t.checked ?? 0), String(t.movingKeys ?? 0)] : []),
      String(t.missing.count),
      String(t.extra.count),
      String(t.different.count),
      ...(cut ? [String(t.stale?.count ?? 0)] : []),
      String(t.moving),
      t.ok ? 'ok' : 'DIFFERS',
    ]);
  }
  if (r.replication.error !== null) out.text(`replication  could not be read: ${r.replication.error}`);
  else {
    const slots = r.replication.slots;
    const lag = Math.max(0, ...slots.map((s) => s.lagBytes ?? 0));
    out.text(
      `replication  ${slots.filter((s) => s.active).length}/${slots.length} slots active, max lag ${formatBytes(lag)}, wal_status ${[...new Set(slots.map((s) => s.walStatus ?? 'missing'))].join('/')}; ` +
        `publications ${r.replication.problems.some((p) => p.kind.startsWith('publication')) ? 'NOT exact' : 'exact'}`,
    );
  }
  if (r.problems.length) {
    out.text('\nproblems:');
    for (const p of r.problems) out.text(`  - ${p}`);
    for (const t of r.compare.tables.filter((x) => !x.ok)) {
      for (const d of t.different.examples) out.text(`    ${t.table} ${JSON.stringify(d.key)} ${d.column}: sink ${JSON.stringify(d.actual)}, contract ${JSON.stringify(d.expected)}`);
      for (const m of t.missing.examples) out.text(`    ${t.table} ${JSON.stringify(m.key)} missing from the sink`);
      for (const x of t.extra.examples) out.text(`    ${t.table} ${JSON.stringify(x.key)} extra in the sink`);
      for (const s of t.stale?.examples ?? []) out.text(`    ${t.table} ${JSON.stringify(s.key)} not written since ${s.updatedAt} while its inputs moved: sink ${JSON.stringify(s.row)}, contract ${JSON.stringify(s.expected)}`);
    }
  }
  for (const n of r.notes) out.text(`note: ${n}`);
}

function renderHistory(out: Out, runs: StoredVerificationRun[]): void {
  out.table(runs, ['started', 'result', 'freshness', 'duration', 'summary'], (r) => {
    const d = r.details as { durationMs?: number; summary?: string; problems?: string[] };
    return [
      r.startedAt.slice(0, 19),
      r.ok === null ? 'running' : r.ok ? 'PASS' : 'FAIL',
      r.freshnessMs === null ? '-' : formatMs(r.freshnessMs),
      typeof d.durationMs === 'number' ? formatMs(d.durationMs) : '-',
      (r.ok ? (d.summary ?? '') : (d.problems?.[0] ?? d.summary ?? '')).slice(0, 100),
    ];
  });
}

// ---------------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------------

async function runNow(config: GridflowConfig, args: ParsedArgs, timeoutMs: number, out: Out): Promise<number> {
  const spec = specFromArgs(args, config);
  const { client, close } = await temporalClient(config);
  try {
    if ((await workerPollers(client, config.temporal.namespace)).length === 0) {
      out.progress('warning: no worker is polling the gridflow task queue — the run starts when one does: `gridflow worker start`');
    }
    const workflowId = `${verifyScheduleId(spec.name)}:now-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start<typeof VerifyPipelineWorkflow>('VerifyPipelineWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ spec }],
      ...verificationStartMetadata(spec),
    });
    out.progress(`verifying ${spec.name}: workflow ${workflowId} (${temporalUiLink(config, workflowId)})`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result after ${timeoutMs / 1000} s; the workflow ${workflowId} keeps going (see the Temporal UI)`)), timeoutMs);
    });
    try {
      const result = await Promise.race([handle.result(), timeout]);
      renderVerification(out, result);
      return result.ok ? 0 : 1;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new Error(`verification ${workflowId} failed: ${err.cause?.message ?? err.message}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await close();
  }
}

export async function verifyCommand(args: ParsedArgs, out: Out): Promise<number> {
  const call = bind(VERIFY_COMMAND, args);
  if (call.kind === 'help') return out.help(call.text, call.code);
  const config = loadConfig();
  switch (call.sub) {
    case 'schedule': {
      const every = everyFlag(args);
      const spec = specFromArgs(args, config);
      const { client, close } = await temporalClient(config);
      try {
        const s = await scheduleVerification(client, spec, every.ms);
        out.result(
          s,
          `schedule ${s.scheduleId} ${s.outcome}: verify ${spec.name} every ${every.text}, overlap ${s.overlap}` +
            (s.nextActionTimes[0] ? `; next run ${s.nextActionTimes[0]}` : ''),
        );
        if ((await workerPollers(client, config.temporal.namespace)).length === 0) {
          out.progress('warning: no worker is polling the gridflow task queue — scheduled runs wait until one does: `gridflow worker start`');
        }
        return 0;
      } finally {
        await close();
      }
    }
    case 'unschedule': {
      const name = pipelineName(args);
      const { client, close } = await temporalClient(config);
      try {
        const deleted = await unscheduleVerification(client, name);
        out.result({ scheduleId: verifyScheduleId(name), deleted }, deleted ? `schedule ${verifyScheduleId(name)} deleted` : `no schedule ${verifyScheduleId(name)}; nothing to do`);
        return 0;
      } finally {
        await close();
      }
    }
    case 'now':
      return runNow(config, args, call.values.timeout * 1000, out);
    case 'history': {
      const limit = call.values.n;
      const spec = specFromArgs(args, config);
      const runs = await listVerificationRuns(resolveConnection(spec.sink.connection, config), spec.name, limit);
      if (!out.json && runs.length === 0) {
        out.text(`no verification of ${spec.name} recorded yet; run \`gridflow verify now\` or \`gridflow verify schedule\``);
        return 0;
      }
      renderHistory(out, runs);
      return 0;
    }
    default:
      throw new UsageError(`unknown verify command ${call.sub}`);
  }
}
