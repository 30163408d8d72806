/**
 * The pipeline workflow's public surface: its messages and their payloads. Clients, the CLI, the
 * verification workflow and tests import these same definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JobName, PipelineSpecInput } from '../core/spec';
import type { UpgradeMode } from '../core/upgrade';
import type { PipelineStatus, RedeployOutcome, RestorePoint, VerificationSummary } from '../core/types';

export interface RedeployRequest {
  /** The new spec (same pipeline name); omitted = redeploy the current one. */
  spec?: PipelineSpecInput;
  /** Jobs to move even if unchanged (omitted with no spec: all jobs). */
  jobs?: JobName[];
  mode?: UpgradeMode;
  /** Set by automation: a request id seen before is a no-op (the CLI sets one per invocation). */
  requestId?: string;
}

export interface DecommissionRequest {
  /** Also drop the pipeline's replication slots and publications (its WAL position is lost). */
  dropSourceArtifacts?: boolean;
  reason?: string;
}

export interface SavepointRequest {
  jobs?: JobName[];
}

/** An update, not a signal, because the operator waits for the outcome (deployed or rolled back). */
export const redeployUpdate = defineUpdate<RedeployOutcome, [RedeployRequest]>('redeploy');
/** Stop every job with a savepoint; the watch leaves them stopped until resume. */
export const pauseUpdate = defineUpdate<PipelineStatus, []>('pause');
/** Start every job from the savepoints pause took. */
export const resumeUpdate = defineUpdate<PipelineStatus, []>('resume');
/** Take a savepoint of each (or the named) running job now. */
export const savepointUpdate = defineUpdate<RestorePoint[], [SavepointRequest]>('savepoint');
/**
 * The same request as a signal, for automation, `temporal workflow signal` and the Temporal UI's "Send a
 * Signal": nobody waits on it, so the outcome — or the rejection with its reason — lands in status
 * (lastRedeploy, redeployRejections), events and alerts. A repeated requestId is a no-op.
 */
export const redeploySignal = defineSignal<[RedeployRequest]>('redeploy');
/** A signal: decommissioning is final and nobody needs to wait on the request itself. */
export const decommissionSignal = defineSignal<[DecommissionRequest]>('decommission');
/** From VerifyPipelineWorkflow: the result of a verification run (a failure raises an alert). */
export const verificationSignal = defineSignal<[VerificationSummary]>('verificationResult');
export const statusQuery = defineQuery<PipelineStatus>('status');

export interface PipelineWorkflowInput {
  spec: PipelineSpecInput;
  /** Present after continue-as-new: what the previous run knew. */
  carried?: import('./pipeline-state').CarriedState;
}
