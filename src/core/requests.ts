/**
 * Which requests the pipeline workflow refuses, and why: one pure function per message, asked by the
 * update validators and the signal handlers (src/workflows/handlers.ts). Pure; no Node built-ins.
 */
import type { RedeployRequest, SavepointRequest } from './messages';
import { jobsProblem, refusedChange, requestProblem } from './redeploy';
import { EndpointForm, PipelineSpec, parseSpec } from './spec';
import type { PipelineState } from './types';

/** What a refusal looks at: the pipeline as the workflow holds it now. */
export interface RequestContext {
  state: PipelineState;
  /** A decommission was requested (the main loop ends after the current step). */
  decommissioning: boolean;
  /** The version a redeploy in flight moves to, or null. */
  redeployingTo: number | null;
  spec: PipelineSpec;
}

const retiring = (c: RequestContext) => c.decommissioning || c.state === 'DECOMMISSIONING' || c.state === 'DECOMMISSIONED';

/** Why a redeploy request cannot run now, or null. `form`: whether the spec may name addresses (old histories). */
export function redeployRefusal(c: RequestContext, request: RedeployRequest, form: EndpointForm = 'names'): string | null {
  if (retiring(c)) return 'the pipeline is being decommissioned; nothing can be redeployed';
  if (c.redeployingTo !== null) return `a redeploy to version ${c.redeployingTo} is already in progress; wait for its outcome`;
  if (c.state === 'PAUSED' || c.state === 'PAUSING') return 'the pipeline is paused; resume it before redeploying';
  const shape = requestProblem(request);
  if (shape) return shape;
  const strategy = (request as { strategy?: unknown }).strategy;
  if (strategy !== undefined && strategy !== 'savepoint' && strategy !== 'blue-green') {
    return `strategy ${JSON.stringify(strategy).slice(0, 60)} is not one of savepoint, blue-green`;
  }
  if (strategy === 'blue-green' && (request.jobs !== undefined || request.mode !== undefined)) {
    return 'a blue-green redeploy starts every job of the new version beside the live one: jobs and mode are for savepoint redeploys';
  }
  if (request.spec === undefined) return null;
  let next: PipelineSpec;
  try {
    next = parseSpec(request.spec, form);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return refusedChange(c.spec, next);
}

export function pauseRefusal(c: RequestContext): string | null {
  if (c.decommissioning || c.state === 'DECOMMISSIONED') return 'the pipeline is being decommissioned';
  if (c.state === 'PAUSED') return 'the pipeline is already paused';
  return null;
}

export function resumeRefusal(c: RequestContext): string | null {
  if (c.decommissioning || c.state === 'DECOMMISSIONED') return 'the pipeline is being decommissioned';
  if (c.state !== 'PAUSED' && c.state !== 'PAUSING') return `the pipeline is ${c.state}, not paused`;
  return null;
}

export function savepointRefusal(c: RequestContext, request: SavepointRequest | null | undefined): string | null {
  const problem = request === null || typeof request !== 'object' ? 'the savepoint request must be an object' : jobsProblem(request.jobs);
  if (problem) return problem;
  if (c.state === 'PAUSED' || c.decommissioning) return `no job is running (pipeline ${c.state})`;
  return null;
}

/**
 * States in which a failed verification is expected (inactive slots, no probe): shown in status, not
 * raised as an alert.
 */
export function verificationAlerts(state: PipelineState): boolean {
  return !['PAUSING', 'PAUSED', 'DECOMMISSIONING', 'DECOMMISSIONED'].includes(state);
}
