/** Pause (stop every job with a savepoint) and resume (start every job from it). */
import { jobOrder, slotsNeeded } from '../../core/plan';
import { JOB_NAMES, JobName } from '../../core/spec';
import type { PipelineStatus } from '../../core/state';
import { bestRestorePoint } from '../../core/watch';
import type { PipelineModel } from '../pipeline-state';
import { awaitRunning, ensureSlots, submit } from './deploy';
import { recordSourcePositions, stopJobs } from './savepoints';
import { transition } from '../events';

export async function pause(p: PipelineModel): Promise<PipelineStatus> {
  await transition(p, 'PAUSING');
  const points = await stopJobs(p, [...JOB_NAMES]);
  await recordSourcePositions(p, points.ingest);
  await transition(p, 'PAUSED');
  return p.status();
}

export async function resume(p: PipelineModel): Promise<PipelineStatus> {
  await transition(p, 'RESUMING');
  const slots = slotsNeeded(p.spec);
  if (!(await ensureSlots(p, slots))) return p.status();
  const started: Array<[JobName, string]> = [];
  for (const job of jobOrder() as JobName[]) started.push([job, await submit(p, p.spec, job, bestRestorePoint(p.s.records[job]))]);
  const failures = await awaitRunning(p, p.spec, started);
  await transition(p, failures.length ? 'DEGRADED' : 'RUNNING', failures.join('; ') || null);
  return p.status();
}
