/**
 * Observing whether the pipeline keeps up: the freshness probe (one sent and the earlier ones read
 * back, src/postgres/probe.ts) and every running job's operator load from Flink's metrics. Shared by
 * the pipeline workflow's watch and the verification. Observations: nothing here changes the
 * pipeline's data (the probe is a reading no contract table sees).
 */
import { jobNameOf } from '../core/versions';
import { FlinkRestClient } from '../flink/rest';
import { FreshnessObservation, VertexLoad } from '../core/lag';
import { JOB_NAMES, PipelineSpec } from '../core/spec';
import { cleanupProbes, measureProbeLag, sendProbe } from '../postgres/probe';
import { ActivityDeps } from './context';
import { classified } from './classify';

/** Probes the watch keeps in the source (one per watch round): enough to see a backlog minutes long. */
const WATCH_PROBES_KEPT = 60;

const LOAD_METRICS = ['busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond'] as const;

/** Busy and back-pressured time of every vertex of the pipeline's RUNNING jobs (max over subtasks). */
export async function observeVertexLoads(rest: FlinkRestClient, spec: Pick<PipelineSpec, 'name' | 'generation'>): Promise<VertexLoad[]> {
  const all = await rest.jobsOverview();
  const loads: VertexLoad[] = [];
  for (const job of JOB_NAMES) {
    const live = all.find((j) => j.name === jobNameOf(spec, job) && j.state === 'RUNNING');
    if (!live) continue;
    const detail = await rest.job(live.jid);
    for (const v of detail.vertices) {
      const m = await rest.vertexMetrics(live.jid, v.id, LOAD_METRICS);
      loads.push({
        job,
        vertex: v.name,
        busyMsPerSecond: m.busyTimeMsPerSecond ?? Number.NaN,
        backPressuredMsPerSecond: m.backPressuredTimeMsPerSecond ?? 0,
      });
    }
  }
  return loads;
}

export function createLagActivities(deps: ActivityDeps) {
  return {
    /**
     * Send this round's probe and say how far behind the sink is by the earlier ones; the probes but the
     * newest WATCH_PROBES_KEPT are deleted. Read first, then send: the new probe is judged next round.
     */
    async measureFreshness(input: { spec: PipelineSpec }): Promise<FreshnessObservation> {
      const { spec } = input;
      return classified('measure freshness', async () => {
        const source = deps.connection(spec.source.connection);
        const sink = deps.connection(spec.sink.connection);
        const now = deps.now();
        const lag = await measureProbeLag(sink, spec.name, now);
        await sendProbe(source, sink, spec.name, spec.source.schema);
        await cleanupProbes(source, sink, spec.name, spec.source.schema, WATCH_PROBES_KEPT);
        return {
          lagMs: lag.lagMs,
          newestLatencyMs: lag.newestArrived?.latencyMs ?? null,
          pendingForMs: lag.oldestPending ? Math.max(0, now - lag.oldestPending.sentAt) : null,
          at: now,
        };
      });
    },

    /** Flink's view of where the time goes: every operator chain's busy and back-pressured time. */
    async observeOperatorLoad(input: { spec: PipelineSpec }): Promise<{ loads: VertexLoad[]; at: number }> {
      return classified('observe operator load', async () => ({ loads: await observeVertexLoads(deps.rest(input.spec), input.spec), at: deps.now() }));
    },
  };
}

export type LagActivities = ReturnType<typeof createLagActivities>;
