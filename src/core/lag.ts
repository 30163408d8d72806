/**
 * Is the pipeline keeping up? The pure part: how far behind the sink is (from the freshness probes,
 * src/postgres/probe.ts), where Flink says the time goes (each operator's busy and back-pressured time),
 * and the sentence the watch and the verification say about it. Sandbox-safe: workflows import this.
 *
 * Why probes and metrics together: a probe is a reading, so it waits behind every reading on its path
 * and its lateness is the truth an operator needs ("the dashboard is 40 s old"); Flink's metrics
 * cannot say that, but they name the operator that is saturated (busy, while the ones before it are
 * back-pressured), which the probe cannot.
 */

/** One Flink vertex (a chain of operators) as its metrics describe it, the max over its subtasks. */
export interface VertexLoad {
  job: string;
  vertex: string;
  /** ms per second the vertex was busy processing (0–1000); NaN when Flink does not measure it. */
  busyMsPerSecond: number;
  /** ms per second the vertex waited for its downstream to take records. */
  backPressuredMsPerSecond: number;
}

/** How far behind the sink is, as the watch measured it. */
export interface FreshnessObservation {
  /** At least this many ms behind (src/postgres/probe.ts judgeProbeLag); null: no probe yet. */
  lagMs: number | null;
  /** The newest probe that came out everywhere: how long it took. */
  newestLatencyMs: number | null;
  /** The oldest probe still on its way: for how long. */
  pendingForMs: number | null;
  /** Epoch ms of the measurement (activity clock). */
  at: number;
}

interface Bottleneck {
  job: string;
  vertex: string;
  busyMsPerSecond: number;
  /** Vertices back-pressured by it (waiting on their downstream ≥ 100 ms/s), upstream of it in the same job. */
  backPressured: string[];
}

/** Busy above this is what Flink calls a bottleneck (its web UI colours it). */
const SATURATED_BUSY_MS = 500;
/** Below this, no operator is worth naming: the time is spent outside Flink's operators. */
const NAMEABLE_BUSY_MS = 200;
const BACKPRESSURED_MS = 100;

/**
 * The vertex Flink shows as the bottleneck: the busiest one, if it is busy enough to matter, with the
 * back-pressured vertices of its job (they wait on it, or on something after it). Null when every
 * operator is mostly idle: then the lag comes from outside the operators (the source database's
 * decoding, Fluss, the sink database, the machine's CPU).
 */
export function findBottleneck(loads: readonly VertexLoad[]): Bottleneck | null {
  const measured = loads.filter((l) => Number.isFinite(l.busyMsPerSecond));
  if (measured.length === 0) return null;
  const top = measured.reduce((a, b) => (b.busyMsPerSecond > a.busyMsPerSecond ? b : a));
  if (top.busyMsPerSecond < NAMEABLE_BUSY_MS) return null;
  const backPressured = loads.filter((l) => l.job === top.job && l !== top && l.backPressuredMsPerSecond >= BACKPRESSURED_MS).map((l) => l.vertex);
  return { job: top.job, vertex: top.vertex, busyMsPerSecond: Math.round(top.busyMsPerSecond), backPressured };
}

/** "dws: GroupAggregate[18] busy 990 ms/s (saturated; back-pressuring Source: dwd_reading…)" */
export function describeBottleneck(b: Bottleneck): string {
  const saturated = b.busyMsPerSecond >= SATURATED_BUSY_MS ? 'saturated' : 'the busiest operator';
  const waiting = b.backPressured.length ? `; back-pressuring ${b.backPressured.map(shortVertex).join(', ')}` : '';
  return `${b.job}: ${shortVertex(b.vertex)} busy ${b.busyMsPerSecond} ms/s (${saturated}${waiting})`;
}

/** The first operator of a chain, with its plan id: "GroupAggregate[18] -> Calc[19] -> …" → "GroupAggregate[18] …". */
export function shortVertex(name: string): string {
  const first = name.split(' -> ')[0].replace(/^\(/, '');
  const clipped = first.length > 60 ? `${first.slice(0, 59)}…` : first;
  return name.includes(' -> ') ? `${clipped} …` : clipped;
}

/**
 * The watch's sentence when the sink is further behind than `limitMs`, else null. `bottleneck`: what
 * Flink showed at the time (undefined: not asked; null: nothing saturated).
 */
export function judgeLag(f: FreshnessObservation | null, limitMs: number, bottleneck?: Bottleneck | null): string | null {
  if (!f || f.lagMs === null || f.lagMs <= limitMs) return null;
  const behind =
    f.pendingForMs !== null && f.pendingForMs >= f.lagMs
      ? `a freshness probe sent ${seconds(f.pendingForMs)} ago has not reached the sink`
      : `freshness ${seconds(f.lagMs)}`;
  const where =
    bottleneck === undefined
      ? ''
      : bottleneck === null
        ? '; no Flink operator is saturated, so the time goes outside them (source decoding, Fluss, the sink database or the machine)'
        : `; bottleneck ${describeBottleneck(bottleneck)}`;
  return `falling behind: ${behind} (limit ${seconds(limitMs)})${where}`;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
