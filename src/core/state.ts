/**
 * The pipeline workflow's state, declared once: every field with its type and its default, in
 * `initialState`. What survives continue-as-new is exactly this value (`CarriedState`); a run continued
 * from an older history takes the default for every field that history did not carry (`restoreState`).
 * Also the status the `status` query answers. Pure; no Node built-ins (workflow sandbox).
 */
import type { FreshnessObservation } from './lag';
import type { SavepointRecord } from './messages';
import type { Plan } from './plans';
import type { RedeployPlan } from './redeploy';
import type { ParkedVersion } from './bluegreen';
import type { RepairRecord, SinkDifference } from './repair';
import { JOB_NAMES, JobName, PipelineSpecInput } from './spec';
import { Alert, JobRecord, JobStatus, PipelineState, RedeployOutcome, VerificationSummary, newJobRecord } from './types';

interface Rejection {
  at: number;
  requestId: string | null;
  reason: string;
}

/** The state of a pipeline that has never run: every carried field and its default. */
export function initialState() {
  return {
    state: 'DEPLOYING' as PipelineState,
    reason: null as string | null,
    /** The first deploy finished (later ones are the watch's and redeploys'). */
    deployed: false,
    records: Object.fromEntries(JOB_NAMES.map((j) => [j, newJobRecord(j)])) as Record<JobName, JobRecord>,
    lastVerification: null as VerificationSummary | null,
    lastRedeploy: null as RedeployOutcome | null,
    /** Newest first, at most MAX_ALERTS. */
    alerts: [] as Alert[],
    /** Epoch ms of the last round of periodic savepoints (0: never). */
    lastPeriodicSavepointAt: 0,
    /** Epoch ms of the last observation of Flink. */
    observedAt: null as number | null,
    observeFailures: 0,
    /** The watch's last freshness measurement (src/core/lag.ts). */
    freshness: null as FreshnessObservation | null,
    /** The redeploy in progress, or the last one (src/core/redeploy.ts). */
    redeployPlan: null as RedeployPlan | null,
    /** The deploy or decommission in progress, or the last one (src/core/deploy.ts, decommission.ts). */
    plan: null as Plan | null,
    /** Request ids of redeploys already handled, newest first: a repeated one is a no-op. */
    requestIds: [] as string[],
    /** Redeploy requests refused or ignored, newest first. */
    redeployRejections: [] as Rejection[],
    /** Savepoint records the sink could not take yet; written after the next step. */
    pendingRecords: [] as SavepointRecord[],
    /** What the newest verifications found different from the contract, until one finds the sink equal (core/repair.ts). */
    sinkDifference: null as SinkDifference | null,
    /** Epoch ms of the newest verification that found the sink equal to the contract. */
    lastEqualAt: null as number | null,
    /** The repair in progress, or the last one. */
    repair: null as RepairRecord | null,
    /** The version readers left at the last blue/green switch, kept for `gridflow rollback` until its window ends (core/bluegreen.ts). */
    parked: null as ParkedVersion | null,
    /** The watch's last verdict on the source's columns: the sentence of a change ingest will fail on, or null (core/source-schema.ts). */
    sourceSchema: null as string | null,
  };
}

/** What survives continue-as-new. */
export type CarriedState = ReturnType<typeof initialState>;

/** The pipeline workflow's input (here with the state it carries, so that messages.ts need not import this file). */
export interface PipelineWorkflowInput {
  spec: PipelineSpecInput;
  /** Present after continue-as-new: what the previous run knew (fields it did not know take their defaults). */
  carried?: Partial<CarriedState>;
}

/** The state a run continues from: what the previous run carried, the default for what it did not know. */
export function restoreState(carried?: Partial<CarriedState> | null): CarriedState {
  const state = initialState();
  if (!carried) return state;
  const out: Record<string, unknown> = { ...state };
  for (const key of Object.keys(state)) {
    const value = (carried as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out as CarriedState;
}

export const MAX_ALERTS = 20;
export const MAX_REQUEST_IDS = 100;

export interface PipelineStatus {
  pipeline: string;
  version: number;
  /** Where the pipeline's outputs live (its own, src/core/ownership.ts). */
  outputs?: { flussDatabase: string; sinkSchema: string };
  state: PipelineState;
  reason: string | null;
  jobs: JobStatus[];
  lastVerification: VerificationSummary | null;
  lastRedeploy: RedeployOutcome | null;
  alerts: Alert[];
  /** Epoch ms of the last observation. */
  observedAt: number | null;
  /** How far behind the sink is, by the watch's freshness probes (src/core/lag.ts); absent before it was measured. */
  freshness?: FreshnessObservation | null;
  /** The redeploy in progress, or the last one: every step, forward and rollback, with its status. */
  redeployPlan?: RedeployPlan | null;
  /** The deploy or decommission in progress, or the last one (absent before plans ran them). */
  plan?: Plan | null;
  /** Redeploy requests refused or ignored (signals cannot be refused to the sender), newest first. */
  redeployRejections?: Rejection[];
  /** What the sink differs in, while it does (core/repair.ts). */
  sinkDifference?: SinkDifference | null;
  /** When a verification last found the sink equal to the contract. */
  lastEqualAt?: number | null;
  /** The repair in progress, or the last one, with its plan. */
  repair?: RepairRecord | null;
  /** The live version's generation (src/core/versions.ts); absent or 0 before blue/green. */
  generation?: number;
  /** The version kept for a rollback after a blue/green switch, and until when. */
  parked?: { version: number; generation: number; parkedAt: number; until: number } | null;
}
