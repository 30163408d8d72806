/**
 * The payloads of the pipeline workflow's messages and of its record activity: types the workflow, its
 * activities, the CLI and the dashboard share (the message definitions themselves are in
 * src/workflows/definitions.ts). Types only.
 */
import type { JobName, PipelineSpec, PipelineSpecInput } from './spec';
import type { RestorePoint } from './types';
import type { RepairFrom } from './repair';
import type { UpgradeMode } from './upgrade';

export interface RedeployRequest {
  /** The new spec (same pipeline name); omitted = redeploy the current one. */
  spec?: PipelineSpecInput;
  /** Jobs to move even if unchanged (omitted with no spec: all jobs). */
  jobs?: JobName[];
  mode?: UpgradeMode;
  /** savepoint (restart the changed jobs) or blue-green (a whole new version beside the live one); default: the spec's redeploy.strategy. */
  strategy?: 'savepoint' | 'blue-green';
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

/** A savepoint as the sink's ops schema records it (what a later workflow resumes from). */
export interface SavepointRecord {
  spec: PipelineSpec;
  job: JobName;
  point: RestorePoint;
  fingerprint?: string | null;
  sourcePositions?: Record<string, string>;
}

export interface RepairRequest {
  /** The layer to rebuild from (default ads: the sink from Fluss DWS/ADS). */
  from?: RepairFrom;
  /** Plan only: the plan is returned and shown, nothing is done. */
  dryRun?: boolean;
  /** A request id seen before is a no-op (the CLI sets one per invocation). */
  requestId?: string;
  /** Why (shown with the repair). */
  reason?: string;
}
