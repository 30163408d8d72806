/**
 * The pipeline workflow's act activities: one idempotent change each (prepare, submit, stop with
 * savepoint, cancel, dispose, provision, drop). Long ones heartbeat; a retry after a crash finds what
 * the first attempt did (jobs by name, savepoints by trigger id) instead of doing it twice. Bad input
 * fails non-retryably with a clear message.
 */
import { FlinkApiError } from '../flink/errors';
import { TERMINAL_JOB_STATES } from '../flink/rest';
import { existsSync, rmSync } from 'node:fs';
import { DeployError, FlinkClients, Submitted, awaitJobRunning, createFlussTables, resetOutputs, submitJob } from '../warehouse/deploy';
import { JobName, PipelineSpec } from '../core/spec';
import { RestorePoint } from '../core/types';
import { applySinkSchema } from '../postgres/sink';
import { assertOwned, claimObjects, releaseObjects } from '../postgres/ownership';
import { ownedObjects, savepointFolder } from '../core/ownership';
import { CAPTURED_TABLES } from '../postgres/source/names';
import { dropSourceArtifacts as dropArtifacts, prepareSource as prepare } from '../postgres/source/prepare';
import { ActivityDeps, connectionsFor } from './context';
import { classified, nonRetryable } from './classify';

import { heartbeat, heartbeating, localPath, newerRetainedCheckpoint, waitForSavepoint } from './helpers';
import { flussDatabaseOf, versionTag } from '../core/versions';

/** The act activities, each heartbeating while it runs (their heartbeat timeout is 1 minute). */
export function createActActivities(deps: ActivityDeps) {
  return heartbeating(actActivities(deps));
}

function actActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);
  const flink = (spec: PipelineSpec): FlinkClients => ({ rest: deps.rest(spec), gateway: deps.gateway(spec) });


  return {

    /**
     * Publications, slots, REPLICA IDENTITY and grants on the source. Idempotent. Says which slots it
     * had to create: new slots mean no earlier state can continue (see resetOutputs).
     */
    async prepareSource(spec: PipelineSpec): Promise<{ notes: string[]; createdSlots: string[] }> {
      return classified('prepare source', async () => {
        const result = await prepare(deps.connection(spec.source.connection), {
          schema: spec.source.schema,
          tables: CAPTURED_TABLES,
          pipeline: versionTag(spec),
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
      await classified('reset outputs', async () => {
        // Never under another pipeline: its Fluss database, sink schema and probe rows are checked first.
        const outputs = ownedObjects(spec, CAPTURED_TABLES).filter((o) => ['fluss-database', 'sink-schema', 'probe'].includes(o.kind));
        await assertOwned(sinkConn(spec), spec.name, outputs);
        await resetOutputs(flink(spec), spec, connectionsFor(deps, spec));
      });
    },

    /**
     * Claim everything the pipeline creates or destroys (src/core/ownership.ts) in the sink's registry.
     * All or nothing; what another pipeline owns comes back as sentences naming the owner.
     */
    async claimOwnership(spec: PipelineSpec): Promise<{ claimed: string[]; conflicts: string[] }> {
      return classified('claim ownership', async () => {
        const { claimed, conflicts } = await claimObjects(sinkConn(spec), spec.name, ownedObjects(spec, CAPTURED_TABLES));
        return { claimed: claimed.map((o) => `${o.kind} ${o.name}`), conflicts };
      });
    },

    /** The dw and gridflow schemas on the sink. Idempotent. */
    async prepareSink(spec: PipelineSpec): Promise<void> {
      await classified('prepare sink', () => applySinkSchema(sinkConn(spec), spec.sink.schema));
    },

    /** The Fluss catalog, database and DWD/DWS/ADS tables. Idempotent (IF NOT EXISTS). */
    async createFlussTables(spec: PipelineSpec): Promise<void> {
      await classified('create Fluss tables', () => createFlussTables(flink(spec), spec, connectionsFor(deps, spec), heartbeat));
    },

    /**
     * Submit one job unless a live job of that name exists (see src/warehouse/deploy.ts). A checkpoint
     * to restore from is replaced by a newer complete one of the same instance when its folder has one
     * (never one in `avoidPaths`, which failed before); `restorePath` in the result then names it.
     */
    async submitJob(input: { spec: PipelineSpec; job: JobName; restorePath: string | null; avoidPaths?: string[] }): Promise<Submitted> {
      const { spec, job } = input;
      const restorePath = input.restorePath === null ? null : newerRetainedCheckpoint(input.restorePath, input.avoidPaths ?? []);
      const res = await classified(`submit ${job}`, () => submitJob(flink(spec), spec, job, connectionsFor(deps, spec), restorePath, heartbeat));
      return !res.reused && restorePath !== input.restorePath && restorePath !== null ? { ...res, restorePath } : res;
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
        await rest.stopWithSavepoint(jobId, { targetDirectory: savepointFolder(spec), drain: false, triggerId });
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
        await rest.triggerSavepoint(jobId, { targetDirectory: savepointFolder(spec), triggerId });
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
     * Remove a retained-checkpoint directory the workflow no longer needs (src/core/watch.ts,
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

    /**
     * Drop the pipeline's replication slots and publications (decommission), then release everything it
     * owned. Waits for the walsender of a just-stopped ingest job to exit; refuses a slot still read.
     */
    async dropSourceArtifacts(spec: PipelineSpec): Promise<string[]> {
      return classified('drop source artifacts', async () => {
        const artifacts = ownedObjects(spec, CAPTURED_TABLES).filter((o) => o.kind === 'replication-slot' || o.kind === 'publication');
        await assertOwned(sinkConn(spec), spec.name, artifacts);
        const result = await dropArtifacts(deps.connection(spec.source.connection), {
          pipeline: versionTag(spec),
          waitInactiveMs: 60_000,
          onWait: (active) => heartbeat({ waitingFor: active }),
        });
        const released = await releaseObjects(sinkConn(spec), spec.name);
        return [
          ...result.droppedSlots.map((s) => `dropped slot ${s}`),
          ...result.droppedPublications.map((p) => `dropped publication ${p}`),
          `released ${released} ownership claim(s): the pipeline's Fluss database ${flussDatabaseOf(spec)} and sink schema ${spec.sink.schema} may now be claimed by another`,
        ];
      });
    },
  };
}
