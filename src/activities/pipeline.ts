/**
 * The pipeline workflow's activities. Three kinds, each one screen:
 *   observe — read Flink and Postgres, return facts (never change anything);
 *   act     — one idempotent change (submit, stop with savepoint, cancel, prepare, provision);
 *   record  — one write to the sink's ops schema.
 * Long ones heartbeat. Bad input fails non-retryably with a clear message (see failure.ts).
 */
import { Context } from '@temporalio/activity';
import { FlinkApiError } from '../flink/errors';
import { CompletedCheckpoint, FlinkRestClient, TERMINAL_JOB_STATES } from '../flink/rest';
import { planJobs, slotsNeeded } from '../pipeline/plan';
import { renderJob } from '../pipeline/render';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DeployError,
  FlinkClients,
  Submitted,
  awaitJobRunning,
  createFlussTables,
  existingFlussTables,
  expectedFlussTables,
  resetOutputs,
  submitJob,
} from '../pipeline/deploy';
import { RecordedSavepoint, ResumeDecision, judgeResume } from '../pipeline/resume';
import { JOB_NAMES, JobName, PipelineSpec } from '../pipeline/spec';
import {
  ClusterObservation,
  FlinkJobState,
  JobObservation,
  Observation,
  RestorePoint,
} from '../pipeline/types';
import { listSavepoints, recordEvent as writeEvent, recordSavepoint as writeSavepoint } from '../postgres/sink';
import { applySinkSchema } from '../postgres/sink';
import {
  CAPTURED_TABLES,
  artifactName,
  dropSourceArtifacts as dropArtifacts,
  inspectReplication,
  prepareSource as prepare,
  sourcePreflight,
} from '../postgres/source';
import { ActivityDeps, connectionsFor } from './context';
import { classified, nonRetryable } from './failure';

const heartbeat = (details?: unknown) => {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* called outside an activity (plain use, tests) */
  }
};

function toRestorePoint(kind: RestorePoint['kind'], c: CompletedCheckpoint, jobId: string): RestorePoint {
  return { kind, path: c.externalPath, at: c.latestAckTimestamp, jobId };
}

async function waitForSavepoint(rest: FlinkRestClient, jobId: string, triggerId: string, deps: ActivityDeps, what: string): Promise<string> {
  for (;;) {
    heartbeat({ jobId, triggerId, what });
    let status;
    try {
      status = await rest.savepointStatus(jobId, triggerId);
    } catch (err) {
      if (err instanceof FlinkApiError && err.notFound) {
        // The result expired (5 min) or the JobManager restarted: the savepoint, if taken, is in
        // the job's checkpoint statistics; never POST again (that would start a second one).
        const stats = await rest.checkpoints(jobId).catch(() => null);
        const sp = stats?.latest.savepoint;
        if (sp) return sp.externalPath;
        throw nonRetryable('SavepointLost', `${what}: Flink no longer knows trigger ${triggerId} of job ${jobId} and shows no savepoint`);
      }
      throw err;
    }
    if (status.state === 'COMPLETED') return status.location;
    if (status.state === 'FAILED') {
      throw nonRetryable(status.jobNotFound ? 'JobNotFound' : 'SavepointFailed', `${what} failed: ${status.failureCause}`);
    }
    await deps.sleep(1000);
  }
}

/** A Flink path on this machine's disk (file:/a/b, file:///a/b or /a/b), without trailing slashes; null for other file systems. */
export function localPath(path: string): string | null {
  // Flink writes file:/a/b as well as file:///a/b.
  const local = path.startsWith('file:') ? fileURLToPath(path.replace(/^file:\/*/, 'file:///')) : path;
  return local.startsWith('/') ? local.replace(/\/+$/, '') : null;
}

/**
 * Whether a savepoint's metadata is on this machine's disk: true/false for file: paths and plain paths,
 * null for other file systems (s3://, hdfs://), which the worker cannot check.
 */
export function savepointOnDisk(path: string): boolean | null {
  const dir = localPath(path);
  return dir === null ? null : existsSync(`${dir}/_metadata`);
}

export function createPipelineActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);
  const flink = (spec: PipelineSpec): FlinkClients => ({ rest: deps.rest(spec), gateway: deps.gateway(spec) });

  return {
    // ---------------------------------------------------------------- observe

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
          pipeline: spec.name,
        });
        const blocking = result.problems.filter((p) => !p.fixedByPrepare);
        return { ok: blocking.length === 0, problems: blocking.map((p) => p.message) };
      });
    },

    async observeCluster(spec: PipelineSpec): Promise<ClusterObservation> {
      return classified('observe cluster', async () => {
        const o = await deps.rest(spec).overview();
        return { taskManagers: o.taskManagers, slotsTotal: o.slotsTotal, slotsAvailable: o.slotsAvailable };
      });
    },

    /**
     * Everything the watch decides on, in one call: the cluster's slots and, per job, every instance
     * with its name, plus checkpoints, restarts and the last error of the tracked instance.
     */
    async observeJobs(input: { spec: PipelineSpec; tracked: Partial<Record<JobName, string | null>> }): Promise<Observation> {
      return classified('observe jobs', async () => {
        const rest = deps.rest(input.spec);
        const [overview, all] = await Promise.all([rest.overview(), rest.jobsOverview()]);
        const jobs: JobObservation[] = [];
        for (const planned of planJobs(input.spec)) {
          const instances = all
            .filter((j) => j.name === planned.flinkName)
            .sort((a, b) => b.startTime - a.startTime)
            .map((j) => ({ jobId: j.jid, state: j.state as FlinkJobState, startTime: j.startTime, endTime: j.endTime }));
          const waiting = (jobId: string) => {
            const tasks = all.find((j) => j.jid === jobId)?.tasks ?? {};
            return (tasks.created ?? 0) + (tasks.scheduled ?? 0);
          };
          const wanted = input.tracked[planned.job] ?? null;
          const tracked =
            instances.find((i) => i.jobId === wanted) ??
            instances.filter((i) => !TERMINAL_JOB_STATES.has(i.state as never)).pop() ??
            null;
          const obs: JobObservation = {
            job: planned.job,
            flinkName: planned.flinkName,
            instances,
            trackedJobId: tracked?.jobId ?? null,
            latestCheckpoint: null,
            latestSavepoint: null,
            completedCheckpoints: 0,
            numRestarts: null,
            rootCause: null,
            tasksWaiting: tracked ? waiting(tracked.jobId) : 0,
          };
          if (tracked) {
            const [stats, metrics, exceptions] = await Promise.all([
              rest.checkpoints(tracked.jobId).catch(() => null),
              rest.jobMetrics(tracked.jobId, ['numRestarts']).catch(() => ({}) as Record<string, number>),
              tracked.state === 'RUNNING' ? Promise.resolve(null) : rest.jobExceptions(tracked.jobId).catch(() => null),
            ]);
            if (stats) {
              obs.completedCheckpoints = stats.counts.completed;
              const c = stats.latest.completed;
              if (c && !c.isSavepoint && !c.discarded) obs.latestCheckpoint = toRestorePoint('checkpoint', c, tracked.jobId);
              if (stats.latest.savepoint) obs.latestSavepoint = toRestorePoint('savepoint', stats.latest.savepoint, tracked.jobId);
            }
            obs.numRestarts = Number.isFinite(metrics.numRestarts) ? metrics.numRestarts : null;
            obs.rootCause = exceptions?.rootCause ?? null;
          }
          jobs.push(obs);
        }
        return {
          observedAt: deps.now(),
          cluster: { taskManagers: overview.taskManagers, slotsTotal: overview.slotsTotal, slotsAvailable: overview.slotsAvailable },
          jobs,
        };
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
        const names = CAPTURED_TABLES.map((t) => artifactName(spec.name, t));
        const deadline = deps.now() + 60_000;
        for (;;) {
          const observed = await inspectReplication(deps.connection(spec.source.connection), { pipeline: spec.name, tables: CAPTURED_TABLES });
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
     * pipeline can continue from them (src/pipeline/resume.ts says when), else why not. Read-only.
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
        const observed = await inspectReplication(deps.connection(spec.source.connection), { pipeline: spec.name, tables: CAPTURED_TABLES });
        const conns = connectionsFor(deps, spec);
        const present = new Set(await existingFlussTables(flink(spec), spec, conns));
        return judgeResume({
          fingerprints: input.fingerprints,
          newest,
          slots: observed.slots,
          slotNames: CAPTURED_TABLES.map((t) => artifactName(spec.name, t)),
          missingFlussTables: expectedFlussTables(spec, conns).filter((t) => !present.has(t)),
          savepointExists,
          version: spec.version,
        });
      });
    },

    // ---------------------------------------------------------------- act

    /**
     * Publications, slots, REPLICA IDENTITY and grants on the source. Idempotent. Says which slots it
     * had to create: new slots mean no earlier state can continue (see resetOutputs).
     */
    async prepareSource(spec: PipelineSpec): Promise<{ notes: string[]; createdSlots: string[] }> {
      return classified('prepare source', async () => {
        const result = await prepare(deps.connection(spec.source.connection), {
          schema: spec.source.schema,
          tables: CAPTURED_TABLES,
          pipeline: spec.name,
          cdcRole: deps.connection(spec.source.cdcConnection).user,
        });
        return {
          notes: [...result.actions, ...result.warnings.map((w) => `warning: ${w}`)],
          createdSlots: result.slots.filter((s) => s.status === 'created').map((s) => s.name),
        };
      });
    },

    /** Fresh start: drop the pipeline's Fluss database and empty the sink's warehouse tables. */
    async resetOutputs(spec: PipelineSpec): Promise<void> {
      await classified('reset outputs', () => resetOutputs(flink(spec), spec, connectionsFor(deps, spec)));
    },

    /** The dw and gridflow schemas on the sink. Idempotent. */
    async prepareSink(spec: PipelineSpec): Promise<void> {
      await classified('prepare sink', () => applySinkSchema(sinkConn(spec)));
    },

    /** The Fluss catalog, database and DWD/DWS/ADS tables. Idempotent (IF NOT EXISTS). */
    async createFlussTables(spec: PipelineSpec): Promise<void> {
      await classified('create Fluss tables', () => createFlussTables(flink(spec), spec, connectionsFor(deps, spec), heartbeat));
    },

    /** Submit one job unless a live job of that name exists (see src/pipeline/deploy.ts). */
    async submitJob(input: { spec: PipelineSpec; job: JobName; restorePath: string | null }): Promise<Submitted> {
      const { spec, job } = input;
      return classified(`submit ${job}`, () => submitJob(flink(spec), spec, job, connectionsFor(deps, spec), input.restorePath, heartbeat));
    },

    /**
     * Wait until the job and its tasks run. Failing or not ready in time fails non-retryably with
     * Flink's root cause: the workflow decides (roll back, degrade), not a blind retry.
     */
    async awaitJobRunning(input: { spec: PipelineSpec; job: JobName; jobId: string; timeoutMs: number }): Promise<{ runningAt: number }> {
      const { spec, job, jobId } = input;
      try {
        return await classified(`await ${job} RUNNING`, () => awaitJobRunning(deps.rest(spec), job, jobId, input.timeoutMs, heartbeat, deps.sleep));
      } catch (err) {
        if (err instanceof DeployError) throw nonRetryable(err.kind === 'job-failed' ? 'JobFailed' : 'JobNotReady', err.message);
        throw err;
      }
    },

    /** Stop with a savepoint (the job ends FINISHED). The workflow chooses triggerId, so a retry resumes the same operation. */
    async stopJobWithSavepoint(input: { spec: PipelineSpec; job: JobName; jobId: string; triggerId: string }): Promise<RestorePoint> {
      const { spec, job, jobId, triggerId } = input;
      return classified(`stop ${job} with savepoint`, async () => {
        const rest = deps.rest(spec);
        await rest.stopWithSavepoint(jobId, { targetDirectory: spec.savepointDir, drain: false, triggerId });
        const path = await waitForSavepoint(rest, jobId, triggerId, deps, `stop-with-savepoint of ${job}`);
        return { kind: 'savepoint', path, at: deps.now(), jobId, reason: 'stop', version: spec.version };
      });
    },

    async triggerSavepoint(input: {
      spec: PipelineSpec;
      job: JobName;
      jobId: string;
      triggerId: string;
      reason: 'periodic' | 'manual';
    }): Promise<RestorePoint> {
      const { spec, job, jobId, triggerId } = input;
      return classified(`savepoint of ${job}`, async () => {
        const rest = deps.rest(spec);
        await rest.triggerSavepoint(jobId, { targetDirectory: spec.savepointDir, triggerId });
        const path = await waitForSavepoint(rest, jobId, triggerId, deps, `savepoint of ${job}`);
        return { kind: 'savepoint', path, at: deps.now(), jobId, reason: input.reason, version: spec.version };
      });
    },

    /** Cancel and wait until the job is terminal. Unknown or finished jobs are fine (idempotent). */
    async cancelJob(input: { spec: PipelineSpec; jobId: string }): Promise<void> {
      await classified(`cancel ${input.jobId}`, async () => {
        const rest = deps.rest(input.spec);
        try {
          await rest.cancel(input.jobId);
        } catch (err) {
          if (err instanceof FlinkApiError && err.notFound) return;
          throw err;
        }
        for (let i = 0; i < 120; i++) {
          heartbeat();
          const detail = await rest.job(input.jobId).catch((err) => {
            if (err instanceof FlinkApiError && err.notFound) return null;
            throw err;
          });
          if (!detail || TERMINAL_JOB_STATES.has(detail.state)) return;
          await deps.sleep(500);
        }
        throw new Error(`job ${input.jobId} still not terminal 60 s after cancel`);
      });
    },

    /** Delete a savepoint through the JobManager (works for any storage). Missing savepoints are fine. */
    async disposeSavepoint(input: { spec: PipelineSpec; path: string }): Promise<void> {
      await classified('dispose savepoint', async () => {
        const rest = deps.rest(input.spec);
        const { triggerId } = await rest.disposeSavepoint(input.path);
        for (let i = 0; i < 60; i++) {
          const s = await rest.disposalStatus(triggerId);
          if (s.state === 'COMPLETED') return;
          if (s.state === 'FAILED') {
            if (/FileNotFound|does not exist|Could not dispose/.test(s.failureCause)) return;
            throw nonRetryable('DisposeFailed', `disposing ${input.path}: ${s.failureCause}`);
          }
          await deps.sleep(500);
        }
      });
    },

    /**
     * Remove a retained-checkpoint directory the workflow no longer needs (src/pipeline/watch.ts,
     * checkpointDirToDispose says when). Only on the local stack, whose Flink shares this machine's
     * disk, and only a `.../<32-hex job id>` directory. Idempotent: a missing directory is fine.
     */
    async disposeCheckpointDir(input: { spec: PipelineSpec; dir: string }): Promise<{ removed: boolean; note: string }> {
      const { spec, dir } = input;
      return classified('remove old checkpoints', async () => {
        if (spec.provisioner !== 'local') return { removed: false, note: `kept ${dir}: its storage is not this machine's (remove it with your storage's tools)` };
        const local = localPath(dir);
        if (local === null || !/\/[0-9a-f]{32}$/.test(local)) throw nonRetryable('BadInput', `not a job checkpoint directory: ${dir}`);
        if (!existsSync(local)) return { removed: false, note: `${dir} was already gone` };
        rmSync(local, { recursive: true, force: true });
        return { removed: true, note: `removed ${dir}` };
      });
    },

    /**
     * Provide `missingSlots` more task slots: start TaskManagers on the local stack, or, on a cluster
     * gridflow does not run, fail with a message saying exactly what is missing.
     */
    async provisionSlots(input: { spec: PipelineSpec; missingSlots: number }): Promise<{ added: string[] }> {
      const { spec, missingSlots } = input;
      if (spec.provisioner !== 'local' || !deps.localProvisioner) {
        throw nonRetryable(
          'SlotsMissing',
          `${missingSlots} task slot(s) missing on ${spec.flink.restUrl}: add TaskManagers to the Flink cluster ` +
            (spec.provisioner === 'local' ? '(this worker does not run beside the local stack)' : '(provisioner is "none")'),
        );
      }
      const provisioner = deps.localProvisioner;
      const added: string[] = [];
      const count = Math.ceil(missingSlots / provisioner.slotsPerTaskManager);
      for (let i = 0; i < count; i++) {
        heartbeat({ added });
        added.push(await provisioner.addTaskManager());
      }
      return { added };
    },

    /** Drop the pipeline's replication slots and publications (decommission). Refuses while a slot is active. */
    async dropSourceArtifacts(spec: PipelineSpec): Promise<string[]> {
      return classified('drop source artifacts', async () => {
        const result = await dropArtifacts(deps.connection(spec.source.connection), { pipeline: spec.name });
        return [...result.droppedSlots.map((s) => `dropped slot ${s}`), ...result.droppedPublications.map((p) => `dropped publication ${p}`)];
      });
    },

    // ---------------------------------------------------------------- record

    /**
     * One event in gridflow.events. Its time is when the workflow first scheduled this activity, the
     * same on every retry, so (pipeline, at, kind, message) identifies it and a retry writes nothing new.
     */
    async recordEvent(input: { spec: PipelineSpec; kind: string; message: string }): Promise<void> {
      let at = deps.now();
      try {
        at = Context.current().info.scheduledTimestampMs;
      } catch {
        /* plain call */
      }
      await classified('record event', () =>
        writeEvent(sinkConn(input.spec), { pipeline: input.spec.name, at: new Date(at).toISOString(), kind: input.kind, message: input.message }),
      );
    },

    async recordSavepoint(input: {
      spec: PipelineSpec;
      job: JobName;
      point: RestorePoint;
      fingerprint?: string | null;
      sourcePositions?: Record<string, string>;
    }): Promise<void> {
      await classified('record savepoint', () =>
        writeSavepoint(sinkConn(input.spec), {
          pipeline: input.spec.name,
          job: input.job,
          path: input.point.path,
          kind: input.point.reason === 'stop' ? 'stop-with-savepoint' : 'savepoint',
          takenAt: new Date(input.point.at).toISOString(),
          ...(/^[0-9a-f]{32}$/.test(input.point.jobId) ? { jobId: input.point.jobId } : {}),
          ...(input.fingerprint ? { fingerprint: input.fingerprint } : {}),
          ...(input.sourcePositions ? { sourcePositions: input.sourcePositions } : {}),
        }),
      );
    },
  };
}

export type PipelineActivities = ReturnType<typeof createPipelineActivities>;
