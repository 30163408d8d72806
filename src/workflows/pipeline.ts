/**
 * PipelineWorkflow — one per pipeline (workflow id `pipeline:<name>`), for the pipeline's whole life:
 *
 *   deploy     preflight the source → provision task slots → prepare source and sink → Fluss tables
 *              → submit each job in dependency order (adopting any live job of the same name) → RUNNING
 *   watch      every watch.interval: observe Flink, decide (src/core/watch.ts), act: resubmit a
 *              failed or lost job from its newest restore point, add slots, cancel duplicates, take
 *              and prune periodic savepoints, mark DEGRADED with the reason
 *   redeploy   (update) move the changed jobs to a new spec: stop with savepoint → submit from it →
 *              wait RUNNING; if the new version is not RUNNING in time, roll back to the old spec from
 *              the same savepoints
 *              (also as a `redeploy` signal with a request id, for automation and the Temporal UI)
 *   pause/resume (updates), savepoint (update), decommission (signal), status (query)
 *
 * Handlers that move jobs and the watch step are serialised by one FIFO lock. Continue-as-new when
 * Temporal suggests it, after every handler has finished. Workflow code decides only; every side
 * effect is an activity (src/activities/index.ts).
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { jobsProblem, refusedChange, requestProblem } from '../core/redeploy';
import { EndpointForm, JOB_NAMES, PipelineSpec, SpecError, durationMs, parseSpec } from '../core/spec';
import { PipelineStatus, RedeployOutcome } from '../core/types';
import {
  PipelineWorkflowInput,
  RedeployRequest,
  SavepointRequest,
  decommissionSignal,
  pauseUpdate,
  redeploySignal,
  redeployUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
  verificationSignal,
} from './definitions';
import { decommission } from './lifecycle/decommission';
import { deploy } from './lifecycle/deploy';
import { pause, resume } from './lifecycle/pause';
import { redeploy } from './lifecycle/redeploy';
import { savepointNow } from './lifecycle/savepoints';
import { CLUSTER_NAMES_PATCH, REDEPLOY_PLAN_PATCH, event, flushEvents } from './lifecycle/steps';
import { watch } from './lifecycle/watch';
import { WorkflowLock } from './lock';
import { PipelineModel } from './pipeline-state';

/**
 * The workflow's input, parsed once; a bad spec fails the workflow (not its task, which would retry
 * forever). Addresses instead of cluster names are read here only, for workflows started before names
 * (their histories and continued runs carry them); the activities resolve those only to a configured
 * cluster's (core/clusters.ts). Updates and signals accept names only.
 */
function parseInput(input: PipelineWorkflowInput): PipelineSpec {
  try {
    return parseSpec(input?.spec, 'addresses-too');
  } catch (err) {
    if (err instanceof SpecError) throw ApplicationFailure.nonRetryable(err.message, 'SpecError');
    throw err;
  }
}

export async function PipelineWorkflow(input: PipelineWorkflowInput): Promise<PipelineStatus> {
  const p = new PipelineModel(parseInput(input), input.carried);
  const lock = new WorkflowLock();
  /** A step under the lock; its events are written when it ends, however it ends. */
  const step = <T>(what: string, fn: () => Promise<T>) =>
    lock.run(what, async () => {
      try {
        return await fn();
      } finally {
        await flushEvents(p);
        p.publish();
      }
    });
  let wake = false;
  p.publish();

  // ------------------------------------------------------------------ messages
  setHandler(statusQuery, () => p.status());

  /** Why a redeploy request cannot run now, or null. Validators and the signal handler both ask. */
  const redeployProblem = (request: RedeployRequest, form: EndpointForm = 'names'): string | null => {
    if (p.decommission || p.state === 'DECOMMISSIONING' || p.state === 'DECOMMISSIONED') return 'the pipeline is being decommissioned; nothing can be redeployed';
    if (p.redeploying) return `a redeploy to version ${p.redeploying.toVersion} is already in progress; wait for its outcome`;
    if (p.state === 'PAUSED' || p.state === 'PAUSING') return 'the pipeline is paused; resume it before redeploying';
    const shape = requestProblem(request);
    if (shape) return shape;
    if (request.spec !== undefined) {
      let next;
      try {
        next = parseSpec(request.spec, form);
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
      return refusedChange(p.spec, next);
    }
    return null;
  };
  /** Run an accepted request (a repeated request id is a no-op returning the last outcome). */
  const runRedeploy = (request: RedeployRequest): Promise<RedeployOutcome> => {
    if (!p.firstTime(request.requestId)) {
      return Promise.resolve(p.lastRedeploy ?? { outcome: 'no-change', fromVersion: p.spec.version, toVersion: p.spec.version, jobs: [] });
    }
    // Set in the handler, not the validator: validators do not run again when history replays.
    // The validator has parsed it already (and refused it if invalid); parsed once more here, since a
    // validator's work is not handed to the handler, and only here. The validator (or the signal's
    // check) has refused addresses already; accepting them here replays histories from before names.
    const next = request.spec ? parseSpec(request.spec, 'addresses-too') : p.spec;
    p.redeploying = { toVersion: next.version };
    return step('redeploy', () => redeploy(p, request, next));
  };

  setHandler(redeployUpdate, runRedeploy, {
    validator: (request: RedeployRequest) => {
      const problem = redeployProblem(request);
      if (problem) throw new Error(problem);
    },
  });

  setHandler(redeploySignal, async (request: RedeployRequest) => {
    // A signal cannot be refused to its sender: a rejection is recorded where operators look.
    const problem = patched(REDEPLOY_PLAN_PATCH) ? redeployProblem(request, patched(CLUSTER_NAMES_PATCH) ? 'names' : 'addresses-too') : null;
    if (problem) {
      const requestId = typeof request?.requestId === 'string' ? request.requestId : null;
      p.reject(Date.now(), requestId, problem);
      const a = p.alert(Date.now(), 'redeploy-rejected', `redeploy signal${requestId ? ` ${requestId}` : ''} rejected: ${problem}`);
      p.publish();
      await lock.run('redeploy-rejected', async () => {
        await event(p, 'alert', a.message);
        await flushEvents(p);
      });
      return;
    }
    await runRedeploy(request);
  });

  setHandler(pauseUpdate, () => step('pause', () => pause(p)), {
    validator: () => {
      if (p.decommission || p.state === 'DECOMMISSIONED') throw new Error('the pipeline is being decommissioned');
      if (p.state === 'PAUSED') throw new Error('the pipeline is already paused');
    },
  });

  setHandler(resumeUpdate, () => step('resume', () => resume(p)), {
    validator: () => {
      if (p.decommission || p.state === 'DECOMMISSIONED') throw new Error('the pipeline is being decommissioned');
      if (p.state !== 'PAUSED' && p.state !== 'PAUSING') throw new Error(`the pipeline is ${p.state}, not paused`);
    },
  });

  setHandler(savepointUpdate, (request) => step('savepoint', () => savepointNow(p, request?.jobs ?? [...JOB_NAMES], 'manual')), {
    validator: (request: SavepointRequest) => {
      const problem = request === null || typeof request !== 'object' ? 'the savepoint request must be an object' : jobsProblem(request.jobs);
      if (problem) throw new Error(problem);
      if (p.state === 'PAUSED' || p.decommission) throw new Error(`no job is running (pipeline ${p.state})`);
    },
  });

  setHandler(decommissionSignal, (request) => {
    // Signals cannot be rejected; a repeated decommission keeps the first request.
    p.decommission ??= { dropSourceArtifacts: request?.dropSourceArtifacts === true, reason: request?.reason ?? null };
    wake = true;
  });

  setHandler(verificationSignal, async (summary) => {
    p.lastVerification = summary;
    // A paused or retiring pipeline is expected to fail verification (inactive slots, no probe): shown
    // in status, not raised as an alert.
    const resting = ['PAUSING', 'PAUSED', 'DECOMMISSIONING', 'DECOMMISSIONED'].includes(p.state);
    // An alert, not a repair: what to do about wrong data is the operator's call.
    const a = !summary.ok && !resting ? p.alert(summary.at, 'verification-failed', summary.summary) : null;
    p.publish();
    if (a) await event(p, 'alert', a.message);
  });

  // ------------------------------------------------------------------ lifecycle
  if (!p.deployed) await step('deploy', () => deploy(p));

  while (!p.decommission) {
    const interval = p.state === 'BLOCKED' ? durationMs(p.spec.watch.interval) * 3 : durationMs(p.spec.watch.interval);
    await condition(() => wake || p.decommission !== null, interval);
    wake = false;
    if (p.decommission) break;
    if (!p.deployed) await step('deploy', () => deploy(p));
    else if (p.state !== 'PAUSED') await step('watch', () => watch(p));

    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => allHandlersFinished() && lock.heldBy === null);
      return continueAsNew<typeof PipelineWorkflow>({ spec: p.spec, carried: p.carry() });
    }
  }

  await step('decommission', () => decommission(p));
  await condition(allHandlersFinished);
  return p.status();
}
