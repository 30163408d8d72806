/**
 * Typed client for the Flink JobManager REST API (1.20). Reads return validated, camelCase facts;
 * savepoint and stop take a client-chosen triggerId so that an activity retried after a crash
 * acknowledges the operation it already started instead of starting a second one.
 */
import { randomBytes } from 'node:crypto';

import { FlinkApiError } from './errors';
import { emptyObjectSchema, endpoint, FlinkHttp, HttpClientOptions } from './http';
import {
  CheckpointConfig,
  checkpointConfigSchema,
  DisposalStatus,
  disposalStatusSchema,
  jobMetricsSchema,
  vertexMetricsSchema,
  CheckpointingStats,
  checkpointsSchema,
  ClusterOverview,
  JobDetail,
  jobDetailSchema,
  JobExceptions,
  jobExceptionsSchema,
  JobOverview,
  jobsOverviewSchema,
  overviewSchema,
  SavepointFormat,
  SavepointStatus,
  savepointStatusSchema,
  TaskManagerInfo,
  taskManagersSchema,
  triggerResponseSchema,
} from './rest-schemas';

export { TERMINAL_JOB_STATES } from './rest-schemas';

/** The JobManager endpoints gridflow uses. */
const api = {
  overview: endpoint('GET', '/overview', overviewSchema),
  taskManagers: endpoint('GET', '/taskmanagers', taskManagersSchema),
  jobsOverview: endpoint('GET', '/jobs/overview', jobsOverviewSchema),
  job: endpoint('GET', '/jobs/:jobId', jobDetailSchema),
  jobExceptions: endpoint('GET', '/jobs/:jobId/exceptions', jobExceptionsSchema),
  checkpoints: endpoint('GET', '/jobs/:jobId/checkpoints', checkpointsSchema),
  checkpointConfig: endpoint('GET', '/jobs/:jobId/checkpoints/config', checkpointConfigSchema),
  triggerSavepoint: endpoint('POST', '/jobs/:jobId/savepoints', triggerResponseSchema),
  stopWithSavepoint: endpoint('POST', '/jobs/:jobId/stop', triggerResponseSchema),
  savepointStatus: endpoint('GET', '/jobs/:jobId/savepoints/:triggerId', savepointStatusSchema),
  cancel: endpoint('PATCH', '/jobs/:jobId', emptyObjectSchema),
  jobMetrics: endpoint('GET', '/jobs/:jobId/metrics', jobMetricsSchema),
  vertexMetrics: endpoint('GET', '/jobs/:jobId/vertices/:vertexId/subtasks/metrics', vertexMetricsSchema),
  disposeSavepoint: endpoint('POST', '/savepoint-disposal', triggerResponseSchema),
  disposalStatus: endpoint('GET', '/savepoint-disposal/:triggerId', disposalStatusSchema),
} as const;

interface SavepointOptions {
  /** e.g. "file:///tmp/st/sp"; omitted = the cluster's `execution.checkpointing.savepoint-dir`. */
  targetDirectory?: string;
  /** Cancel the job once the savepoint is taken. Prefer stopWithSavepoint for a graceful stop. */
  cancelJob?: boolean;
  formatType?: SavepointFormat;
  /** 32 hex chars; generate with newTriggerId() and keep it, so a retry reuses it. Default: a fresh one. */
  triggerId?: string;
}

interface StopOptions {
  targetDirectory?: string;
  /** Emit MAX_WATERMARK first (fires all event-time timers). Not for a job that will be resumed. */
  drain?: boolean;
  formatType?: SavepointFormat;
  triggerId?: string;
}

/** `cancelling`: Flink accepted the cancel (also for an already CANCELED job). */
type CancelOutcome = 'cancelling' | 'already-terminal';

const TRIGGER_ID = /^[0-9a-f]{32}$/;

/** A triggerId for savepoint/stop: 16 random bytes as 32 lowercase hex chars, as Flink expects. */
export function newTriggerId(): string {
  return randomBytes(16).toString('hex');
}

export class FlinkRestClient {
  private readonly http: FlinkHttp;

  constructor(baseUrl: string, options: HttpClientOptions = {}) {
    this.http = new FlinkHttp(baseUrl, options);
  }

  overview(): Promise<ClusterOverview> {
    return this.http.call(api.overview, {});
  }

  taskManagers(): Promise<TaskManagerInfo[]> {
    return this.http.call(api.taskManagers, {});
  }

  /** Every job the JobManager remembers (running and recently terminated), in Flink's order. */
  jobsOverview(): Promise<JobOverview[]> {
    return this.http.call(api.jobsOverview, {});
  }

  /**
   * All jobs whose `pipeline.name` is exactly `name`, newest first, in any state. More than one
   * non-terminal entry means a duplicate submission that the caller must resolve.
   */
  async findJobsByName(name: string): Promise<JobOverview[]> {
    const jobs = await this.jobsOverview();
    return jobs.filter((j) => j.name === name).sort((a, b) => b.startTime - a.startTime);
  }

  /** Throws FlinkApiError with `notFound` for a job id the JobManager does not know (e.g. after a restart). */
  job(jobId: string): Promise<JobDetail> {
    return this.http.call(api.job, { jobId });
  }

  jobExceptions(jobId: string): Promise<JobExceptions> {
    return this.http.call(api.jobExceptions, { jobId });
  }

  checkpoints(jobId: string): Promise<CheckpointingStats> {
    return this.http.call(api.checkpoints, { jobId });
  }

  /** Whether checkpointing is on (`intervalMs`) and whether checkpoints are retained on cancel. */
  checkpointConfig(jobId: string): Promise<CheckpointConfig> {
    return this.http.call(api.checkpointConfig, { jobId });
  }

  /**
   * Starts a savepoint and returns its triggerId. The body uses kebab-case (`target-directory`,
   * `cancel-job`) but camelCase `formatType`/`triggerId`: Flink silently ignores misspelt fields and
   * falls back to the default directory, so these names are pinned by a test.
   */
  async triggerSavepoint(jobId: string, options: SavepointOptions = {}): Promise<{ triggerId: string }> {
    const triggerId = checkedTriggerId(options.triggerId, 'POST', `/jobs/${jobId}/savepoints`);
    const body = {
      'target-directory': options.targetDirectory,
      'cancel-job': options.cancelJob ?? false,
      formatType: options.formatType,
      triggerId,
    };
    const requestId = await this.http.call(api.triggerSavepoint, { jobId }, { body });
    return { triggerId: expectSameTrigger(requestId, triggerId, 'POST', `/jobs/${jobId}/savepoints`) };
  }

  /**
   * Stop-with-savepoint (the job ends FINISHED). Unlike /savepoints this body is camelCase:
   * `targetDirectory`, `drain`, `formatType`, `triggerId`.
   */
  async stopWithSavepoint(jobId: string, options: StopOptions = {}): Promise<{ triggerId: string }> {
    const triggerId = checkedTriggerId(options.triggerId, 'POST', `/jobs/${jobId}/stop`);
    const body = {
      targetDirectory: options.targetDirectory,
      drain: options.drain ?? false,
      formatType: options.formatType,
      triggerId,
    };
    const requestId = await this.http.call(api.stopWithSavepoint, { jobId }, { body });
    return { triggerId: expectSameTrigger(requestId, triggerId, 'POST', `/jobs/${jobId}/stop`) };
  }

  /**
   * Status of a savepoint or stop started with `triggerId`. Flink keeps results for
   * `rest.async.store-duration` (5 min); after that, or after a JobManager restart, this throws
   * FlinkApiError with `notFound`, and the savepoint (if any) must be found via checkpoints().
   */
  savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus> {
    return this.http.call(api.savepointStatus, { jobId, triggerId });
  }

  /**
   * Requests cancellation. Idempotent for a job already CANCELED (Flink answers 202 again); a job that
   * ended otherwise (FINISHED, FAILED) yields 'already-terminal' rather than an error. Unknown job ids
   * still throw (`notFound`).
   */
  /** Job-level metrics by name (e.g. numRestarts); a metric Flink does not report is absent. */
  jobMetrics(jobId: string, names: readonly string[]): Promise<Record<string, number>> {
    return this.http.call(api.jobMetrics, { jobId }, { query: { get: names.join(',') } });
  }

  /** The largest value over the vertex's subtasks of each named metric (absent: the vertex has none). */
  vertexMetrics(jobId: string, vertexId: string, names: readonly string[]): Promise<Record<string, number>> {
    return this.http.call(api.vertexMetrics, { jobId, vertexId }, { query: { get: names.join(','), agg: 'max' } });
  }

  /**
   * Deletes a savepoint through the JobManager, whatever its storage (file://, s3://, hdfs://), so
   * the control plane never needs the savepoint file system itself. Returns the disposal's trigger id;
   * poll disposalStatus. Flink chooses the id here (the disposal endpoint takes no triggerId).
   */
  async disposeSavepoint(savepointPath: string): Promise<{ triggerId: string }> {
    const triggerId = await this.http.call(api.disposeSavepoint, {}, { body: { 'savepoint-path': savepointPath } });
    return { triggerId };
  }

  disposalStatus(triggerId: string): Promise<DisposalStatus> {
    return this.http.call(api.disposalStatus, { triggerId });
  }

  async cancel(jobId: string): Promise<CancelOutcome> {
    try {
      await this.http.call(api.cancel, { jobId }, { query: { mode: 'cancel' } });
      return 'cancelling';
    } catch (err) {
      if (err instanceof FlinkApiError && err.status === 409) return 'already-terminal';
      throw err;
    }
  }
}

function checkedTriggerId(triggerId: string | undefined, method: string, path: string): string {
  if (triggerId === undefined) return newTriggerId();
  if (!TRIGGER_ID.test(triggerId)) {
    throw new FlinkApiError({
      method,
      path,
      kind: 'invalid-request',
      detail: `triggerId must be 32 lowercase hex characters, got ${JSON.stringify(triggerId)}`,
    });
  }
  return triggerId;
}

/** Flink echoes the triggerId as request-id; anything else means idempotent retries would not work. */
function expectSameTrigger(requestId: string, triggerId: string, method: string, path: string): string {
  if (requestId !== triggerId) {
    throw new FlinkApiError({
      method,
      path,
      kind: 'parse',
      status: 202,
      issues: [`request-id: expected the triggerId ${triggerId} to be echoed, got ${requestId}`],
    });
  }
  return requestId;
}
