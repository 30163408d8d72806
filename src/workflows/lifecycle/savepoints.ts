/** Savepoints: periodic and on request, and stop-with-savepoint (pause, redeploy, decommission). */
import { stopOrder } from '../../core/plan';
import { JobName } from '../../core/spec';
import { RestorePoint, isLive } from '../../core/types';
import { savepointsToDispose } from '../../core/watch';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { event, keepSavepointRecord } from '../events';
import { PATCHES, retired } from '../patches';
import { act, actSay, triggerId } from '../proxies';

/** Savepoints of running jobs now; retention disposes the oldest beyond spec.savepoints.retain. */
export async function savepointNow(p: PipelineModel, jobs: JobName[], reason: 'periodic' | 'manual'): Promise<RestorePoint[]> {
  const taken: RestorePoint[] = [];
  for (const job of jobs) {
    const r = p.s.records[job];
    if (!r.jobId || r.stopped || r.flinkState !== 'RUNNING') continue;
    try {
      const point = await actSay('triggerSavepoint', `${reason} savepoint of ${job}`, { spec: p.spec, job, jobId: r.jobId, triggerId: triggerId(), reason });
      p.addSavepoint(job, point);
      taken.push(point);
      await keepSavepointRecord(p, { spec: p.spec, job, point, fingerprint: r.fingerprint });
      for (const old of savepointsToDispose(p.s.records[job], p.spec.savepoints.retain)) {
        await act.disposeSavepoint({ spec: p.spec, path: old.path });
        p.s.records[job] = { ...p.s.records[job], savepoints: p.s.records[job].savepoints.filter((s) => s.path !== old.path) };
      }
    } catch (err) {
      await event(p, 'error', `savepoint of ${job} failed: ${failureMessage(err)}`);
    }
  }
  if (taken.length) await event(p, 'savepoint', `${reason} savepoint(s): ${taken.map((t) => t.path).join(', ')}`);
  return taken;
}

/** Stop jobs with savepoints, downstream first. Returns the savepoint of each job stopped. */
export async function stopJobs(p: PipelineModel, jobs: JobName[]): Promise<Partial<Record<JobName, RestorePoint>>> {
  const points: Partial<Record<JobName, RestorePoint>> = {};
  for (const job of stopOrder(jobs)) {
    const r = p.s.records[job];
    if (!isLive(r)) {
      p.s.records[job] = { ...r, stopped: true };
      continue;
    }
    const point = await actSay('stopJobWithSavepoint', `stop ${job} (${r.jobId}) with a savepoint`, { spec: p.spec, job, jobId: r.jobId!, triggerId: triggerId() });
    p.addSavepoint(job, point);
    p.s.records[job] = { ...p.s.records[job], stopped: true, flinkState: 'FINISHED' };
    points[job] = point;
    await keepSavepointRecord(p, { spec: p.spec, job, point, fingerprint: r.fingerprint });
  }
  return points;
}

/**
 * After the ingest job stopped with a savepoint (pause, decommission): record where the replication
 * slots stand with it, so a later workflow can resume from these savepoints (src/core/resume.ts).
 * Failing here loses nothing now; a later workflow would start fresh instead of resuming.
 */
export async function recordSourcePositions(p: PipelineModel, point: RestorePoint | undefined): Promise<void> {
  if (!point) return;
  retired(PATCHES.resume);
  try {
    const sourcePositions = await act.sourcePositions(p.spec);
    await keepSavepointRecord(p, { spec: p.spec, job: 'ingest', point, fingerprint: p.s.records.ingest.fingerprint, sourcePositions });
  } catch (err) {
    await event(p, 'error', `replication slot positions not recorded (${failureMessage(err)}): a new workflow would start fresh rather than resume`);
  }
}
