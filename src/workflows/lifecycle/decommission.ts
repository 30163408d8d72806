/**
 * Decommission: the plan is src/core/decommission.ts `planDecommission`; this file says what performs
 * each step. Stop every job with a savepoint (or cancel it), keep or drop the slots, done.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { planDecommission } from '../../core/decommission';
import { Plan } from '../../core/plans';
import { JOB_NAMES, JobName } from '../../core/spec';
import { RestorePoint, isLive } from '../../core/types';
import { drainRecords, event, transition } from '../events';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { Performers, runPlan } from '../plan-runner';
import { act } from '../proxies';
import { recordSourcePositions, stopJobs } from './savepoints';
import { releaseParked } from './bluegreen';

export async function decommission(p: PipelineModel): Promise<void> {
  const request = p.decommission!;
  await transition(p, 'DECOMMISSIONING', request.reason);
  p.s.plan = planDecommission(p.spec, request);
  let points: Partial<Record<JobName, RestorePoint>> = {};

  const perform: Performers = {
    'stop-all': async () => {
      try {
        points = await stopJobs(p, [...JOB_NAMES]);
        return { note: `stopped with savepoints: ${Object.keys(points).join(', ') || 'none was running'}` };
      } catch (err) {
        // A job that cannot take a savepoint is cancelled: decommissioning must finish.
        await event(p, 'error', `stop with savepoint failed (${failureMessage(err)}); cancelling`);
        for (const job of JOB_NAMES) {
          const r = p.s.records[job];
          if (r.jobId && isLive(r)) await act.cancelJob({ spec: p.spec, jobId: r.jobId });
          p.s.records[job] = { ...p.s.records[job], stopped: true };
        }
        points = {};
        return { note: `a savepoint failed (${failureMessage(err)}); every job cancelled` };
      }
    },
    'source-positions': async () => {
      if (request.dropSourceArtifacts) return { skip: true, note: 'the slots are dropped' };
      if (!points.ingest) return { skip: true, note: 'ingest was not stopped with a savepoint: a later deploy starts fresh' };
      await recordSourcePositions(p, points.ingest);
      return {};
    },
    'drop-source': async () => {
      // The version a blue/green switch left cannot be gone back to once the pipeline is gone.
      if (p.s.parked) await releaseParked(p);
      if (!request.dropSourceArtifacts) return { skip: true, note: 'kept' };
      for (const note of await act.dropSourceArtifacts(p.spec)) await event(p, 'decommission', note);
      return {};
    },
    'drain-records': async () => {
      // The stop savepoints are what a later deploy resumes from: a sink that is down is waited for.
      if (!p.s.pendingRecords.length) return { skip: true, note: 'nothing waits for the sink' };
      if (!(await drainRecords(p, 30 * 60_000))) {
        const note = `${p.s.pendingRecords.length} savepoint record(s) never reached the sink in 30 min: a later deploy starts fresh instead of resuming`;
        await event(p, 'error', note);
        return { note };
      }
      return {};
    },
  };
  const run = await runPlan<Plan>({ get: () => p.s.plan!, set: (plan) => (p.s.plan = plan) }, perform);
  // A step that failed after its retries (dropping the slots) ends the workflow failed, naming it, as
  // before plans: DECOMMISSIONED would claim slots were dropped that were not.
  if (run.failure) throw ApplicationFailure.nonRetryable(`decommission failed: ${run.failure}`, 'DecommissionFailed');
  await transition(p, 'DECOMMISSIONED', request.reason);
}
