/**
 * Facts and memory shared by the activities (which observe and act) and the pipeline workflow (which
 * decides). Plain data only: everything here travels through Temporal payloads and history.
 * No Node built-ins may be imported here (workflow sandbox).
 */
import type { JobName } from './spec';

export const PIPELINE_STATES = [
  'DEPLOYING',
  'RUNNING',
  'DEGRADED',
  /** The watch is bringing jobs back (resubmitting lost or failed jobs, adding task slots). */
  'RECOVERING',
  'REDEPLOYING',
  'ROLLING_BACK',
  'PAUSING',
  'PAUSED',
  'RESUMING',
  'DECOMMISSIONING',
  'DECOMMISSIONED',
  /** Waiting for an operator: a prerequisite is missing (slots, wal_level, rights); the reason says which. */
  'BLOCKED',
] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

/** Flink's JobStatus, as the REST API reports it (the REST schemas refuse any other). */
export const JOB_STATES = [
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'FAILED',
  'CANCELLING',
  'CANCELED',
  'FINISHED',
  'RESTARTING',
  'SUSPENDED',
  'RECONCILING',
] as const;
export type FlinkJobState = (typeof JOB_STATES)[number];

/**
 * Where a long step says what it is doing, one line at a time: the CLI prints the lines, an activity
 * heartbeats them (the local stack's start, the warehouse's deploy).
 */
export type Progress = (message: string) => void;

/** Globally terminal states: the job will not run again under this id. */
export const TERMINAL_JOB_STATES: ReadonlySet<FlinkJobState> = new Set<FlinkJobState>(['FAILED', 'CANCELED', 'FINISHED']);
/** Any other state is live: Flink runs the job, or is bringing it up, restarting or stopping it. */
export const isLiveState = (s: FlinkJobState) => !TERMINAL_JOB_STATES.has(s);
/** The record names a live job: one Flink runs (or is bringing up) under the id the workflow knows. */
export const isLive = (r: JobRecord) => r.jobId !== null && r.flinkState !== null && isLiveState(r.flinkState);

export interface RestorePoint {
  kind: 'savepoint' | 'checkpoint';
  path: string;
  /** Epoch ms when it completed (from Flink). */
  at: number;
  /** The Flink job instance it was taken from. */
  jobId: string;
  /** Why a savepoint was taken: periodic, stop (pause/redeploy/decommission) or on request. */
  reason?: 'periodic' | 'stop' | 'manual';
  /** Spec version of the job that took it (rollback restores the old version from its own savepoint). */
  version?: number;
}

/** What the workflow remembers about one job between observations (and across continue-as-new). */
export interface JobRecord {
  job: JobName;
  /** The Flink job instance gridflow submitted or adopted; null before the first submit. */
  jobId: string | null;
  fingerprint: string | null;
  submittedAt: number | null;
  restoredFrom: RestorePoint | null;
  lastCheckpoint: RestorePoint | null;
  /** Newest first. */
  savepoints: RestorePoint[];
  /** Restore points a job failed to start from: never chosen again. */
  badRestorePaths: string[];
  /** Times (epoch ms) the job restarted: Flink's own restarts and gridflow's resubmissions. */
  restarts: number[];
  /** Flink's numRestarts metric for jobId at the last observation (to count new restarts). */
  seenNumRestarts: number;
  /** Stopped on purpose (pause, redeploy, decommission): the watch does not bring it back. */
  stopped: boolean;
  flinkState: FlinkJobState | null;
  lastError: string | null;
  /**
   * The retained-checkpoint directory of the instance this one restored from, once removed (see
   * checkpointDirToDispose). Absent in records from before it existed.
   */
  disposedCheckpointDir?: string | null;
  /**
   * The job read a Fluss offset that Fluss no longer has (a tablet server lost what was not yet on
   * disk: one copy, a crash). Kept until the job is deployed afresh: rows may be missing or stale
   * downstream for good. Absent in records from before it existed.
   */
  flussDataLoss?: { at: number; error: string } | null;
}

export function newJobRecord(job: JobName): JobRecord {
  return {
    job,
    jobId: null,
    fingerprint: null,
    submittedAt: null,
    restoredFrom: null,
    lastCheckpoint: null,
    savepoints: [],
    badRestorePaths: [],
    restarts: [],
    seenNumRestarts: 0,
    stopped: false,
    flinkState: null,
    lastError: null,
  };
}

export interface JobInstance {
  jobId: string;
  state: FlinkJobState;
  startTime: number;
  endTime: number | null;
}

export interface JobObservation {
  job: JobName;
  flinkName: string;
  /** Every instance the JobManager lists under this name, newest first. */
  instances: JobInstance[];
  /** For the tracked instance (the recorded jobId, else the oldest live one), when Flink knows it. */
  trackedJobId: string | null;
  latestCheckpoint: RestorePoint | null;
  latestSavepoint: RestorePoint | null;
  completedCheckpoints: number;
  numRestarts: number | null;
  /** Root cause line of the tracked instance's latest exception, if any. */
  rootCause: string | null;
  /**
   * Subtasks of the tracked instance waiting for a task slot (CREATED or SCHEDULED). After a lost
   * TaskManager Flink reports the job RUNNING again while its tasks wait for slots that never come.
   * Absent in observations recorded before it existed (read as 0).
   */
  tasksWaiting?: number;
}

export interface ClusterObservation {
  taskManagers: number;
  slotsTotal: number;
  slotsAvailable: number;
}

export interface Observation {
  /** Epoch ms, taken by the activity: the workflow decides on this clock, never its own. */
  observedAt: number;
  cluster: ClusterObservation;
  jobs: JobObservation[];
}

/** What a verification's comparison found, as it signals the pipeline (core/repair.ts folds it in). */
export interface VerifiedDifference {
  /** The comparison reached a verdict (false: it could not run, e.g. a database down). */
  compared: boolean;
  rows: number;
  tables: string[];
}

export interface VerificationSummary {
  runId: string;
  at: number;
  ok: boolean;
  freshnessMs: number | null;
  summary: string;
  /** What the comparison found (absent from runs made before repairs). */
  difference?: VerifiedDifference;
}

export interface Alert {
  at: number;
  kind: string;
  message: string;
}

export interface JobStatus {
  job: JobName;
  flinkName: string;
  jobId: string | null;
  flinkState: FlinkJobState | null;
  lastCheckpoint: RestorePoint | null;
  lastSavepoint: RestorePoint | null;
  restoredFrom: RestorePoint | null;
  restartsInWindow: number;
  lastError: string | null;
}

export interface RedeployOutcome {
  outcome: 'deployed' | 'rolled-back' | 'failed' | 'no-change';
  fromVersion: number;
  toVersion: number;
  jobs: JobName[];
  reason?: string;
  downtimeMs?: number;
  /** How the jobs moved (absent: savepoint restarts, as before blue/green). */
  strategy?: 'savepoint' | 'blue-green';
  /** Blue/green: from the request to readers switched to the proven new version. */
  switchMs?: number;
}
