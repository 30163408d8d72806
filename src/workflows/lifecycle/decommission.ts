/** Decommission: stop every job with a savepoint (or cancel it), drop the slots if asked, done. */
import { JOB_NAMES } from '../../core/spec';
import { failureMessage } from '../failure-message';
import type { PipelineModel } from '../pipeline-state';
import { isLive } from './deploy';
import { recordSourcePositions, stopJobs } from './savepoints';
import { act, drainRecords, event, transition } from './steps';

export async function decommission(p: PipelineModel): Promise<void> {
  const request = p.decommission!;
  await transition(p, 'DECOMMISSIONING', request.reason);
  try {
    const points = await stopJobs(p, [...JOB_NAMES]);
    if (!request.dropSourceArtifacts) await recordSourcePositions(p, points.ingest);
  } catch (err) {
    // A job that cannot take a savepoint is cancelled: decommissioning must finish.
    await event(p, 'error', `stop with savepoint failed (${failureMessage(err)}); cancelling`);
    for (const job of JOB_NAMES) {
      const r = p.records[job];
      if (r.jobId && isLive(r)) await act.cancelJob({ spec: p.spec, jobId: r.jobId });
      p.records[job] = { ...p.records[job], stopped: true };
    }
  }
  if (request.dropSourceArtifacts) {
    for (const note of await act.dropSourceArtifacts(p.spec)) await event(p, 'decommission', note);
  }
  // The stop savepoints are what a later deploy resumes from: a sink that is down is waited for (only
  // when a record is pending, so histories without one replay as they were).
  if (p.pendingRecords.length && !(await drainRecords(p, 30 * 60_000))) {
    await event(p, 'error', `${p.pendingRecords.length} savepoint record(s) never reached the sink in 30 min: a later deploy starts fresh instead of resuming`);
  }
  await transition(p, 'DECOMMISSIONED', request.reason);
}
