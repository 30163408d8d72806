/**
 * Verification of a running pipeline, the pure part: the workflow's input and its defaults, the facts
 * the verification activities return, and the judgement (pass/fail, one sentence per problem, the short
 * summary the pipeline workflow shows and alerts with). No I/O and no Node built-ins: the verification
 * workflow imports this file (the types from src/postgres are erased at compile time).
 */
import { z } from 'zod';
import type { TrackedComparison } from '../postgres/compare';
import type { CutComparison, CutTableComparison } from '../postgres/cut';
import type { ReplicationProblem } from '../postgres/source/replication';
import { PipelineSpecInput, durationMs } from './spec';

// ---------------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------------

const duration = z.string().regex(/^(\d+)\s*(ms|s|m|min|h)$/, 'a duration such as 500ms, 10s, 5min or 1h');

/** Options of one verification run; every one has a default. */
export const VerifyOptions = z
  .object({
    /** How long to wait for the probe to reach the sink before calling the pipeline stalled. */
    probeTimeout: duration.default('60s'),
    /** A probe that arrives later than this is a freshness failure (default: the spec's watch.maxFreshness). */
    maxFreshness: duration.optional(),
    /** Comparisons before a difference counts as real (changes may still be in flight). */
    compareAttempts: z.number().int().min(1).max(20).default(4),
    /** Wait between comparisons. */
    compareRetryWait: duration.default('3s'),
    /** Replication slot lag above this is a problem (default: DEFAULT_MAX_LAG_BYTES, 256 MiB). */
    maxLagBytes: z.number().int().positive().optional(),
    /** The ingest job should be reading every slot (false for a paused pipeline). */
    expectActive: z.boolean().default(true),
    /** Probes kept in the source after the run (older ones are deleted; their arrivals go with them). */
    keepProbes: z.number().int().min(1).max(10_000).default(20),
  })
  .strict();
export type VerifyOptions = z.infer<typeof VerifyOptions>;
export type VerifyOptionsInput = z.input<typeof VerifyOptions>;

export interface VerifyPipelineInput {
  /** The pipeline to verify (names and addresses only; credentials are resolved in the worker). */
  spec: PipelineSpecInput;
  /** Id of the run in gridflow.verification_runs (default: `<workflow id>/<run id>`). */
  runId?: string;
  options?: VerifyOptionsInput;
}

/** Validate the options; the error names the field. */
export function parseVerifyOptions(input: unknown): VerifyOptions {
  const parsed = VerifyOptions.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.length ? `options.${issue.path.join('.')}` : 'options';
  if (issue.code === 'unrecognized_keys') return fail(`invalid verification input: ${field}: unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`);
  return fail(`invalid verification input: ${field}: ${issue.message}`);
}

function fail(message: string): never {
  throw new Error(message);
}

interface VerifyLimits {
  probeTimeoutMs: number;
  maxFreshnessMs: number;
  compareRetryWaitMs: number;
}

export function verifyLimits(options: VerifyOptions, spec?: { watch: { maxFreshness: string } }): VerifyLimits {
  return {
    probeTimeoutMs: durationMs(options.probeTimeout),
    maxFreshnessMs: durationMs(options.maxFreshness ?? spec?.watch.maxFreshness ?? '30s'),
    compareRetryWaitMs: durationMs(options.compareRetryWait),
  };
}

// ---------------------------------------------------------------------------------------------------
// Facts, as the activities return them
// ---------------------------------------------------------------------------------------------------

export interface ProbeSent {
  probeId: string;
  /** The probe's number (src/postgres/probe.ts), as numeric text. */
  value?: string;
  /** Epoch ms, the source's clock. */
  sentAt: number;
  at: number;
}

/** The ADS tables the probe comes out of (src/postgres/probe.ts PROBE_HOPS). */
type ProbeHopsMs = Record<'health' | 'capacity' | 'dashboard', number | null>;

export interface ProbeArrival {
  probeId: string;
  arrived: boolean;
  /** When the probe (or a newer one) had come out of every hop, minus when it was sent (sink clock − source clock). */
  freshnessMs: number | null;
  /** Per hop, ms after sending (null: not yet). The hops share the path up to the ads job's health writer. */
  hopsMs: ProbeHopsMs;
  /** How long the activity waited. */
  waitedMs: number;
  at: number;
}

export interface JobState {
  job: string;
  flinkName: string;
  /** The live instance's state, else the newest instance's, else null (no job of that name). */
  state: string | null;
}

/**
 * One table's comparison in reconcile.compareTable's shape (at most 5 examples of each kind), holding
 * only the differences that persisted through every attempt so far, plus `moving`: what was in flight
 * (keys whose inputs moved during the cut, and differences that did not persist). A comparison at a
 * cut (src/postgres/cut.ts) also says how many keys it checked, how many moved, and the stale ones;
 * runs recorded before it have none of the three.
 */
export type TableResult = TrackedComparison & Partial<Pick<CutTableComparison, 'checked' | 'movingKeys' | 'stale'>>;

/** One comparison at a cut (src/postgres/cut.ts compareAtCut, read by reconcile.ts readCut). */
export interface CutAttempt extends CutComparison {
  /** From source snapshot A to B, ms: how long a quiet key's inputs held still. */
  cutMs: number;
  /** The whole attempt's reading, ms. */
  readMs: number;
  at: number;
}

/** One comparison attempt (src/postgres/compare.ts compareTracked). */
export interface WarehouseComparison {
  /** Every table equal to the contract in this attempt. */
  consistent: boolean;
  tables: TableResult[];
  /** Fingerprints of the persisting differences: the next attempt's `track`. */
  track: string[];
  /** Differing cells in this attempt, persisting or not. */
  cells: number;
  at: number;
}

interface SlotHealth {
  name: string;
  table: string;
  exists: boolean;
  active: boolean;
  walStatus: string | null;
  lagBytes: number | null;
  retainedBytes: number | null;
}

interface PublicationHealth {
  name: string;
  table: string;
  exists: boolean;
  /** schema.table members, sorted. */
  tables: string[];
}

export interface ReplicationHealth {
  ok: boolean;
  currentLsn: string;
  slots: SlotHealth[];
  publications: PublicationHealth[];
  problems: Array<Pick<ReplicationProblem, 'kind' | 'name' | 'message'>>;
  /** gridflow_<pipeline>_* slots that belong to no captured table (reported, never touched). */
  otherSlots: string[];
  at: number;
}

// ---------------------------------------------------------------------------------------------------
// The result of a run
// ---------------------------------------------------------------------------------------------------

export interface FreshnessResult {
  probeId: string;
  /** The probe's number (src/postgres/probe.ts): how to find it in gridflow.probe_log. */
  value?: string | null;
  sent: boolean;
  arrived: boolean;
  freshnessMs: number | null;
  /** Per hop, ms after sending; null before the probe was awaited. */
  hopsMs: ProbeHopsMs | null;
  waitedMs: number | null;
  limitMs: number;
  timeoutMs: number;
  /** Only when the probe did not arrive: which of the pipeline's jobs run. */
  jobs: JobState[] | null;
  /** Only when the probe was late or did not arrive: the operator Flink's metrics show saturated. */
  bottleneck?: string | null;
  error: string | null;
}

export interface CompareResult {
  /** No difference persisted through every attempt. */
  ok: boolean;
  /** The last attempt found the sink equal to the contract (false under continuous writes, even when ok). */
  consistent: boolean;
  attempts: number;
  /** The last attempt's tables: only differences seen identically in every attempt. */
  tables: TableResult[];
  /** Differing cells of the last attempt that were not there, identically, in every earlier one (in flight). */
  moving: number;
  /** What each earlier attempt saw ("attempt 1: 141 differing cells, 141 persisting so far"). */
  earlier: string[];
  error: string | null;
  /** Compared at a cut: the last attempt's time from source snapshot A to B, ms (absent: fingerprints only, before issue 22). */
  cutMs?: number;
}

export interface VerificationResult {
  runId: string;
  pipeline: string;
  ok: boolean;
  /** Epoch ms (activity clocks): the first and the last observation of the run. */
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  freshness: FreshnessResult;
  compare: CompareResult;
  replication: (Omit<ReplicationHealth, 'at'> & { error: null }) | { ok: false; error: string };
  /** Why ok is false, one sentence each (empty when ok). */
  problems: string[];
  /** One short paragraph: what the pipeline workflow shows and alerts with. */
  summary: string;
  signal: { workflowId: string; delivered: boolean; note: string | null };
  recorded: boolean;
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------
// Judgement (pure)
// ---------------------------------------------------------------------------------------------------

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
export const formatMs = (ms: number) => (ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

const show = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'string' ? v : JSON.stringify(v));
const formatKey = (key: Record<string, unknown>) =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');

/** 45 s, 5.1 min, 2.3 h. */
function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Findings in these tables: rows missing or extra, differing cells, stale keys (0: nothing differs). */
export const findingCount = (tables: readonly TableResult[]) => tables.reduce((n, t) => n + t.missing.count + t.extra.count + t.different.cells + (t.stale?.count ?? 0), 0);

/**
 * "dws_region_stats: 1 different (running_count 1), e.g. region=华北: running_count is 7 in the sink, 8 by the contract."
 * "ads_grid_dashboard: 1 stale; e.g. dashboard_id=grid not written for 5.1 min while its inputs moved."
 */
export function describeTable(t: TableResult): string {
  if (t.ok) return `${t.table}: ok (${t.actualCount} rows)`;
  const parts: string[] = [];
  if (t.missing.count) parts.push(`${t.missing.count} missing`);
  if (t.extra.count) parts.push(`${t.extra.count} extra`);
  if (t.different.count) {
    const cols = Object.entries(t.different.columns)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    parts.push(`${t.different.count} different (${cols})`);
  }
  if (t.stale?.count) parts.push(`${t.stale.count} stale`);
  const examples: string[] = [];
  const s = t.stale?.examples[0];
  if (s) examples.push(`${formatKey(s.key)} not written for ${formatAge(s.ageMs)} while its inputs moved`);
  const d = t.different.examples[0];
  if (d) examples.push(`${formatKey(d.key)}: ${d.column} is ${show(d.actual)} in the sink, ${show(d.expected)} by the contract`);
  const m = t.missing.examples[0];
  if (m) examples.push(`${formatKey(m.key)} missing from the sink`);
  const x = t.extra.examples[0];
  if (x) examples.push(`${formatKey(x.key)} in the sink but not in the contract`);
  return `${t.table}: ${parts.join(', ')}${examples.length ? `; e.g. ${examples.join('; ')}` : ''}.`;
}

function describeJobs(jobs: readonly JobState[] | null): string {
  if (!jobs) return '';
  const stopped = jobs.filter((j) => j.state !== 'RUNNING');
  if (stopped.length === 0) return ': every job is RUNNING, so one of them emits nothing (check its exceptions and checkpoints)';
  return `: ${stopped.map((j) => `job ${j.flinkName} is ${j.state ?? 'not deployed'}`).join(', ')}`;
}

/** A probe that never came out: a stopped job says why; else a saturated operator; else a job emits nothing. */
function notMoving(f: FreshnessResult): string {
  const stopped = (f.jobs ?? []).some((j) => j.state !== 'RUNNING');
  if (!stopped && f.bottleneck) return `at least that far behind (bottleneck: ${f.bottleneck})`;
  return `not moving data${describeJobs(f.jobs)}`;
}

/** Why the run fails, one sentence each; empty = pass. Pure. */
export function judgeVerification(r: Pick<VerificationResult, 'freshness' | 'compare' | 'replication'>): string[] {
  const problems: string[] = [];
  const f = r.freshness;
  if (!f.sent) {
    problems.push(`The freshness probe could not be sent: ${f.error ?? 'unknown error'}.`);
  } else if (f.error && !f.arrived) {
    problems.push(`The freshness probe ${f.probeId} could not be awaited: ${f.error}.`);
  } else if (!f.arrived) {
    problems.push(
      `Freshness: probe ${f.probeId} did not reach the sink within ${seconds(f.timeoutMs)}, so the pipeline is ${notMoving(f)}.`,
    );
  } else if (f.freshnessMs !== null && f.freshnessMs > f.limitMs) {
    problems.push(`Freshness: probe ${f.probeId} took ${formatMs(f.freshnessMs)} to reach the sink, more than the limit of ${formatMs(f.limitMs)}${slowestHop(f)}.`);
  }

  const c = r.compare;
  if (c.error) problems.push(`The sink could not be compared with the contract: ${c.error}.`);
  else for (const t of c.tables) if (!t.ok) problems.push(describeTable(t));

  const rep = r.replication;
  if (rep.error !== null) problems.push(`Replication health could not be read: ${rep.error}.`);
  else for (const p of rep.problems) problems.push(p.message);
  return problems;
}

/** Where the time went: the operator Flink shows saturated, else the hop that came out last. */
function slowestHop(f: FreshnessResult): string {
  if (f.bottleneck) return ` (bottleneck: ${f.bottleneck})`;
  const hops = Object.entries(f.hopsMs ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number');
  if (hops.length === 0) return '';
  const [name, ms] = hops.reduce((a, b) => (b[1] > a[1] ? b : a));
  return ` (last out: ${name}, ${formatMs(ms)})`;
}

const MAX_SUMMARY = 1500;

/** The short text the pipeline workflow stores as lastVerification.summary (and alerts with). Pure. */
export function summarizeVerification(r: Pick<VerificationResult, 'freshness' | 'compare' | 'replication' | 'problems'>): string {
  if (r.problems.length) {
    const text = `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}: ${r.problems.join(' ')}`;
    return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
  }
  const rows = r.compare.tables.reduce((n, t) => n + t.actualCount, 0);
  const parts = [
    r.compare.consistent
      ? `all ${r.compare.tables.length} sink tables equal the contract (${rows} rows)`
      : r.compare.cutMs !== undefined
        ? describeCut(r.compare.tables, r.freshness.limitMs)
        : `no lasting difference from the contract in ${r.compare.tables.length} sink tables (${rows} rows; ${r.compare.moving} cells in flight, the source kept changing)`,
  ];
  if (r.freshness.freshnessMs !== null) parts.push(`freshness ${formatMs(r.freshness.freshnessMs)}`);
  if (r.replication.error === null) {
    const lag = Math.max(0, ...r.replication.slots.map((s) => s.lagBytes ?? 0));
    parts.push(`${r.replication.slots.length} replication slots healthy (max lag ${formatBytes(lag)})`);
  }
  return `ok: ${parts.join(', ')}`;
}

/**
 * What a passing comparison at a cut proves, table by table: "no lasting difference at the cut (every
 * key whose inputs held still equals the contract): 4 tables: all 28 keys checked; ads_equipment_health
 * 12 of 300 keys checked (288 moving); …; no moving key unwritten for more than 30 s". Pure.
 */
export function describeCut(tables: readonly TableResult[], maxFreshnessMs: number): string {
  const still = tables.filter((t) => !t.movingKeys);
  const keys = still.reduce((n, t) => n + (t.checked ?? 0), 0);
  const parts: string[] = [];
  if (still.length) parts.push(`${still.length === tables.length ? 'every table' : `${still.length} table${still.length === 1 ? '' : 's'}`}: all ${keys} keys checked`);
  for (const t of tables.filter((x) => x.movingKeys)) {
    const checked = t.checked ?? 0;
    parts.push(`${t.table} ${checked} of ${checked + t.movingKeys!} keys checked (${t.movingKeys} moving)`);
  }
  const gone = tables.reduce((n, t) => n + t.moving - (t.movingKeys ?? 0), 0);
  if (gone) parts.push(`${gone} difference${gone === 1 ? '' : 's'} gone on a later look (in flight)`);
  parts.push(`no moving key unwritten for more than ${seconds(maxFreshnessMs)}`);
  return `no lasting difference at the cut (every key whose inputs held still equals the contract): ${parts.join('; ')}`;
}

/** Everything the run recorded as gridflow.verification_runs.details (small: examples are capped). */
export function verificationDetails(r: VerificationResult): Record<string, unknown> {
  return {
    runId: r.runId,
    durationMs: r.durationMs,
    summary: r.summary,
    problems: r.problems,
    freshness: r.freshness,
    compare: r.compare,
    replication: r.replication,
    signal: r.signal,
    notes: r.notes,
  };
}
