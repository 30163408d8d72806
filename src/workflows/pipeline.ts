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
 *   verification (signal) a verification that finds the sink different: DEGRADED, and by repair.policy
 *              a repair (also an update and a signal, `gridflow repair`): the sink rebuilt beside the
 *              tables readers use, switched once proven equal (lifecycle/repair.ts)
 *
 * Handlers that move jobs and the watch step are serialised by one FIFO lock. Continue-as-new when
 * Temporal suggests it, after every handler has finished. Workflow code decides only; every side
 * effect is an activity (src/activities/index.ts).
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { PipelineSpec, SpecError, durationMs, parseSpec } from '../core/spec';
import type { PipelineStatus, PipelineWorkflowInput } from '../core/state';
import {
  decommissionSignal,
  pauseUpdate,
  redeploySignal,
  redeployUpdate,
  repairSignal,
  repairUpdate,
  rollbackUpdate,
  resumeUpdate,
  savepointUpdate,
  statusQuery,
  verificationSignal,
} from './definitions';
import { PipelineHandlers } from './handlers';
import { decommission } from './lifecycle/decommission';
import { deploy } from './lifecycle/deploy';
import { releaseParked } from './lifecycle/bluegreen';
import { releaseDue } from '../core/bluegreen';
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
  const h = new PipelineHandlers(p, new WorkflowLock());
  p.publish();

  setHandler(statusQuery, h.status);
  setHandler(redeployUpdate, h.redeploy, { validator: h.validateRedeploy });
  setHandler(redeploySignal, h.redeploySignal);
  setHandler(pauseUpdate, h.pause, { validator: h.validatePause });
  setHandler(resumeUpdate, h.resume, { validator: h.validateResume });
  setHandler(savepointUpdate, h.savepoint, { validator: h.validateSavepoint });
  setHandler(decommissionSignal, h.decommission);
  setHandler(verificationSignal, h.verification);
  setHandler(repairUpdate, h.repair, { validator: h.validateRepair });
  setHandler(repairSignal, h.repairSignal);
  setHandler(rollbackUpdate, h.rollback, { validator: h.validateRollback });

  // ------------------------------------------------------------------ lifecycle
  if (!p.s.deployed) await h.step('deploy', () => deploy(p));

  while (!p.decommission) {
    const interval = p.s.state === 'BLOCKED' ? durationMs(p.spec.watch.interval) * 3 : durationMs(p.spec.watch.interval);
    await condition(() => h.wake || p.decommission !== null, interval);
    h.wake = false;
    if (p.decommission) break;
    if (!p.s.deployed) await h.step('deploy', () => deploy(p));
    else if (p.s.state !== 'PAUSED') await h.step('watch', () => watch(p));
    // The version a blue/green switch left, once its rollback window is over.
    if (releaseDue(p.s.parked, Date.now())) await h.step('release', () => releaseParked(p));

    if (workflowInfo().continueAsNewSuggested) {
      await condition(() => allHandlersFinished() && h.idle());
      return continueAsNew<typeof PipelineWorkflow>({ spec: p.spec, carried: p.carry() });
    }
  }

  await h.step('decommission', () => decommission(p));
  await condition(allHandlersFinished);
  return p.status();
}
