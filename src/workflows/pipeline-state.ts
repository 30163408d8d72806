/**
 * The pipeline workflow's state: what it is doing, what it knows about each job, and how that reads
 * as the `status` query. Kept beside the workflow so pipeline.ts reads as the lifecycle itself.
 * No I/O here: mutations only, and they happen inside the workflow.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { SavepointRecord } from './lifecycle/steps';
import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, flinkJobName } from '../constants';
import type { FreshnessObservation } from '../core/lag';
import { pipelineCurrentDetails } from '../core/metadata';
import { redact } from '../core/redact';
import { shownState } from '../core/watch';
import type { RedeployPlan } from '../core/redeploy';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../core/spec';
import {
  Alert,
  JobRecord,
  PipelineState,
  PipelineStatus,
  RedeployOutcome,
  RestorePoint,
  VerificationSummary,
  newJobRecord,
} from '../core/types';

const STATE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.state, 'KEYWORD');

/** What survives continue-as-new. */
export interface CarriedState {
  state: PipelineState;
  reason: string | null;
  deployed: boolean;
  records: Record<JobName, JobRecord>;
  lastVerification: VerificationSummary | null;
  lastRedeploy: RedeployOutcome | null;
  alerts: Alert[];
  lastPeriodicSavepointAt: number;
  observedAt: number | null;
  observeFailures: number;
  /** Absent in state carried before freshness was watched. */
  freshness?: FreshnessObservation | null;
  /** Absent in state carried before redeploys were planned. */
  redeployPlan?: RedeployPlan | null;
  requestIds?: string[];
  redeployRejections?: Array<{ at: number; requestId: string | null; reason: string }>;
  /** Savepoint records the sink has not taken yet (absent before 'durable-records'). */
  pendingRecords?: SavepointRecord[];
}

const MAX_ALERTS = 20;
const MAX_REQUEST_IDS = 100;

export class PipelineModel {
  state: PipelineState;
  reason: string | null;
  deployed: boolean;
  records: Record<JobName, JobRecord>;
  lastVerification: VerificationSummary | null;
  lastRedeploy: RedeployOutcome | null;
  alerts: Alert[];
  lastPeriodicSavepointAt: number;
  observedAt: number | null;
  observeFailures: number;
  /** The watch's last freshness measurement (src/core/lag.ts). */
  freshness: FreshnessObservation | null;
  /** Set by the decommission signal; the main loop ends after the current step. */
  decommission: { dropSourceArtifacts: boolean; reason: string | null } | null = null;
  /** Savepoint records the sink could not take yet; written after the next step (lifecycle/steps.ts). */
  pendingRecords: SavepointRecord[];
  /** Events of the step in progress, written when it ends (not carried: every step flushes its own). */
  pendingEvents: Array<{ at: number; kind: string; message: string }> = [];
  /** A redeploy in progress (validators reject a second one). */
  redeploying: { toVersion: number } | null = null;
  /** The redeploy in progress, or the last one (src/core/redeploy.ts). */
  redeployPlan: RedeployPlan | null;
  /** Request ids of redeploys already handled, newest first: a repeated one is a no-op. */
  requestIds: string[];
  redeployRejections: Array<{ at: number; requestId: string | null; reason: string }>;

  constructor(public spec: PipelineSpec, carried?: CarriedState) {
    this.state = carried?.state ?? 'DEPLOYING';
    this.reason = carried?.reason ?? null;
    this.deployed = carried?.deployed ?? false;
    this.records = carried?.records ?? (Object.fromEntries(JOB_NAMES.map((j) => [j, newJobRecord(j)])) as Record<JobName, JobRecord>);
    this.lastVerification = carried?.lastVerification ?? null;
    this.lastRedeploy = carried?.lastRedeploy ?? null;
    this.alerts = carried?.alerts ?? [];
    this.lastPeriodicSavepointAt = carried?.lastPeriodicSavepointAt ?? 0;
    this.observedAt = carried?.observedAt ?? null;
    this.observeFailures = carried?.observeFailures ?? 0;
    this.freshness = carried?.freshness ?? null;
    this.redeployPlan = carried?.redeployPlan ?? null;
    this.requestIds = carried?.requestIds ?? [];
    this.redeployRejections = carried?.redeployRejections ?? [];
    this.pendingRecords = carried?.pendingRecords ?? [];
  }

  /** Remember a handled request id; false when it was handled before. */
  firstTime(requestId: string | undefined): boolean {
    if (requestId === undefined) return true;
    if (this.requestIds.includes(requestId)) return false;
    this.requestIds = [requestId, ...this.requestIds].slice(0, MAX_REQUEST_IDS);
    return true;
  }

  reject(at: number, requestId: string | null, reason: string): void {
    this.redeployRejections = [{ at, requestId, reason }, ...this.redeployRejections].slice(0, MAX_ALERTS);
  }

  /** Change state; the search attribute follows so the Temporal UI can filter by it. */
  setState(state: PipelineState, reason: string | null = null): boolean {
    // Reasons quote errors: the keyed forms of a secret never reach status or events.
    reason = reason === null ? null : redact(reason);
    const changed = state !== this.state || reason !== this.reason;
    this.state = state;
    this.reason = reason;
    if (changed) {
      upsertSearchAttributes([{ key: STATE_KEY, value: state }]);
      this.publish();
    }
    return changed;
  }

  /**
   * The Temporal UI's current details for this workflow (core/metadata.ts), as of the workflow's time
   * now. Called on every state change, after every step and message: no history event, no command.
   */
  publish(): void {
    setCurrentDetails(pipelineCurrentDetails(this.status(), Date.now()));
  }

  alert(at: number, kind: string, message: string): Alert {
    const a = { at, kind, message: redact(message) };
    this.alerts = [a, ...this.alerts].slice(0, MAX_ALERTS);
    return a;
  }

  /** Record a savepoint against its job (newest first). */
  addSavepoint(job: JobName, point: RestorePoint): void {
    const r = this.records[job];
    this.records[job] = { ...r, savepoints: [point, ...r.savepoints.filter((s) => s.path !== point.path)] };
  }

  carry(): CarriedState {
    return {
      state: this.state,
      reason: this.reason,
      deployed: this.deployed,
      records: this.records,
      lastVerification: this.lastVerification,
      lastRedeploy: this.lastRedeploy,
      alerts: this.alerts,
      lastPeriodicSavepointAt: this.lastPeriodicSavepointAt,
      observedAt: this.observedAt,
      observeFailures: this.observeFailures,
      freshness: this.freshness,
      redeployPlan: this.redeployPlan,
      requestIds: this.requestIds,
      redeployRejections: this.redeployRejections,
      ...(this.pendingRecords.length ? { pendingRecords: this.pendingRecords } : {}),
    };
  }

  status(): PipelineStatus {
    const windowMs = durationMs(this.spec.watch.restartWindow);
    const jobs = JOB_NAMES.map((job) => {
      const r = this.records[job];
      return {
        job,
        flinkName: flinkJobName(this.spec.name, job),
        jobId: r.jobId,
        flinkState: r.flinkState,
        lastCheckpoint: r.lastCheckpoint,
        lastSavepoint: r.savepoints[0] ?? null,
        restoredFrom: r.restoredFrom,
        restartsInWindow: this.observedAt === null ? r.restarts.length : r.restarts.filter((t) => this.observedAt! - t <= windowMs).length,
        lastError: r.lastError,
      };
    });
    // Never RUNNING beside a job the watch has just seen not running (src/core/watch.ts shownState).
    const shown = shownState(this.state, this.reason, jobs);
    return {
      pipeline: this.spec.name,
      version: this.spec.version,
      outputs: { flussDatabase: this.spec.fluss.database, sinkSchema: this.spec.sink.schema },
      state: shown.state,
      reason: shown.reason,
      jobs,
      lastVerification: this.lastVerification,
      lastRedeploy: this.lastRedeploy,
      alerts: this.alerts,
      observedAt: this.observedAt,
      freshness: this.freshness,
      redeployPlan: this.redeployPlan,
      redeployRejections: this.redeployRejections,
    };
  }
}
