/**
 * Activities for workflow tests, as plain object literals over a small in-memory model of a Flink
 * cluster: enough to drive every branch of PipelineWorkflow deterministically (jobs fail, vanish with a
 * JobManager restart, lose their TaskManager, stall their checkpoints). What Flink *says* about the
 * model — job list, cluster overview, checkpoints, metrics, exceptions — is built from responses
 * recorded on the real cluster and read by the real observe code (./flink-double.ts), so a lost
 * TaskManager looks here as it does there: RUNNING with tasks waiting for a slot. End-to-end tests
 * use the real activities on the real stack; this never stands in for them.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LagActivities } from '../../src/activities/lag';
import type { PipelineActivities } from '../../src/activities';
import type { VertexLoad } from '../../src/core/lag';
import { generationOf, jobNameOf, versionSchemaOf } from '../../src/core/versions';
import { JOB_NAMES, JobName, PipelineSpec } from '../../src/core/spec';
import { RecordedSavepoint, judgeResume } from '../../src/core/resume';
import { Claim, judgeClaim, ownedObjects } from '../../src/core/ownership';
import { FlinkJobState, Observation, RestorePoint } from '../../src/core/types';
import { DoubleInstance, LOSS_SEQUENCE, Look, STATE_OF, clusterFrom, observe } from './flink-double';

const LOOK_OF: Partial<Record<FlinkJobState, Look>> = { RUNNING: 'running', RESTARTING: 'restarting', FAILED: 'failed', FINISHED: 'finished', CANCELED: 'canceled' };

/** One job instance on the modelled cluster; `state` is what Flink's job list says for its look. */
export class JobInstanceModel implements DoubleInstance {
  look: Look = 'running';
  endTime: number | null = null;
  numRestarts = 0;
  checkpoints: RestorePoint[] = [];
  savepoints: RestorePoint[] = [];
  failure: DoubleInstance['failure'] = null;
  /** Position in LOSS_SEQUENCE after a TaskManager loss; null when none is under way. */
  lossStep: number | null = null;

  constructor(
    readonly jobId: string,
    readonly name: string,
    readonly job: JobName,
    readonly version: number,
    readonly parallelism: number,
    readonly startTime: number,
    readonly restoredFrom: string | null,
  ) {}

  get state(): FlinkJobState {
    return STATE_OF[this.look];
  }

  /** Ends the instance (FAILED, FINISHED, CANCELED) at `at`. */
  end(state: 'FAILED' | 'FINISHED' | 'CANCELED', at: number): void {
    this.look = LOOK_OF[state]!;
    this.endTime = at;
    this.lossStep = null;
  }
}

export interface Submission {
  job: JobName;
  version: number;
  restorePath: string | null;
  reused: boolean;
  jobId: string;
}

const LIVE: FlinkJobState[] = ['INITIALIZING', 'CREATED', 'RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'RECONCILING'];

export class ClusterModel {
  now = 1_700_000_000_000;
  slotsTotal = 8;
  jobs: JobInstanceModel[] = [];
  submissions: Submission[] = [];
  calls: string[] = [];
  events: Array<{ kind: string; message: string }> = [];
  /** recordEvents calls: one per step that had something to say. */
  eventBatches = 0;
  savepointsRecorded: string[] = [];
  /** gridflow.savepoints as the sink would hold it (one row per job and path; repeats fill in fields). */
  savepointTable: Array<{ job: JobName } & RecordedSavepoint> = [];
  /** Where the source's replication slots stand (confirmed_flush_lsn); a consumer moves it. */
  slotLsn = '0/1000000';
  /** The Fluss tables were lost (the database dropped or purged). */
  flussTablesGone = false;
  disposed: string[] = [];
  checkpointDirsRemoved: string[] = [];
  provisioned = 0;
  preflightProblems: string[] = [];
  /** The sink Postgres is unreachable: every record activity fails as the real one does (retryable). */
  sinkDown = false;
  /** The SQL Gateway is unreachable: every submit fails as the real client's does (retryable). */
  gatewayDown = false;
  /** job → message: the next submit of that job fails non-retryably with it. */
  failSubmitOnce: Partial<Record<JobName, string>> = {};
  /** job → true: submit reaches Flink, then the activity "crashes" (retryable) before returning. */
  crashAfterSubmitOnce: Partial<Record<JobName, boolean>> = {};
  /** Fail awaitJobRunning (and the job) for these (job, version) pairs. */
  failRunning: (job: JobName, version: number) => string | null = () => null;
  /** A Fluss DDL error for a spec version (a redeploy failing between its stop and its submit). */
  failFlussDdl: ((version: number) => string | null) | null = null;
  /** The ownership registry (gridflow.ownership); share one array between two models for two pipelines. */
  claims: Claim[] = [];
  /** Extra delay inside awaitJobRunning (to hold a redeploy open). */
  runningDelayMs = 0;
  /** The repair's shadow sink job: never among `jobs` (the watch finds jobs by the pipeline's names, not this one's). */
  shadow: JobInstanceModel | null = null;
  /** Rows each sink schema differs from the contract in, as the repair's comparisons find them (absent: 0). */
  differs: Record<string, number> = {};
  /** Rows the Fluss layers differ from the contract in (data Fluss lost): a sink rebuilt from Fluss differs in them too, until a rebuild from the source. */
  flussDiffers = 0;
  /** What the switch moved: live schema ← shadow rows. */
  switches = 0;
  /** What checkSourceSchema says (null: the source has what ingest reads). */
  sourceSchema: string | null = null;
  /** Rows a new version's tables differ from the contract in (a version made wrong on purpose). */
  versionDiffers = 0;
  /** A new version's probe comes out of its sink (false: it never catches up). */
  versionCatchesUp = true;
  /** Generations dropped (a failed new version, a parked one released). */
  droppedVersions: number[] = [];
  /** createShadowTables fails with this (non-retryably) when set. */
  failShadow: string | null = null;
  stallCheckpoints = false;
  /** The source's replication slots exist (prepareSource creates them the first time). */
  slotsExist = false;
  /** What the freshness probes say: how far behind the sink is (null: no probe has come out yet). */
  lagMs: number | null = 900;
  /** What Flink's metrics say about each operator chain. */
  operatorLoads: VertexLoad[] = [];
  freshnessMeasured = 0;
  private seq = 0;

  private id(): string {
    return (++this.seq).toString(16).padStart(32, '0');
  }

  live(job?: JobName): JobInstanceModel[] {
    return this.jobs.filter((j) => LIVE.includes(j.state) && (job === undefined || j.job === job));
  }

  slotsAvailable(): number {
    return Math.max(0, this.slotsTotal - this.live().filter((j) => j.look === 'running').reduce((n, j) => n + j.parallelism, 0));
  }

  // ---- faults the tests inject
  failJob(job: JobName, error = 'java.lang.RuntimeException: boom'): void {
    for (const j of this.live(job)) {
      j.failure = { kind: 'error', message: error };
      j.end('FAILED', this.now);
    }
  }
  loseAllJobs(): void {
    this.jobs = [];
  }
  /** kill -9 of every TaskManager: each live job then goes through what the real one did (LOSS_SEQUENCE). */
  killTaskManagers(): void {
    this.slotsTotal = 0;
    for (const j of this.live()) j.lossStep = 0;
  }
  addDuplicate(job: JobName, spec: PipelineSpec): string {
    const jobId = this.id();
    this.jobs.push(this.instance(job, spec, jobId, null));
    return jobId;
  }

  private instance(job: JobName, spec: PipelineSpec, jobId: string, restoredFrom: string | null): JobInstanceModel {
    return new JobInstanceModel(jobId, jobNameOf(spec, job), job, spec.version, spec.jobs[job].parallelism, this.now, restoredFrom);
  }

  /**
   * One observation tick: time passes; a job hit by a TaskManager loss takes its next recorded step
   * (restarting, then waiting for slots) and, once slots exist again, runs — with its restart counted
   * (Flink's metric catches up then too); running jobs complete a checkpoint.
   */
  private tick(): void {
    this.now += 10_000;
    for (const j of this.live()) {
      if (j.lossStep !== null) {
        const steps = LOSS_SEQUENCE[j.job];
        if (j.lossStep < steps.length - 1) {
          j.lossStep++;
          j.look = steps[j.lossStep];
          if (j.look !== 'running') j.failure = { kind: 'taskmanager-lost' };
        } else if (this.slotsTotal >= j.parallelism) {
          j.look = 'running';
          j.lossStep = null;
          j.numRestarts++;
        }
      }
      if (j.look === 'running' && !this.stallCheckpoints) {
        j.checkpoints.unshift({ kind: 'checkpoint', path: `file:///ckpt/${j.jobId}/chk-${j.checkpoints.length + 1}`, at: this.now, jobId: j.jobId });
      }
    }
  }

  private cluster() {
    return { taskManagers: Math.ceil(this.slotsTotal / 8), slotsTotal: this.slotsTotal, slotsAvailable: this.slotsAvailable() };
  }

  activities(): PipelineActivities & LagActivities {
    const model = this;
    const savepoint = (j: JobInstanceModel, reason: RestorePoint['reason']): RestorePoint => ({
      kind: 'savepoint',
      path: `file:///sp/${j.job}/savepoint-${j.jobId.slice(-6)}-${model.now}`,
      at: model.now,
      jobId: j.jobId,
      reason,
      version: j.version,
    });
    const find = (jobId: string) => model.jobs.find((j) => j.jobId === jobId) ?? (model.shadow?.jobId === jobId ? model.shadow : undefined);
    const comparison = (rows: number) => ({
      consistent: rows === 0,
      tables: [
        {
          table: 'dws_region_stats' as const,
          ok: rows === 0,
          expectedCount: 6,
          actualCount: 6,
          missing: { count: 0, examples: [] },
          extra: { count: 0, examples: [] },
          different: { count: rows, cells: rows, columns: (rows ? { running_count: rows } : {}) as Record<string, number>, examples: [] },
          moving: 0,
          checked: 6,
          movingKeys: 0,
          stale: { count: 0, examples: [] },
        },
      ],
      track: Array.from({ length: rows }, (_, i) => `fp${i}`),
      cells: rows,
      cutMs: 5,
      readMs: 20,
      at: model.now,
    });
    const acts: PipelineActivities & LagActivities = {
      async measureFreshness() {
        model.freshnessMeasured++;
        return { lagMs: model.lagMs, newestLatencyMs: model.lagMs, pendingForMs: null, at: model.now };
      },
      async observeOperatorLoad() {
        return { loads: model.operatorLoads, at: model.now };
      },
      async planDeployment(spec: PipelineSpec) {
        model.calls.push('planDeployment');
        const fingerprints = Object.fromEntries(
          JOB_NAMES.map((job) => [job, `${job}/p${spec.jobs[job].parallelism}/${JSON.stringify(spec.jobs[job].config)}`]),
        ) as Record<JobName, string>;
        return { fingerprints, slotsNeeded: JOB_NAMES.reduce((n, j) => n + spec.jobs[j].parallelism, 0) };
      },
      async preflightSource() {
        model.calls.push('preflightSource');
        return { ok: model.preflightProblems.length === 0, problems: [...model.preflightProblems] };
      },
      async observeCluster() {
        return clusterFrom(model.cluster(), model.jobs);
      },
      async observeJobs(input: { spec: PipelineSpec; tracked: Partial<Record<JobName, string | null>> }): Promise<Observation> {
        model.tick();
        return observe(input.spec, input.tracked, model.cluster(), model.jobs, model.now);
      },
      async prepareSource(spec: PipelineSpec) {
        model.calls.push('prepareSource');
        const createdSlots = model.slotsExist ? [] : slotNames(spec);
        model.slotsExist = true;
        return { notes: createdSlots.map((s) => `Created slot ${s}.`), createdSlots };
      },
      async resetOutputs() {
        model.calls.push('resetOutputs');
      },
      async claimOwnership(spec: PipelineSpec) {
        // The real decision (src/core/ownership.ts) over an in-memory registry the model may share.
        model.calls.push('claimOwnership');
        const verdict = judgeClaim(spec.name, ownedObjects(spec, ['power_equipment', 'equipment_reading']), model.claims);
        if (verdict.conflicts.length) return { claimed: [], conflicts: verdict.conflicts };
        for (const o of verdict.take) model.claims.push({ ...o, pipeline: spec.name, claimedAt: new Date(model.now).toISOString() });
        return { claimed: verdict.take.map((o) => `${o.kind} ${o.name}`), conflicts: [] };
      },
      async prepareSink() {
        model.calls.push('prepareSink');
      },
      async createFlussTables(spec: PipelineSpec) {
        model.calls.push('createFlussTables');
        const failure = model.failFlussDdl?.(spec.version);
        if (failure) throw ApplicationFailure.nonRetryable(`create Fluss tables: ${failure}`, 'FlinkApiError');
      },
      async submitJob(input: { spec: PipelineSpec; job: JobName; restorePath: string | null }) {
        const { spec, job } = input;
        const fingerprint = (await acts.planDeployment(spec)).fingerprints[job];
        const existing = model.live(job).filter((j) => j.name === jobNameOf(spec, job)).sort((a, b) => a.startTime - b.startTime)[0];
        if (existing) {
          model.submissions.push({ job, version: spec.version, restorePath: input.restorePath, reused: true, jobId: existing.jobId });
          return { jobId: existing.jobId, reused: true, fingerprint, submittedAt: existing.startTime };
        }
        if (model.gatewayDown) throw ApplicationFailure.retryable(`submit ${job}: SQL Gateway at http://127.0.0.1:8083 is unreachable: connect ECONNREFUSED 127.0.0.1:8083`, 'FlinkUnavailable');
        const failure = model.failSubmitOnce[job];
        if (failure) {
          delete model.failSubmitOnce[job];
          throw ApplicationFailure.nonRetryable(`submit ${job}: ${failure}`, 'FlinkApiError');
        }
        const jobId = model.id();
        model.jobs.push(model.instance(job, spec, jobId, input.restorePath));
        model.submissions.push({ job, version: spec.version, restorePath: input.restorePath, reused: false, jobId });
        if (model.crashAfterSubmitOnce[job]) {
          delete model.crashAfterSubmitOnce[job];
          throw ApplicationFailure.retryable('worker lost before the submit returned', 'Crash');
        }
        return { jobId, reused: false, fingerprint, submittedAt: model.now };
      },
      async awaitJobRunning(input: { spec: PipelineSpec; job: JobName; jobId: string; timeoutMs: number }) {
        if (model.runningDelayMs) await new Promise((r) => setTimeout(r, model.runningDelayMs));
        const failure = model.failRunning(input.job, input.spec.version);
        const j = find(input.jobId);
        if (failure) {
          if (j) {
            j.failure = { kind: 'error', message: failure };
            j.end('FAILED', model.now);
          }
          throw ApplicationFailure.nonRetryable(`${input.job} (${input.jobId}) is FAILED: ${failure}`, 'JobFailed');
        }
        if (!j || j.look !== 'running') {
          // As the real activity: RUNNING with every task running (not waiting for a slot).
          throw ApplicationFailure.nonRetryable(`${input.job} (${input.jobId}) is ${j ? `${j.state}${j.look === 'waiting' ? ' with tasks waiting for slots' : ''}` : 'gone'}`, 'JobFailed');
        }
        return { runningAt: model.now };
      },
      async stopJobWithSavepoint(input: { spec: PipelineSpec; job: JobName; jobId: string; triggerId: string }) {
        const j = find(input.jobId);
        if (!j || j.state !== 'RUNNING') throw ApplicationFailure.nonRetryable(`cannot stop ${input.jobId}`, 'SavepointFailed');
        model.now += 1000;
        const point = savepoint(j, 'stop');
        j.savepoints.unshift(point);
        j.end('FINISHED', model.now);
        return point;
      },
      async triggerSavepoint(input: { spec: PipelineSpec; job: JobName; jobId: string; triggerId: string; reason: 'periodic' | 'manual' }) {
        const j = find(input.jobId);
        if (!j || j.state !== 'RUNNING') throw ApplicationFailure.nonRetryable(`cannot savepoint ${input.jobId}`, 'SavepointFailed');
        model.now += 1000;
        const point = savepoint(j, input.reason);
        j.savepoints.unshift(point);
        return point;
      },
      async cancelJob(input: { spec: PipelineSpec; jobId: string }) {
        model.calls.push(`cancel ${input.jobId}`);
        const j = find(input.jobId);
        if (j && LIVE.includes(j.state)) j.end('CANCELED', model.now);
      },
      async disposeSavepoint(input: { spec: PipelineSpec; path: string }) {
        model.disposed.push(input.path);
      },
      async disposeCheckpointDir(input: { spec: PipelineSpec; dir: string }) {
        model.checkpointDirsRemoved.push(input.dir);
        return { removed: true, note: `removed ${input.dir}` };
      },
      async provisionSlots(input: { spec: PipelineSpec; missingSlots: number }) {
        if (input.spec.provisioner !== 'local') {
          throw ApplicationFailure.nonRetryable(`${input.missingSlots} task slot(s) missing: add TaskManagers`, 'SlotsMissing');
        }
        model.slotsTotal += 8;
        model.provisioned++;
        return { added: [`taskmanager-${model.provisioned + 1}`] };
      },
      async dropSourceArtifacts(spec: PipelineSpec) {
        model.calls.push('dropSourceArtifacts');
        model.slotsExist = false;
        return [`dropped slot gridflow_${spec.name}_power_equipment`];
      },
      async recordEvent(input: { spec: PipelineSpec; kind: string; message: string }) {
        model.events.push({ kind: input.kind, message: input.message });
      },
      async recordEvents(input: { spec: PipelineSpec; events: Array<{ at: number; kind: string; message: string }> }) {
        if (model.sinkDown) throw ApplicationFailure.retryable('record events: connect ECONNREFUSED 127.0.0.1:15433', 'PostgresUnavailable');
        model.eventBatches++;
        for (const e of input.events) model.events.push({ kind: e.kind, message: e.message });
        return { inserted: input.events.length };
      },
      async recordSavepoint(input: Parameters<PipelineActivities['recordSavepoint']>[0]) {
        if (model.sinkDown) throw ApplicationFailure.retryable('record savepoint: connect ECONNREFUSED 127.0.0.1:15433', 'PostgresUnavailable');
        model.savepointsRecorded.push(input.point.path);
        const row = model.savepointTable.find((r) => r.job === input.job && r.path === input.point.path);
        if (row) {
          row.fingerprint ??= input.fingerprint ?? null;
          row.sourcePositions ??= input.sourcePositions ?? null;
          return;
        }
        model.savepointTable.push({
          job: input.job,
          path: input.point.path,
          kind: input.point.reason === 'stop' ? 'stop-with-savepoint' : 'savepoint',
          takenAt: new Date(input.point.at).toISOString(),
          jobId: input.point.jobId,
          fingerprint: input.fingerprint ?? null,
          sourcePositions: input.sourcePositions ?? null,
        });
      },
      async sourcePositions(spec: PipelineSpec) {
        model.calls.push('sourcePositions');
        return Object.fromEntries(slotNames(spec).map((n) => [n, model.slotLsn]));
      },
      async recordedRestorePoints(input: { spec: PipelineSpec; fingerprints: Record<JobName, string> }) {
        model.calls.push('recordedRestorePoints');
        const newest = Object.fromEntries(
          JOB_NAMES.map((job) => {
            const rows = model.savepointTable.filter((r) => r.job === job).sort((a, b) => Date.parse(b.takenAt) - Date.parse(a.takenAt));
            return [job, (rows[0] as RecordedSavepoint | undefined) ?? null];
          }),
        ) as Record<JobName, RecordedSavepoint | null>;
        return judgeResume({
          fingerprints: input.fingerprints,
          newest,
          slots: model.slotsExist ? slotNames(input.spec).map((name) => ({ name, active: false, confirmedFlushLsn: model.slotLsn })) : [],
          slotNames: slotNames(input.spec),
          missingFlussTables: model.flussTablesGone ? ['dwd_power_equipment'] : [],
          savepointExists: {},
          version: input.spec.version,
        });
      },
      async claimShadow(spec: PipelineSpec) {
        model.calls.push('claimShadow');
        return { claimed: [`sink-schema ${spec.sink.schema}_repair`] };
      },
      async createShadowTables(spec: PipelineSpec) {
        model.calls.push('createShadowTables');
        if (model.failShadow) throw ApplicationFailure.nonRetryable(`create the shadow tables: ${model.failShadow}`, 'ShadowError');
        void spec;
      },
      async submitShadowSink(input: { spec: PipelineSpec }) {
        model.calls.push('submitShadowSink');
        if (model.shadow && LIVE.includes(model.shadow.state)) return { jobId: model.shadow.jobId, reused: true, fingerprint: 'shadow', submittedAt: model.shadow.startTime };
        const jobId = model.id();
        model.shadow = new JobInstanceModel(jobId, `gridflow/${input.spec.name}/sink-repair`, 'sink', input.spec.version, 1, model.now, null);
        return { jobId, reused: false, fingerprint: 'shadow', submittedAt: model.now };
      },
      async findShadowSink() {
        return model.shadow && LIVE.includes(model.shadow.state) ? model.shadow.jobId : null;
      },
      async switchSinkTables(spec: PipelineSpec) {
        model.calls.push('switchSinkTables');
        model.switches++;
        model.differs[spec.sink.schema] = model.flussDiffers;
        return { switched: true };
      },
      async dropShadow() {
        model.calls.push('dropShadow');
      },
      async compareSink(input: { spec: PipelineSpec }) {
        model.calls.push(`compareSink ${input.spec.sink.schema}`);
        const schema = input.spec.sink.schema;
        return comparison(schema.endsWith('_repair') ? model.flussDiffers : /_v\d+$/.test(schema) ? model.versionDiffers : (model.differs[schema] ?? 0));
      },
      async checkSourceSchema() {
        return { drift: [], sentence: model.sourceSchema };
      },
      async liveGeneration() {
        return 0;
      },
      async claimVersion(input: { live: PipelineSpec; next: PipelineSpec }) {
        model.calls.push(`claimVersion ${generationOf(input.next)}`);
        return { claimed: [`sink-schema ${versionSchemaOf(input.next)}`] };
      },
      async createVersionTables(spec: PipelineSpec) {
        model.calls.push(`createVersionTables ${versionSchemaOf(spec)}`);
      },
      async sendVersionProbe() {
        return { value: '2.000' };
      },
      async versionProbeArrived() {
        model.now += 2_000;
        return model.versionCatchesUp;
      },
      async switchVersion(input: { from: PipelineSpec; to: PipelineSpec }) {
        model.calls.push(`switchVersion ${generationOf(input.from)}→${generationOf(input.to)}`);
        model.switches++;
        model.differs[input.to.sink.schema] = model.versionDiffers;
        return { switched: true };
      },
      async dropVersion(spec: PipelineSpec) {
        model.calls.push(`dropVersion ${generationOf(spec)}`);
        model.droppedVersions.push(generationOf(spec));
        return [`dropped generation ${generationOf(spec)}`];
      },
      async sendShadowProbe() {
        return { value: '1.000' };
      },
      async shadowProbeArrived() {
        return true;
      },
      async resetSource(spec: PipelineSpec) {
        model.calls.push('resetSource');
        model.flussDiffers = 0;
        for (const j of model.live()) j.end('CANCELED', model.now);
        return [`dropped Fluss database ${spec.fluss.database}`];
      },
    };
    return acts;
  }
}

const slotNames = (spec: PipelineSpec) => ['power_equipment', 'equipment_reading'].map((t) => `gridflow_${spec.name}_${t}`);

export function testSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'wf',
    source: { connection: 'source_admin', cdcConnection: 'source_cdc' },
    sink: { connection: 'sink' },
    fluss: { cluster: 'local' },
    flink: 'local',
    savepointDir: 'file:///tmp/gridflow-test-savepoints',
    provisioner: 'local',
    savepoints: { every: '0s', retain: 2 },
    watch: { interval: '1s', maxRestarts: 3, restartWindow: '10min', checkpointStallAfter: '1min', readinessTimeout: '10s' },
    // Savepoint redeploys unless a test asks for blue/green (./bluegreen.test.ts).
    redeploy: { strategy: 'savepoint' },
    ...overrides,
  };
}
