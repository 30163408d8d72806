/**
 * The pipeline workflow's public surface: its messages (their payloads are in src/core/messages.ts).
 * Clients, the CLI, the verification workflow and tests import these same definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecommissionRequest, RedeployRequest, RepairRequest, SavepointRequest } from '../core/messages';
import type { RepairRecord } from '../core/repair';
import type { RedeployOutcome, RestorePoint, VerificationSummary } from '../core/types';
import type { PipelineStatus } from '../core/state';

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
/**
 * Rebuild the sink beside the tables readers use and switch them once proven equal (src/core/repair.ts).
 * An update: `gridflow repair` waits for the outcome. `dryRun` returns the plan and does nothing.
 */
export const repairUpdate = defineUpdate<RepairRecord, [RepairRequest]>('repair');
/** The same request as a signal (automation, the Temporal UI): the outcome lands in status, events and alerts. */
export const repairSignal = defineSignal<[RepairRequest]>('repair');
/**
 * Readers back to the version the last blue/green switch left (src/core/bluegreen.ts), proven equal to
 * the contract first, within its redeploy.rollbackWindow. An update: `gridflow rollback` waits for the outcome.
 */
export const rollbackUpdate = defineUpdate<RedeployOutcome, [{ requestId?: string }]>('rollback');
/** A signal: decommissioning is final and nobody needs to wait on the request itself. */
export const decommissionSignal = defineSignal<[DecommissionRequest]>('decommission');
/** From VerifyPipelineWorkflow: the result of a verification run (a failure raises an alert). */
export const verificationSignal = defineSignal<[VerificationSummary]>('verificationResult');
export const statusQuery = defineQuery<PipelineStatus>('status');
