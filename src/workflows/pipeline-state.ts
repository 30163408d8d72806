/**
 * The pipeline workflow's model: the carried state as one value (`s`, declared once in
 * src/core/state.ts), what only this run holds (the request in flight, the step's unwritten events),
 * and how it reads as the `status` query. No I/O here: mutations only, and they happen inside the
 * workflow.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../constants';
import { flussDatabaseOf, generationOf, jobNameOf } from '../core/versions';
import { pipelineCurrentDetails } from '../core/metadata';
import { redact } from '../core/redact';
import { shownState } from '../core/watch';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from '../core/spec';
import { CarriedState, MAX_ALERTS, MAX_REQUEST_IDS, PipelineStatus, restoreState } from '../core/state';
import { Alert, PipelineState, RestorePoint } from '../core/types';

const STATE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.state, 'KEYWORD');

export class PipelineModel {
  /** Everything that survives continue-as-new (src/core/state.ts). */
  s: CarriedState;
  /** Set by the decommission signal; the main loop ends after the current step. */
  decommission: { dropSourceArtifacts: boolean; reason: string | null } | null = null;
  /** Events of the step in progress, written when it ends (not carried: every step flushes its own). */
  pendingEvents: Array<{ at: number; kind: string; message: string }> = [];
  /** A redeploy in progress (validators reject a second one). */
  redeploying: { toVersion: number } | null = null;

  constructor(
    public spec: PipelineSpec,
    carried?: Partial<CarriedState>,
  ) {
    this.s = restoreState(carried);
  }

  /** Remember a handled request id; false when it was handled before. */
  firstTime(requestId: string | undefined): boolean {
    if (requestId === undefined) return true;
    if (this.s.requestIds.includes(requestId)) return false;
    this.s.requestIds = [requestId, ...this.s.requestIds].slice(0, MAX_REQUEST_IDS);
    return true;
  }

  reject(at: number, requestId: string | null, reason: string): void {
    this.s.redeployRejections = [{ at, requestId, reason }, ...this.s.redeployRejections].slice(0, MAX_ALERTS);
  }

  /** Change state; the search attribute follows so the Temporal UI can filter by it. */
  setState(state: PipelineState, reason: string | null = null): boolean {
    // Reasons quote errors: the keyed forms of a secret never reach status or events.
    reason = reason === null ? null : redact(reason);
    const changed = state !== this.s.state || reason !== this.s.reason;
    this.s.state = state;
    this.s.reason = reason;
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
    this.s.alerts = [a, ...this.s.alerts].slice(0, MAX_ALERTS);
    return a;
  }

  /** Record a savepoint against its job (newest first). */
  addSavepoint(job: JobName, point: RestorePoint): void {
    const r = this.s.records[job];
    this.s.records[job] = { ...r, savepoints: [point, ...r.savepoints.filter((x) => x.path !== point.path)] };
  }

  /** What the next run continues from: the carried state itself. */
  carry(): CarriedState {
    return this.s;
  }

  status(): PipelineStatus {
    const s = this.s;
    const windowMs = durationMs(this.spec.watch.restartWindow);
    const jobs = JOB_NAMES.map((job) => {
      const r = s.records[job];
      return {
        job,
        flinkName: jobNameOf(this.spec, job),
        jobId: r.jobId,
        flinkState: r.flinkState,
        lastCheckpoint: r.lastCheckpoint,
        lastSavepoint: r.savepoints[0] ?? null,
        restoredFrom: r.restoredFrom,
        restartsInWindow: s.observedAt === null ? r.restarts.length : r.restarts.filter((t) => s.observedAt! - t <= windowMs).length,
        lastError: r.lastError,
      };
    });
    // Never RUNNING beside a job the watch has just seen not running (src/core/watch.ts shownState).
    const shown = shownState(s.state, s.reason, jobs);
    return {
      pipeline: this.spec.name,
      version: this.spec.version,
      outputs: { flussDatabase: flussDatabaseOf(this.spec), sinkSchema: this.spec.sink.schema },
      state: shown.state,
      reason: shown.reason,
      jobs,
      lastVerification: s.lastVerification,
      lastRedeploy: s.lastRedeploy,
      alerts: s.alerts,
      observedAt: s.observedAt,
      freshness: s.freshness,
      redeployPlan: s.redeployPlan,
      plan: s.plan,
      redeployRejections: s.redeployRejections,
      sinkDifference: s.sinkDifference,
      lastEqualAt: s.lastEqualAt,
      repair: s.repair,
      generation: generationOf(this.spec),
      parked: s.parked ? { version: s.parked.spec.version, generation: generationOf(s.parked.spec), parkedAt: s.parked.parkedAt, until: s.parked.until } : null,
    };
  }
}
