/**
 * Repair, the pure part: what a verification's finding means for the pipeline's state, whether it
 * starts a repair (the spec's `repair.policy`), what a repair's plan is, and how it reads.
 *
 * A repair rebuilds what readers see from the layer below, beside the tables readers use, and lets
 * readers have it only once it is proven equal to the contract:
 *
 *   claim-shadow   the shadow and replaced schema names in the ownership registry
 *   shadow-tables  `<schema>_repair`: the six tables LIKE the live ones, empty
 *   shadow-submit  a second sink job, `gridflow/<name>/sink-repair`: Fluss DWS/ADS (a full read) → the shadow
 *   shadow-equal   compare the shadow with the contract at a consistent cut until equal (within repair.timeout)
 *   shadow-stop    stop the shadow job with a savepoint (its Fluss offsets = what the shadow holds)
 *   live-stop      stop the pipeline's sink job with a savepoint — readers keep the last numbers from here
 *   switch         one transaction: the live tables → `<schema>_replaced`, the shadow's → `<schema>`
 *   live-start     the sink job from the SHADOW's savepoint: it goes on from exactly what the new tables hold
 *   prove          compare the live tables with the contract at a cut until equal (within repair.timeout)
 *   cleanup        drop `<schema>_replaced` and `<schema>_repair`, release their names
 * Compensations (a forward step failed): cancel-shadow, restart-live (from the sink's own savepoint
 * before the switch, from the shadow's after it), drop-shadow. Readers never see an empty or half-filled
 * table: before the switch they read the old tables, after it the proven ones.
 *
 * Bounded: one automatic repair per difference (a difference seen again after it → DEGRADED "a repair
 * did not make it equal", no second automatic attempt until a verification has found the sink equal);
 * an operator may always ask again (`gridflow repair`). Pure; no Node built-ins (workflow sandbox).
 */
import { Plan, StepDraft, numbered } from './plans';
import type { PipelineSpec } from './spec';
import type { PipelineState, VerifiedDifference } from './types';
import { flussDatabaseOf } from './versions';

/**
 * The layer a rebuild reads from: `ads` — the sink from Fluss DWS/ADS, readers served the whole time;
 * `source` — everything from a new snapshot, readers kept on the last numbers until the switch. `dws`
 * and `dwd` (a shadow Fluss database beside the pipeline's own) are not built yet.
 */
export const REPAIR_SOURCES = ['ads', 'dws', 'dwd', 'source'] as const;
export type RepairFrom = (typeof REPAIR_SOURCES)[number];

/** Where a repair's sink goes, and the names it runs under. */
export interface RepairNames {
  shadowSchema: string;
  replacedSchema: string;
  /** The shadow sink job's Flink name (under the pipeline's `gridflow/<name>/` prefix). */
  flinkName: string;
  /** The name its probe arrivals are recorded under in gridflow.probe_hops (never the pipeline's). */
  probePipeline: string;
}

export function repairNames(spec: Pick<PipelineSpec, 'name' | 'sink'>): RepairNames {
  const schema = spec.sink.schema!;
  return {
    shadowSchema: `${schema}_repair`,
    replacedSchema: `${schema}_replaced`,
    flinkName: `gridflow/${spec.name}/sink-repair`,
    probePipeline: `${spec.name}_repair`,
  };
}

/** What a verification found different, as the pipeline remembers it until a verification finds it equal. */
export interface SinkDifference {
  /** Epoch ms of the first verification that found it (kept while later ones still do). */
  since: number;
  /** The newest verification that found it. */
  runId: string;
  at: number;
  /** Rows (missing, extra, different) and the tables they are in. */
  rows: number;
  tables: string[];
  /** The verification's own summary. */
  summary: string;
}

export interface RepairRecord {
  id: string;
  trigger: 'auto' | 'operator';
  from: RepairFrom;
  dryRun: boolean;
  /** What was wrong when it started (the difference's sentence, or the operator's reason). */
  reason: string;
  startedAt: number;
  finishedAt: number | null;
  outcome: 'running' | 'repaired' | 'not-equal' | 'failed' | 'planned';
  /** The failure, or what was rebuilt and how long it took. */
  note: string | null;
  /** From stopping the pipeline's sink job to its successor running: readers saw no update meanwhile. */
  readersFrozenMs: number | null;
  plan: Plan;
}


/** A comparison's result as the verification signals it (compared: it reached a verdict). */
export function verifiedDifference(compare: {
  error: string | null;
  attempts: number;
  tables: ReadonlyArray<{ table: string; ok: boolean; missing: { count: number }; extra: { count: number }; different: { count: number }; stale?: { count: number } }>;
}): VerifiedDifference {
  const wrong = compare.tables.filter((t) => !t.ok);
  return {
    compared: compare.error === null && compare.attempts > 0 && compare.tables.length > 0,
    rows: wrong.reduce((n, t) => n + t.missing.count + t.extra.count + t.different.count + (t.stale?.count ?? 0), 0),
    tables: wrong.map((t) => t.table),
  };
}

/** When the sink was last proven equal, and what differs now: the reason a pipeline is not RUNNING. */
export function differenceSentence(d: SinkDifference, lastEqualAt: number | null): string {
  const equal = lastEqualAt === null ? 'never proven equal yet' : `last proven equal ${new Date(lastEqualAt).toISOString()}`;
  return (
    `sink differs from the contract: ${d.rows} row${d.rows === 1 ? '' : 's'} in ${d.tables.length} table${d.tables.length === 1 ? '' : 's'} ` +
    `(${d.tables.join(', ')}) since ${new Date(d.since).toISOString()}; ${equal}`
  );
}

/**
 * Fold a verification's result into what the pipeline remembers: a difference starts (or goes on), an
 * equal comparison ends it. A run that could not compare changes nothing.
 */
export function foldVerification(
  current: SinkDifference | null,
  lastEqualAt: number | null,
  run: { runId: string; at: number; summary: string; difference?: VerifiedDifference },
): { difference: SinkDifference | null; lastEqualAt: number | null } {
  const d = run.difference;
  if (!d || !d.compared) return { difference: current, lastEqualAt };
  if (d.rows === 0) return { difference: null, lastEqualAt: run.at };
  return {
    difference: { since: current?.since ?? run.at, runId: run.runId, at: run.at, rows: d.rows, tables: d.tables, summary: run.summary },
    lastEqualAt,
  };
}

/**
 * Does this difference start a repair? `start` under policy auto, once per difference (a repair that
 * ran since the difference began and did not make it equal is not tried again by itself); `ask` under
 * policy ask (the reason names the command); null otherwise — and while the pipeline is in no state to
 * rebuild (deploying, paused, retiring, another change running).
 */
export function decideRepair(input: {
  policy: 'auto' | 'ask' | 'off';
  state: PipelineState;
  difference: SinkDifference | null;
  last: RepairRecord | null;
  busy: boolean;
  /** A job read past what Fluss still had (the watch's flussDataLoss): the layers in Fluss cannot be trusted. */
  flussLostData: boolean;
}): { kind: 'start'; from: RepairFrom; why: string } | { kind: 'ask'; why: string } | null {
  const { difference, last } = input;
  if (!difference || input.policy === 'off') return null;
  if (!['RUNNING', 'DEGRADED', 'RECOVERING'].includes(input.state) || input.busy) return null;
  if (last?.outcome === 'running') return null;
  // What ran for this difference already: a sink rebuild that did not make it equal escalates, once, to the source.
  const tried = last && !last.dryRun && last.startedAt >= difference.since ? last : null;
  if (tried && !(tried.from === 'ads' && tried.outcome === 'not-equal')) return null;
  const from: RepairFrom = input.flussLostData || tried ? 'source' : 'ads';
  if (input.policy === 'ask') return { kind: 'ask', why: `repair.policy is ask: run gridflow repair${from === 'source' ? ' --from source' : ''} to rebuild the sink beside the one readers use` };
  const because = input.flussLostData ? 'Fluss lost data a job had read' : tried ? `the rebuild from Fluss (repair ${tried.id}) did not make it equal` : null;
  return { kind: 'start', from, why: `repair.policy auto: ${difference.rows} row(s) in ${difference.tables.join(', ')}${because ? `; from the source: ${because}` : ''}` };
}

/**
 * A job read past what Fluss still had (the watch's flussDataLoss, at `lostAt`): under repair.policy
 * auto, rebuild from the source once — whether or not a verification has found the sink different yet,
 * since nothing downstream of the loss can be trusted. Not again for the same loss.
 */
export function decideLossRepair(input: { policy: 'auto' | 'ask' | 'off'; state: PipelineState; lostAt: number | null; last: RepairRecord | null; busy: boolean }): { from: 'source'; why: string } | null {
  const { lostAt, last } = input;
  if (lostAt === null || input.policy !== 'auto' || input.busy) return null;
  if (!['RUNNING', 'DEGRADED', 'RECOVERING'].includes(input.state)) return null;
  if (last && (last.outcome === 'running' || (!last.dryRun && last.from === 'source' && last.startedAt >= lostAt))) return null;
  return { from: 'source', why: `repair.policy auto: Fluss lost data a job had read (${new Date(lostAt).toISOString()}); everything downstream of it is rebuilt from a new snapshot` };
}

/** Why an operator's repair request cannot run now, or null. */
export function repairRefusal(input: { state: PipelineState; busy: boolean; running: RepairRecord | null }, request: { from?: unknown }): string | null {
  const from = request?.from ?? 'ads';
  if (typeof from !== 'string' || !(REPAIR_SOURCES as readonly string[]).includes(from)) {
    return `from must be one of ${REPAIR_SOURCES.join(', ')}, got ${JSON.stringify(from)}`;
  }
  if (from === 'dws' || from === 'dwd') {
    return (
      `a rebuild from ${from} is not available in this version: it needs a shadow Fluss database beside the pipeline's own. ` +
      'gridflow repair --from ads rebuilds the sink from Fluss; --from source rebuilds everything from a new snapshot'
    );
  }
  if (input.running && input.running.outcome === 'running') return `repair ${input.running.id} is running (started ${new Date(input.running.startedAt).toISOString()})`;
  if (input.busy) return 'another change (a redeploy, pause, resume or savepoint) is running; ask again when it has finished';
  if (!['RUNNING', 'DEGRADED', 'RECOVERING'].includes(input.state)) return `the pipeline is ${input.state}; a repair needs its jobs running`;
  return null;
}

/**
 * The repair's steps (see the header), numbered, all pending. From the source, the jobs are stopped
 * first and everything in Fluss is rebuilt from a new snapshot: readers keep the last numbers (never an
 * empty table) from the stop to the switch.
 */
export function planRepair(spec: Pick<PipelineSpec, 'name' | 'sink' | 'repair' | 'fluss'>, from: RepairFrom): Plan {
  const n = repairNames(spec);
  const live = spec.sink.schema!;
  const fromSource: StepDraft[] =
    from === 'source'
      ? [
          { kind: 'stop-all', what: 'cancel every job (readers keep the last numbers from here): the rebuild reads new slots' },
          { kind: 'reset-source', what: `drop the replication slots and publications, and the Fluss database ${flussDatabaseOf(spec)}` },
          { kind: 'prepare-source', what: 'new replication slots and publications: a new snapshot' },
          { kind: 'tables', what: `create the Fluss tables in ${flussDatabaseOf(spec)}` },
          { kind: 'submit-upstream', what: 'start ingest, dws and ads without state (ingest from the snapshot)' },
        ]
      : [];
  const forward: StepDraft[] = [
    { kind: 'claim-shadow', what: `claim the sink schemas ${n.shadowSchema} and ${n.replacedSchema} for ${spec.name}` },
    { kind: 'shadow-tables', what: `create ${n.shadowSchema}: the six tables like ${live}'s, empty` },
    ...fromSource,
    { kind: 'shadow-submit', what: `start ${n.flinkName}: Fluss DWS/ADS (read in full) → ${n.shadowSchema}` },
    { kind: 'shadow-equal', what: `wait until ${n.shadowSchema} equals the contract at a consistent cut (at most ${spec.repair.timeout})` },
    { kind: 'shadow-stop', what: `stop ${n.flinkName} with a savepoint` },
    ...(from === 'source' ? [] : [{ kind: 'live-stop' as const, job: 'sink' as const, what: `stop sink with a savepoint (readers keep the last numbers from here)` }]),
    { kind: 'switch', what: `switch readers in one transaction: ${live}'s tables → ${n.replacedSchema}, ${n.shadowSchema}'s → ${live}` },
    { kind: 'live-start', job: 'sink', what: `start sink from ${n.flinkName}'s savepoint, writing ${live}` },
    { kind: 'prove', what: `compare ${live} with the contract at a consistent cut until equal (at most ${spec.repair.timeout})` },
    { kind: 'cleanup', what: `drop ${n.replacedSchema} and ${n.shadowSchema}, release their names` },
  ];
  const compensations: StepDraft[] = [
    { kind: 'cancel-shadow', what: `cancel ${n.flinkName} if it runs` },
    { kind: 'restart-live', job: 'sink', what: 'start sink again if it was stopped (from its own savepoint before the switch, from the shadow’s after it)' },
    { kind: 'drop-shadow', what: `drop ${n.shadowSchema} and ${n.replacedSchema} if they exist, release their names` },
  ];
  return { kind: 'repair', steps: numbered(forward, compensations) };
}

/** The sentence for a repair's end, for events, the alert and status. */
export function repairSentence(r: RepairRecord): string {
  const took = r.finishedAt === null ? '' : ` in ${Math.round((r.finishedAt - r.startedAt) / 1000)} s`;
  const frozen = r.readersFrozenMs === null ? '' : `; readers saw no update for ${(r.readersFrozenMs / 1000).toFixed(1)} s`;
  switch (r.outcome) {
    case 'repaired':
      return `repair ${r.id} (${r.trigger}, from ${r.from}): the sink was rebuilt and proven equal to the contract${took}${frozen}`;
    case 'not-equal':
      return `repair ${r.id} (${r.trigger}, from ${r.from}) did not make the sink equal${took}: ${r.note ?? ''}`;
    case 'failed':
      return `repair ${r.id} (${r.trigger}, from ${r.from}) failed${took}; readers kept the tables they had: ${r.note ?? ''}`;
    case 'planned':
      return `repair ${r.id} (dry run, from ${r.from}): ${r.plan.steps.filter((s) => !s.rollback).length} steps planned, nothing done`;
    default:
      return `repair ${r.id} (${r.trigger}, from ${r.from}) running since ${new Date(r.startedAt).toISOString()}`;
  }
}
