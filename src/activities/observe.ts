/**
 * The pipeline workflow's observe activities: read Flink and Postgres, return facts, never change
 * anything. A failure to read is for the workflow to weigh ("try again next round").
 */
import { planJobs, slotsNeeded } from '../core/plan';
import { renderJob } from '../warehouse/render';
import { FlinkClients, existingFlussTables, expectedFlussTables } from '../warehouse/deploy';
import { RecordedSavepoint, ResumeDecision, judgeResume } from '../core/resume';
import { JOB_NAMES, JobName, PipelineSpec } from '../core/spec';
import { ClusterObservation, JobObservation, Observation } from '../core/types';
import { TrackedDetails, clusterObservation, instancesOf, jobObservation, needsExceptions, observation, trackedInstance } from '../core/observe';
import { listSavepoints } from '../postgres/sink';
import { CAPTURED_TABLES, artifactName } from '../postgres/source/names';
import { sourcePreflight } from '../postgres/source/preflight';
import { inspectReplication } from '../postgres/source/replication';
import { ActivityDeps, connectionsFor } from './context';
import { classified, nonRetryable } from './classify';
import { heartbeat, savepointOnDisk } from './helpers';
import { versionTag } from '../core/versions';

export function createObserveActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);
  const flink = (spec: PipelineSpec): FlinkClients => ({ rest: deps.rest(spec), gateway: deps.gateway(spec) });

  return {
    /** Fingerprint of each job's definition and the task slots the pipeline needs. */
    async planDeployment(spec: PipelineSpec): Promise<{ fingerprints: Record<JobName, string>; slotsNeeded: number }> {
      return classified('plan deployment', async () => {
        const conns = connectionsFor(deps, spec);
        const fingerprints = {} as Record<JobName, string>;
        for (const job of JOB_NAMES) fingerprints[job] = renderJob(spec, job, conns).fingerprint;
        return { fingerprints, slotsNeeded: slotsNeeded(spec) };
      });
    },

    /** Source prerequisites; problems are returned (not thrown) so the workflow can show them and wait. */
    async preflightSource(spec: PipelineSpec): Promise<{ ok: boolean; problems: string[] }> {
      return classified('source preflight', async () => {
        const cdc = deps.connection(spec.source.cdcConnection);
        const result = await sourcePreflight(deps.connection(spec.source.connection), {
          schema: spec.source.schema,
          tables: CAPTURED_TABLES,
          cdcRole: cdc.user,
          slotsNeeded: CAPTURED_TABLES.length,
          sendersNeeded: CAPTURED_TABLES.length,
          pipeline: versionTag(spec),
        });
        const blocking = result.problems.filter((p) => !p.fixedByPrepare);
        return { ok: blocking.length === 0, problems: blocking.map((p) => p.message) };
      });
    },

    async observeCluster(spec: PipelineSpec): Promise<ClusterObservation> {
      return classified('observe cluster', async () => {
        return clusterObservation(await deps.rest(spec).overview());
      });
    },

    /**
     * Everything the watch decides on, in one call: the cluster's slots and, per job, every instance
     * with its name, plus checkpoints, restarts and the last error of the tracked instance.
     */
    async observeJobs(input: { spec: PipelineSpec; tracked: Partial<Record<JobName, string | null>> }): Promise<Observation> {
      return classified('observe jobs', async () => {
        const rest = deps.rest(input.spec);
        const [overview, listed] = await Promise.all([rest.overview(), rest.jobsOverview()]);
        const jobs: JobObservation[] = [];
        for (const planned of planJobs(input.spec)) {
          const recorded = input.tracked[planned.job];
          const tracked = trackedInstance(instancesOf(planned, listed), recorded);
          let details: TrackedDetails | null = null;
          if (tracked) {
            const [checkpoints, metrics, exceptions] = await Promise.all([
              rest.checkpoints(tracked.jobId).catch(() => null),
              rest.jobMetrics(tracked.jobId, ['numRestarts']).catch(() => null),
              needsExceptions(tracked) ? rest.jobExceptions(tracked.jobId).catch(() => null) : Promise.resolve(null),
            ]);
            details = { checkpoints, metrics, exceptions };
          }
          jobs.push(jobObservation(planned, listed, recorded, details));
        }
        return observation(deps.now(), overview, jobs);
      });
    },

    /**
     * Where each of the pipeline's replication slots stands once nothing consumes it any more: waits
     * (heartbeating) until every slot is inactive — the stopped ingest job's walsender has exited and
     * its last confirmed position is final — then reads confirmed_flush_lsn. A slot still in use after
     * the wait fails non-retryably: its position would not mean anything.
     */
    async sourcePositions(spec: PipelineSpec): Promise<Record<string, string>> {
      return classified('read replication slot positions', async () => {
        const names = CAPTURED_TABLES.map((t) => artifactName(versionTag(spec), t));
        const deadline = deps.now() + 60_000;
        for (;;) {
          const observed = await inspectReplication(deps.connection(spec.source.connection), { pipeline: versionTag(spec), tables: CAPTURED_TABLES });
          const busy = observed.slots.filter((s) => s.active).map((s) => s.name);
          if (!busy.length) {
            const positions: Record<string, string> = {};
            for (const s of observed.slots) if (s.confirmedFlushLsn) positions[s.name] = s.confirmedFlushLsn;
            const missing = names.filter((n) => !(n in positions));
            if (missing.length) throw nonRetryable('SlotMissing', `replication slot(s) ${missing.join(', ')} missing or never confirmed`);
            return positions;
          }
          if (deps.now() > deadline) throw nonRetryable('SlotInUse', `replication slot(s) ${busy.join(', ')} still in use 60 s after the ingest job stopped`);
          heartbeat({ busy });
          await deps.sleep(500);
        }
      });
    },

    /**
     * For a new workflow whose jobs are all stopped: the savepoints an earlier workflow recorded, if the
     * pipeline can continue from them (src/core/resume.ts says when), else why not. Read-only.
     */
    async recordedRestorePoints(input: { spec: PipelineSpec; fingerprints: Record<JobName, string> }): Promise<ResumeDecision> {
      const { spec } = input;
      return classified('look up recorded savepoints', async () => {
        const newest = {} as Record<JobName, RecordedSavepoint | null>;
        const savepointExists: Record<string, boolean | null> = {};
        for (const job of JOB_NAMES) {
          const [row] = await listSavepoints(sinkConn(spec), spec.name, { job, limit: 1 });
          newest[job] = row ? { ...row, takenAt: new Date(Date.parse(row.takenAt)).toISOString() } : null;
          if (row) savepointExists[row.path] = savepointOnDisk(row.path);
        }
        const observed = await inspectReplication(deps.connection(spec.source.connection), { pipeline: versionTag(spec), tables: CAPTURED_TABLES });
        const conns = connectionsFor(deps, spec);
        const present = new Set(await existingFlussTables(flink(spec), spec, conns));
        return judgeResume({
          fingerprints: input.fingerprints,
          newest,
          slots: observed.slots,
          slotNames: CAPTURED_TABLES.map((t) => artifactName(versionTag(spec), t)),
          missingFlussTables: expectedFlussTables(spec, conns).filter((t) => !present.has(t)),
          savepointExists,
          version: spec.version,
        });
      });
    },
  };
}
