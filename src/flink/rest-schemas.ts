/**
 * zod schemas for the JobManager REST API (Flink 1.20), checked against responses recorded from a real
 * 1.20.3 cluster (test/fixtures/flink). Each schema names Flink's own fields (so a parse failure points
 * at the field Flink sent) and transforms them into the camelCase shapes the control plane reads.
 * Fields gridflow does not use are left out; zod drops them.
 *
 * One file (~420 lines) on purpose: every JobManager response gridflow reads is described here, so a
 * Flink upgrade is checked against the recordings in one place.
 */
import { z } from 'zod';

import { JOB_STATES } from '../core/types';
import { summarizeJavaTrace } from './errors';

export { TERMINAL_JOB_STATES } from '../core/types';
/** Flink's JobStatus (defined once, in core/types.ts). A state outside it is a parse error, not a silent "unknown". */
const jobState = z.enum(JOB_STATES);


/** Flink writes -1 for "not yet" (end-time of a running job). */
const optionalTimestamp = z.number().transform((n) => (n < 0 ? null : n));

export const overviewSchema = z
  .object({
    taskmanagers: z.number().int(),
    'slots-total': z.number().int(),
    'slots-available': z.number().int(),
    'jobs-running': z.number().int(),
    'jobs-finished': z.number().int(),
    'jobs-cancelled': z.number().int(),
    'jobs-failed': z.number().int(),
    'flink-version': z.string(),
    'flink-commit': z.string().optional(),
  })
  .transform((o) => ({
    taskManagers: o.taskmanagers,
    slotsTotal: o['slots-total'],
    slotsAvailable: o['slots-available'],
    jobsRunning: o['jobs-running'],
    jobsFinished: o['jobs-finished'],
    jobsCancelled: o['jobs-cancelled'],
    jobsFailed: o['jobs-failed'],
    flinkVersion: o['flink-version'],
    flinkCommit: o['flink-commit'],
  }));
export type ClusterOverview = z.output<typeof overviewSchema>;

const taskManagerSchema = z
  .object({
    id: z.string(),
    path: z.string(),
    dataPort: z.number().int(),
    // Despite its name, Flink 1.20 sends the epoch millis of the last heartbeat here.
    timeSinceLastHeartbeat: z.number(),
    slotsNumber: z.number().int(),
    freeSlots: z.number().int(),
  })
  .transform((t) => ({
    id: t.id,
    path: t.path,
    dataPort: t.dataPort,
    lastHeartbeatAt: t.timeSinceLastHeartbeat,
    slotsTotal: t.slotsNumber,
    slotsFree: t.freeSlots,
  }));
export type TaskManagerInfo = z.output<typeof taskManagerSchema>;
export const taskManagersSchema = z.object({ taskmanagers: z.array(taskManagerSchema) }).transform((r) => r.taskmanagers);

const taskCounts = z.record(z.string(), z.number().int());

const jobOverviewSchema = z
  .object({
    jid: z.string(),
    name: z.string(),
    state: jobState,
    'start-time': z.number(),
    'end-time': optionalTimestamp,
    duration: z.number(),
    'last-modification': z.number(),
    tasks: taskCounts,
  })
  .transform((j) => ({
    jid: j.jid,
    name: j.name,
    state: j.state,
    startTime: j['start-time'],
    endTime: j['end-time'],
    durationMs: j.duration,
    lastModification: j['last-modification'],
    tasks: j.tasks,
  }));
export type JobOverview = z.output<typeof jobOverviewSchema>;
export const jobsOverviewSchema = z.object({ jobs: z.array(jobOverviewSchema) }).transform((r) => r.jobs);

const vertexSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    parallelism: z.number().int(),
    maxParallelism: z.number().int(),
    status: z.string(),
    'start-time': z.number(),
    tasks: taskCounts,
  })
  .transform((v) => ({
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: v.maxParallelism,
    status: v.status,
    startTime: v['start-time'],
    tasks: v.tasks,
  }));

export const jobDetailSchema = z
  .object({
    jid: z.string(),
    name: z.string(),
    state: jobState,
    'job-type': z.enum(['STREAMING', 'BATCH']).optional(),
    isStoppable: z.boolean(),
    'start-time': z.number(),
    'end-time': optionalTimestamp,
    duration: z.number(),
    now: z.number(),
    timestamps: z.record(z.string(), z.number()),
    vertices: z.array(vertexSchema),
  })
  .transform((j) => ({
    jid: j.jid,
    name: j.name,
    state: j.state,
    jobType: j['job-type'],
    isStoppable: j.isStoppable,
    startTime: j['start-time'],
    endTime: j['end-time'],
    durationMs: j.duration,
    now: j.now,
    /** When the job last entered each state (0 = never). */
    stateTimestamps: j.timestamps,
    vertices: j.vertices,
  }));
export type JobDetail = z.output<typeof jobDetailSchema>;

const exceptionEntrySchema = z
  .object({
    exceptionName: z.string(),
    stacktrace: z.string(),
    timestamp: z.number(),
    taskName: z.string().nullish(),
    endpoint: z.string().nullish(),
  })
  .transform((e) => ({
    exceptionName: e.exceptionName,
    rootCause: summarizeJavaTrace(e.stacktrace),
    stacktrace: e.stacktrace,
    timestamp: e.timestamp,
    taskName: e.taskName ?? null,
    endpoint: e.endpoint ?? null,
  }));

export const jobExceptionsSchema = z
  .object({
    'root-exception': z.string().nullable(),
    timestamp: z.number().nullable(),
    exceptionHistory: z.object({ entries: z.array(exceptionEntrySchema), truncated: z.boolean() }),
  })
  .transform((e) => ({
    /** Full Java trace of the failure that last caused a restart or failed the job. */
    rootException: e['root-exception'],
    /** One readable line of it, e.g. "NumberFormatException: For input string: ...". */
    rootCause: e['root-exception'] === null ? null : summarizeJavaTrace(e['root-exception']),
    timestamp: e.timestamp,
    history: e.exceptionHistory.entries,
    truncated: e.exceptionHistory.truncated,
  }));
export type JobExceptions = z.output<typeof jobExceptionsSchema>;

// ---- checkpoints ----------------------------------------------------------------------------------

const savepointFormat = z.enum(['CANONICAL', 'NATIVE']);
export type SavepointFormat = z.infer<typeof savepointFormat>;

const checkpointCommon = {
  id: z.number().int(),
  is_savepoint: z.boolean(),
  savepointFormat: savepointFormat.nullish(),
  checkpoint_type: z.string(),
  trigger_timestamp: z.number(),
  latest_ack_timestamp: z.number(),
  state_size: z.number(),
  end_to_end_duration: z.number(),
  num_subtasks: z.number().int(),
  num_acknowledged_subtasks: z.number().int(),
};
const rawCompleted = z.object({
  ...checkpointCommon,
  status: z.literal('COMPLETED'),
  external_path: z.string(),
  discarded: z.boolean(),
});
const rawFailed = z.object({
  ...checkpointCommon,
  status: z.literal('FAILED'),
  failure_timestamp: z.number(),
  failure_message: z.string().nullable(),
});
const rawInProgress = z.object({ ...checkpointCommon, status: z.literal('IN_PROGRESS') });
type RawCheckpoint = z.infer<typeof rawCompleted> | z.infer<typeof rawFailed> | z.infer<typeof rawInProgress>;

function common(c: RawCheckpoint) {
  return {
    id: c.id,
    isSavepoint: c.is_savepoint,
    savepointFormat: c.savepointFormat ?? null,
    checkpointType: c.checkpoint_type,
    triggerTimestamp: c.trigger_timestamp,
    latestAckTimestamp: c.latest_ack_timestamp,
    stateSize: c.state_size,
    endToEndDurationMs: c.end_to_end_duration,
    numSubtasks: c.num_subtasks,
    numAcknowledgedSubtasks: c.num_acknowledged_subtasks,
  };
}

const toCompleted = (c: z.infer<typeof rawCompleted>) => ({
  ...common(c),
  status: c.status,
  /** Where the checkpoint/savepoint lives, e.g. "file:/tmp/st/sp/savepoint-5bee46-922628083bef". */
  externalPath: c.external_path,
  /** The files were deleted (subsumed by newer retained checkpoints): not restorable any more. */
  discarded: c.discarded,
});
const toFailed = (c: z.infer<typeof rawFailed>) => ({
  ...common(c),
  status: c.status,
  failureTimestamp: c.failure_timestamp,
  failureMessage: c.failure_message,
});
const toInProgress = (c: z.infer<typeof rawInProgress>) => ({ ...common(c), status: c.status });

export type CompletedCheckpoint = ReturnType<typeof toCompleted>;
type FailedCheckpoint = ReturnType<typeof toFailed>;
type InProgressCheckpoint = ReturnType<typeof toInProgress>;
type CheckpointEntry = CompletedCheckpoint | FailedCheckpoint | InProgressCheckpoint;

const checkpointEntrySchema = z
  .discriminatedUnion('status', [rawCompleted, rawFailed, rawInProgress])
  .transform((c): CheckpointEntry => {
    switch (c.status) {
      case 'COMPLETED':
        return toCompleted(c);
      case 'FAILED':
        return toFailed(c);
      case 'IN_PROGRESS':
        return toInProgress(c);
    }
  });

const restoredCheckpointSchema = z
  .object({ id: z.number().int(), restore_timestamp: z.number(), is_savepoint: z.boolean(), external_path: z.string() })
  .transform((r) => ({
    id: r.id,
    restoreTimestamp: r.restore_timestamp,
    isSavepoint: r.is_savepoint,
    /** The checkpoint/savepoint this run started from. */
    externalPath: r.external_path,
  }));

export const checkpointsSchema = z
  .object({
    counts: z.object({
      restored: z.number().int(),
      total: z.number().int(),
      in_progress: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
    }),
    // `summary` is not read: for a job without checkpoints its percentiles are the string "NaN".
    latest: z.object({
      completed: rawCompleted.transform(toCompleted).nullable(),
      savepoint: rawCompleted.transform(toCompleted).nullable(),
      failed: rawFailed.transform(toFailed).nullable(),
      restored: restoredCheckpointSchema.nullable(),
    }),
    history: z.array(checkpointEntrySchema),
  })
  .transform((c) => ({
    counts: {
      restored: c.counts.restored,
      total: c.counts.total,
      inProgress: c.counts.in_progress,
      completed: c.counts.completed,
      failed: c.counts.failed,
    },
    latest: c.latest,
    /** Newest first, as Flink sends it; bounded by `web.checkpoints.history` (10). */
    history: c.history,
  }));
export type CheckpointingStats = z.output<typeof checkpointsSchema>;

export const checkpointConfigSchema = z
  .object({
    mode: z.string(),
    interval: z.number(),
    timeout: z.number(),
    min_pause: z.number(),
    max_concurrent: z.number().int(),
    externalization: z.object({ enabled: z.boolean(), delete_on_cancellation: z.boolean() }),
    state_backend: z.string(),
    checkpoint_storage: z.string(),
    unaligned_checkpoints: z.boolean(),
    tolerable_failed_checkpoints: z.number().int(),
  })
  .transform((c) => ({
    mode: c.mode,
    // Flink reports Long.MAX_VALUE when periodic checkpointing is off.
    intervalMs: c.interval > Number.MAX_SAFE_INTEGER ? null : c.interval,
    timeoutMs: c.timeout,
    minPauseMs: c.min_pause,
    maxConcurrent: c.max_concurrent,
    /** Checkpoints survive a cancel only when retained and not deleted on cancellation. */
    retainedOnCancellation: c.externalization.enabled && !c.externalization.delete_on_cancellation,
    stateBackend: c.state_backend,
    checkpointStorage: c.checkpoint_storage,
    unalignedCheckpoints: c.unaligned_checkpoints,
    tolerableFailedCheckpoints: c.tolerable_failed_checkpoints,
  }));
export type CheckpointConfig = z.output<typeof checkpointConfigSchema>;

// ---- savepoint / stop operations --------------------------------------------------------------------

export const triggerResponseSchema = z.object({ 'request-id': z.string() }).transform((r) => r['request-id']);

export const savepointStatusSchema = z
  .object({
    status: z.object({ id: z.enum(['IN_PROGRESS', 'COMPLETED']) }),
    operation: z
      .object({
        location: z.string().optional(),
        'failure-cause': z.object({ class: z.string(), 'stack-trace': z.string() }).optional(),
      })
      .nullable(),
  })
  .superRefine((s, ctx) => {
    if (s.status.id === 'COMPLETED' && !s.operation?.location && !s.operation?.['failure-cause']) {
      ctx.addIssue({ code: 'custom', path: ['operation'], message: 'COMPLETED without location or failure-cause' });
    }
  })
  .transform((s): SavepointStatus => {
    if (s.status.id === 'IN_PROGRESS') return { state: 'IN_PROGRESS' };
    const failure = s.operation?.['failure-cause'];
    if (failure) {
      const trace = failure['stack-trace'];
      return {
        state: 'FAILED',
        failureCause: summarizeJavaTrace(trace),
        failureTrace: trace,
        jobNotFound: /FlinkJobNotFoundException/.test(trace),
      };
    }
    return { state: 'COMPLETED', location: s.operation?.location as string };
  });

/**
 * Flink itself reports a failed savepoint as `COMPLETED` with a `failure-cause`; here that is FAILED,
 * so "COMPLETED" always comes with a location.
 */
export type SavepointStatus =
  | { readonly state: 'IN_PROGRESS' }
  | { readonly state: 'COMPLETED'; readonly location: string }
  | {
      readonly state: 'FAILED';
      /** One readable line, e.g. "IOException: Failed to create savepoint directory at file:/proc/x". */
      readonly failureCause: string;
      readonly failureTrace: string;
      /** The job was gone when the operation ran (Flink accepts the POST with 202 anyway). */
      readonly jobNotFound: boolean;
    };

/** GET /savepoint-disposal/:triggerId — COMPLETED with no failure-cause means the savepoint is gone. */
export const disposalStatusSchema = z
  .object({
    status: z.object({ id: z.enum(['IN_PROGRESS', 'COMPLETED']) }),
    operation: z
      .object({ 'failure-cause': z.object({ class: z.string(), 'stack-trace': z.string() }).optional() })
      .nullable()
      .optional(),
  })
  .transform((s): DisposalStatus => {
    if (s.status.id === 'IN_PROGRESS') return { state: 'IN_PROGRESS' };
    const failure = s.operation?.['failure-cause'];
    return failure ? { state: 'FAILED', failureCause: summarizeJavaTrace(failure['stack-trace']) } : { state: 'COMPLETED' };
  });

export type DisposalStatus =
  | { readonly state: 'IN_PROGRESS' }
  | { readonly state: 'COMPLETED' }
  | { readonly state: 'FAILED'; readonly failureCause: string };

/**
 * GET /jobs/:jobId/vertices/:vertexId/subtasks/metrics?get=a,b&agg=max — one aggregate over the
 * vertex's subtasks per metric; a metric a vertex does not have is absent. Flink may send NaN (busy
 * time of some sources) as a string.
 */
export const vertexMetricsSchema = z
  .array(z.object({ id: z.string(), max: z.union([z.number(), z.string()]) }))
  .transform((items) => Object.fromEntries(items.map((m) => [m.id, Number(m.max)])) as Record<string, number>);

/** GET /jobs/:jobId/metrics?get=a,b — values arrive as strings. */
export const jobMetricsSchema = z
  .array(z.object({ id: z.string(), value: z.string() }))
  .transform((items) => Object.fromEntries(items.map((m) => [m.id, Number(m.value)])) as Record<string, number>);
