/**
 * Resuming a pipeline from savepoints an earlier workflow recorded (pure; the activity gathers the facts).
 *
 * A new PipelineWorkflow for a pipeline whose jobs are all stopped — after `decommission` without
 * dropping the replication slots, or after a workflow was terminated and its jobs stopped — knows no
 * restore point of its own. gridflow.savepoints does. Using one is only safe when nothing moved since:
 *
 * - ingest must start exactly where its replication slots stand. Postgres streams from a slot's
 *   confirmed_flush_lsn whatever older LSN a restored job asks for, so an ingest savepoint older than the
 *   slot silently skips the changes in between. Hence only a stop-with-savepoint qualifies (no checkpoint
 *   can follow it), with the slot positions read once that job had stopped, and every slot must still be
 *   at that position and not in use.
 * - dws, ads and sink read Fluss, which keeps its log: any recorded savepoint of the same SQL re-reads
 *   from its own offsets and converges (upserts and deletes replay in order).
 * - every job's SQL fingerprint must equal the one to deploy (changed SQL is a redeploy, which needs the
 *   running pipeline), the savepoints must still exist, and the Fluss tables must still be there.
 *
 * Anything else means a fresh start (outputs rebuilt from the source snapshot), with the reason said.
 */
import { JOB_NAMES, JobName } from './spec';
import { RestorePoint } from './types';

/** A gridflow.savepoints row, as the activity read it (the newest per job). */
export interface RecordedSavepoint {
  path: string;
  kind: string;
  /** ISO instant. */
  takenAt: string;
  jobId: string | null;
  fingerprint: string | null;
  sourcePositions: Record<string, string> | null;
}

interface SlotPosition {
  name: string;
  active: boolean;
  confirmedFlushLsn: string | null;
}

export interface ResumeFacts {
  /** The fingerprints of the jobs about to be deployed. */
  fingerprints: Record<JobName, string>;
  /** The newest recorded savepoint per job (null: none). */
  newest: Record<JobName, RecordedSavepoint | null>;
  /** The pipeline's replication slots now (one per captured table; absent ones are missing). */
  slots: SlotPosition[];
  /** Slot names the pipeline uses. */
  slotNames: string[];
  /** Fluss tables the DDL creates that do not exist now. */
  missingFlussTables: string[];
  /** Savepoint path → whether its metadata exists (null: cannot be checked from here). */
  savepointExists: Record<string, boolean | null>;
  /** The spec version to deploy (the points are tagged with it: their SQL is identical). */
  version: number;
}

export type ResumeDecision =
  | { resume: true; points: Record<JobName, RestorePoint>; summary: string }
  | { resume: false; reason: string };

/** Normalise an LSN ("0/16b3748" and "0/16B3748" are the same position). */
const lsn = (s: string) => s.trim().toUpperCase();

export function judgeResume(f: ResumeFacts): ResumeDecision {
  const problems: string[] = [];
  for (const job of JOB_NAMES) {
    const sp = f.newest[job];
    if (!sp) {
      problems.push(`${job} has no recorded savepoint`);
      continue;
    }
    if (sp.fingerprint === null) problems.push(`${job}'s newest savepoint has no recorded SQL fingerprint`);
    else if (sp.fingerprint !== f.fingerprints[job]) problems.push(`${job}'s SQL changed since its newest savepoint ${sp.path}`);
    if (f.savepointExists[sp.path] === false) problems.push(`${job}'s savepoint ${sp.path} no longer exists`);
  }
  const ingest = f.newest.ingest;
  if (ingest) {
    if (ingest.kind !== 'stop-with-savepoint') {
      problems.push(`ingest's newest savepoint is a ${ingest.kind}, not a stop-with-savepoint (its job may have run on after it)`);
    } else if (!ingest.sourcePositions) {
      problems.push('the replication slot positions at the ingest stop were not recorded');
    } else {
      for (const name of f.slotNames) {
        const slot = f.slots.find((s) => s.name === name);
        const recorded = ingest.sourcePositions[name];
        if (!slot) problems.push(`replication slot ${name} is missing`);
        else if (recorded === undefined) problems.push(`no position was recorded for replication slot ${name}`);
        else if (slot.active) problems.push(`replication slot ${name} is in use by another consumer`);
        else if (slot.confirmedFlushLsn === null || lsn(slot.confirmedFlushLsn) !== lsn(recorded)) {
          problems.push(`replication slot ${name} moved since the ingest stop (${recorded} then, ${slot.confirmedFlushLsn ?? 'none'} now)`);
        }
      }
    }
  }
  if (f.missingFlussTables.length) problems.push(`Fluss table(s) ${f.missingFlussTables.join(', ')} are gone`);
  if (problems.length) return { resume: false, reason: problems.join('; ') };

  const points = Object.fromEntries(
    JOB_NAMES.map((job) => {
      const sp = f.newest[job]!;
      const point: RestorePoint = {
        kind: 'savepoint',
        path: sp.path,
        at: Date.parse(sp.takenAt),
        jobId: sp.jobId ?? '',
        ...(sp.kind === 'stop-with-savepoint' ? { reason: 'stop' as const } : {}),
        version: f.version,
      };
      return [job, point];
    }),
  ) as Record<JobName, RestorePoint>;
  const summary = JOB_NAMES.map((job) => `${job} from ${points[job].path}`).join(', ');
  return { resume: true, points, summary };
}
