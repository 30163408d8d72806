/**
 * The watch step's brain, as a pure function: (spec, what we remember, what Flink says now) → what we
 * now remember, how healthy the pipeline is, and what to do. The workflow performs the actions through
 * activities; tests exercise every branch here without a cluster.
 *
 * Observe, decide, act: nothing here talks to anything. No Node built-ins (workflow sandbox).
 */
import { JobName, PipelineSpec, durationMs } from './spec';
import { FlinkJobState, JobObservation, JobRecord, Observation, PipelineState, RestorePoint, isLiveState } from './types';

type WatchAction =
  | { kind: 'cancel-duplicate'; job: JobName; jobId: string }
  | { kind: 'resubmit'; job: JobName; restore: RestorePoint | null; reason: string }
  | { kind: 'provision'; missingSlots: number }
  | { kind: 'savepoint'; job: JobName; jobId: string }
  | { kind: 'dispose'; job: JobName; path: string };

interface WatchDecision {
  records: Record<JobName, JobRecord>;
  health: { state: 'RUNNING' | 'DEGRADED'; reason: string | null };
  /**
   * Live jobs that are not (fully) running yet — restarting, waiting for slots, initialising: the
   * pipeline is RECOVERING rather than RUNNING while this is not empty (and nothing is DEGRADED).
   */
  notRunning: Array<{ job: JobName; why: string }>;
  actions: WatchAction[];
  /** Human-readable notes for the event log ("ingest: FAILED → resubmitting from checkpoint chk-12"). */
  notes: string[];
}

interface WatchMemory {
  /** Epoch ms of the last round of periodic savepoints (0: never). */
  lastPeriodicSavepointAt: number;
  /**
   * Periodic savepoints wait until no task waits for a slot, not only until every job says RUNNING:
   * after a lost TaskManager Flink reports RUNNING while tasks are SCHEDULED, and a savepoint then
   * fails. Absent (false) for workflows that decided before this rule (patch 'savepoint-waits-for-tasks').
   */
  savepointWaitsForTasks?: boolean;
  /**
   * A job left stopped outside a pause (a redeploy whose rollback failed too) makes the pipeline
   * DEGRADED, named with its restore point: never RUNNING with a job stopped (patch 'watch-stopped-jobs').
   */
  stoppedJobsDegrade?: boolean;
  /**
   * A job that read past what Fluss still has (FetchException: offset out of range) makes the pipeline
   * DEGRADED, naming the loss and the way out, until it is deployed afresh (patch 'watch-fluss-data-loss').
   */
  flussDataLossDegrades?: boolean;
}

/**
 * Fluss no longer has what a reader asked for: its log was truncated under it (a tablet server that
 * crashed with one copy lost what was not on disk, and its replica restarted from its high watermark).
 * The reader's job restores and carries on, but what was lost never reaches the tables downstream.
 */
export function isFlussDataLoss(error: string): boolean {
  return /fetching offset \d+ is out of range|LogOffsetOutOfRange|OffsetOutOfRange/i.test(error);
}

/** The newest usable restore point: recorded checkpoint or savepoints, minus those that failed before. */
export function bestRestorePoint(record: JobRecord, extra: (RestorePoint | null)[] = []): RestorePoint | null {
  const candidates = [record.lastCheckpoint, ...record.savepoints, ...extra].filter(
    (p): p is RestorePoint => p !== null && !record.badRestorePaths.includes(p.path),
  );
  candidates.sort((a, b) => b.at - a.at);
  return candidates[0] ?? null;
}

function newer(a: RestorePoint | null, b: RestorePoint | null): RestorePoint | null {
  if (!a) return b;
  if (!b) return a;
  return b.at > a.at ? b : a;
}

/** Fold one job's observation into its record: adopt the live instance, track checkpoints and restarts. */
export function foldObservation(record: JobRecord, obs: JobObservation, now: number, windowMs: number): JobRecord {
  const r: JobRecord = { ...record, savepoints: [...record.savepoints], restarts: [...record.restarts], badRestorePaths: [...record.badRestorePaths] };
  const tracked = obs.instances.find((i) => i.jobId === r.jobId);
  if (!tracked) {
    // Our instance is gone (JobManager restarted) or we never had one: adopt a live instance by name.
    const live = obs.instances.filter((i) => isLiveState(i.state));
    if (live.length) {
      const oldest = live[live.length - 1];
      r.jobId = oldest.jobId;
      r.flinkState = oldest.state;
      r.seenNumRestarts = 0;
    } else {
      r.flinkState = null;
    }
  } else {
    r.flinkState = tracked.state;
  }
  if (obs.trackedJobId && obs.trackedJobId === r.jobId) {
    r.lastCheckpoint = newer(r.lastCheckpoint, obs.latestCheckpoint);
    if (obs.numRestarts !== null && obs.numRestarts > r.seenNumRestarts) {
      for (let i = r.seenNumRestarts; i < obs.numRestarts; i++) r.restarts.push(now);
      r.seenNumRestarts = obs.numRestarts;
    }
    if (obs.rootCause) r.lastError = obs.rootCause;
    if (obs.rootCause && isFlussDataLoss(obs.rootCause) && !r.flussDataLoss) r.flussDataLoss = { at: now, error: obs.rootCause };
    // A job that failed before completing a single checkpoint after a restore: that point is bad.
    if (r.flinkState === 'FAILED' && r.restoredFrom && obs.completedCheckpoints === 0 && !r.badRestorePaths.includes(r.restoredFrom.path)) {
      r.badRestorePaths.push(r.restoredFrom.path);
    }
  }
  r.restarts = r.restarts.filter((t) => now - t <= windowMs);
  return r;
}

export function decideWatch(
  spec: PipelineSpec,
  records: Record<JobName, JobRecord>,
  obs: Observation,
  memory: WatchMemory,
): WatchDecision {
  const now = obs.observedAt;
  const windowMs = durationMs(spec.watch.restartWindow);
  const actions: WatchAction[] = [];
  const notes: string[] = [];
  const reasons: string[] = [];
  const next = { ...records };

  let slotsForResubmits = 0;
  const notRunning: WatchDecision['notRunning'] = [];
  for (const o of obs.jobs) {
    const before = records[o.job];
    const r = foldObservation(before, o, now, windowMs);
    next[o.job] = r;
    if (memory.flussDataLossDegrades && r.flussDataLoss) {
      reasons.push(
        `${o.job}: Fluss lost data it had acknowledged (${r.flussDataLoss.error.split('\n')[0]}); the sink may stay wrong for good. ` +
          `Rebuilt from the source by itself under repair.policy auto, else: gridflow repair --from source (run Fluss with three tablet servers, GRIDFLOW_FLUSS_TABLETS=3, so a crash loses nothing)`,
      );
    }

    // Never two jobs for one name: keep ours, cancel the rest.
    for (const dup of o.instances.filter((i) => isLiveState(i.state) && i.jobId !== r.jobId)) {
      actions.push({ kind: 'cancel-duplicate', job: o.job, jobId: dup.jobId });
      notes.push(`${o.job}: cancelling duplicate instance ${dup.jobId} (keeping ${r.jobId})`);
    }

    if (r.stopped) {
      if (memory.stoppedJobsDegrade) {
        reasons.push(`${o.job}: stopped and not restarted (restore point ${bestRestorePoint(r)?.path ?? 'none'}); start it with gridflow redeploy --jobs ${o.job}`);
      }
      continue;
    }
    const live = r.flinkState !== null && isLiveState(r.flinkState);
    if (!live) {
      const restore = bestRestorePoint(r);
      const why =
        r.flinkState === null
          ? `no job named ${o.flinkName} on the cluster (JobManager restarted or job removed)`
          : `job ${r.jobId} is ${r.flinkState}${r.lastError ? `: ${r.lastError}` : ''}`;
      actions.push({ kind: 'resubmit', job: o.job, restore, reason: why });
      notes.push(`${o.job}: ${why}; resubmitting ${restore ? `from ${restore.kind} ${restore.path}` : 'without state'}`);
      slotsForResubmits += spec.jobs[o.job].parallelism;
      continue;
    }
    if (r.flinkState === 'RUNNING' && (o.tasksWaiting ?? 0) > 0) {
      // RUNNING in name only: tasks wait for slots (after a lost TaskManager). Make sure they exist.
      slotsForResubmits += spec.jobs[o.job].parallelism;
      notRunning.push({ job: o.job, why: `${o.tasksWaiting} task(s) waiting for a slot` });
    } else if (r.flinkState !== 'RUNNING') {
      notRunning.push({ job: o.job, why: String(r.flinkState) });
    }
    if (r.flinkState === 'RUNNING') {
      const since = Math.max(r.lastCheckpoint?.at ?? 0, r.submittedAt ?? 0);
      const stall = durationMs(spec.watch.checkpointStallAfter);
      if (since > 0 && now - since > stall) {
        reasons.push(`${o.job}: no checkpoint completed for ${Math.round((now - since) / 1000)} s (limit ${spec.watch.checkpointStallAfter})`);
      }
    } else if (r.flinkState === 'RESTARTING' || r.flinkState === 'CREATED' || r.flinkState === 'INITIALIZING') {
      // Waiting for resources or restarting by itself: make sure the slots exist.
      slotsForResubmits += spec.jobs[o.job].parallelism;
    }
    if (r.restarts.length > spec.watch.maxRestarts) {
      reasons.push(`${o.job}: ${r.restarts.length} restarts within ${spec.watch.restartWindow} (limit ${spec.watch.maxRestarts})${r.lastError ? `; last error: ${r.lastError}` : ''}`);
    }
  }

  const missing = slotsForResubmits - obs.cluster.slotsAvailable;
  if (slotsForResubmits > 0 && missing > 0) {
    actions.unshift({ kind: 'provision', missingSlots: missing });
    notes.push(`need ${slotsForResubmits} task slots, ${obs.cluster.slotsAvailable} free: ${missing} missing`);
  }

  // Periodic savepoints, only when every job runs (a savepoint of a restarting job fails anyway).
  const every = durationMs(spec.savepoints.every);
  const allRunning =
    Object.values(next).every((r) => r.stopped || r.flinkState === 'RUNNING') && (!memory.savepointWaitsForTasks || notRunning.length === 0);
  if (every > 0 && allRunning && actions.length === 0 && now - memory.lastPeriodicSavepointAt >= every) {
    for (const r of Object.values(next)) {
      if (!r.stopped && r.jobId) actions.push({ kind: 'savepoint', job: r.job, jobId: r.jobId });
    }
  }

  return {
    records: next,
    health: reasons.length ? { state: 'DEGRADED', reason: reasons.join('; ') } : { state: 'RUNNING', reason: null },
    notRunning,
    actions,
    notes,
  };
}

/** The directory a checkpoint path lives in, per job instance: `.../checkpoints/<jobId>` of `.../<jobId>/chk-12`. */
export function checkpointJobDir(path: string): string | null {
  const m = /^(.*\/[0-9a-f]{32})\/chk-\d+\/?$/.exec(path);
  return m ? m[1] : null;
}

/**
 * The checkpoint to restore a lost job from, given the one the watch recorded and what the same
 * instance's folder holds now: the newest complete `chk-N` (its `_metadata` written) that is not older
 * than the recorded one and has not failed a restore before; the recorded path when there is none.
 *
 * Why newer than the record matters: the watch records a job's latest checkpoint once per round, and a
 * JobManager that dies while the watch is away (a dead worker, a long step) may have completed many
 * checkpoints since. Two things then go wrong with the record:
 * - Flink keeps only the newest `execution.checkpointing.num-retained` (3 on the local stack, 1 by
 *   Flink's default) and deletes older ones: the resubmit fails with FileNotFoundException, every round,
 *   and the pipeline stays DEGRADED until a person acts (measured: test/e2e/lifecycle.test.ts).
 * - On a cluster that retains more, ingest would restore from before its replication slot: the CDC source
 *   confirms a checkpoint's LSN to the slot three checkpoints later (`scan.lsn-commit.checkpoints-num-delay`),
 *   and Postgres streams from the slot's confirmed LSN whatever older LSN a restored job asks for, so the
 *   changes in between would be skipped without a word. For dws, ads and sink an older checkpoint only
 *   re-reads more of Fluss's log.
 * The newest complete checkpoint of the instance exists and is never older than the slot. A `chk-N`
 * without `_metadata` was cut short by the failure and is passed over. Pure.
 */
export function newestRetainedCheckpoint(recorded: string, folder: Array<{ name: string; complete: boolean }>, avoid: string[] = []): string {
  const m = /^(.*\/[0-9a-f]{32})\/chk-(\d+)\/?$/.exec(recorded);
  if (!m) return recorded;
  const [, dir, n] = m;
  let best = Number(n);
  for (const entry of folder) {
    const c = /^chk-(\d+)$/.exec(entry.name);
    if (!c || !entry.complete) continue;
    const id = Number(c[1]);
    if (id > best && !avoid.includes(`${dir}/chk-${id}`)) best = id;
  }
  return best === Number(n) ? recorded : `${dir}/chk-${best}`;
}

/**
 * The retained checkpoints of the instance a job restored from, once they are garbage: Flink keeps a
 * failed or cancelled job's checkpoints (RETAIN_ON_CANCELLATION) and never removes them, so every
 * resubmission would leave a directory behind. Removable only when all of these hold:
 * - the current instance restored from a checkpoint and is RUNNING with a checkpoint of its own: in
 *   Flink's default NO_CLAIM restore mode its first checkpoint is a full one and shares no file with
 *   the old directory (CLAIM mode would — then nothing is removed);
 * - no restore point still listed lives in that directory;
 * - it was not removed already. Pure; the workflow acts.
 */
export function checkpointDirToDispose(spec: PipelineSpec, record: JobRecord): string | null {
  const from = record.restoredFrom;
  const own = record.lastCheckpoint;
  if (!from || from.kind !== 'checkpoint' || !own || own.kind !== 'checkpoint') return null;
  if (record.flinkState !== 'RUNNING' || !record.jobId || own.jobId !== record.jobId) return null;
  const config = spec.jobs[record.job].config;
  const mode = config['execution.state-recovery.claim-mode'] ?? config['execution.savepoint-restore-mode'];
  if (mode !== undefined && String(mode).toUpperCase() !== 'NO_CLAIM') return null;
  const dir = checkpointJobDir(from.path);
  if (!dir || dir === checkpointJobDir(own.path) || dir.endsWith(`/${record.jobId}`)) return null;
  if (record.disposedCheckpointDir === dir) return null;
  if ([own, ...record.savepoints].some((p) => p.path.startsWith(`${dir}/`))) return null;
  return dir;
}

/** Savepoints beyond the newest `retain` of a job, except the one its current instance restored from. */
export function savepointsToDispose(record: JobRecord, retain: number): RestorePoint[] {
  const keep = new Set(record.savepoints.slice(0, retain).map((s) => s.path));
  if (record.restoredFrom) keep.add(record.restoredFrom.path);
  return record.savepoints.filter((s) => !keep.has(s.path));
}

/**
 * The state the status query shows. A watch round records what Flink says about every job first and
 * says what that means for the pipeline at its end, after its events and actions (activities); a status
 * read in between said RUNNING beside a job it had just seen CANCELLING or FAILED. RUNNING is shown only
 * while every job's last observation is RUNNING; otherwise RECOVERING, naming the jobs, as the round
 * itself says once it ends. Every other state is shown as it is.
 */
export function shownState(
  state: PipelineState,
  reason: string | null,
  jobs: ReadonlyArray<{ job: JobName; jobId: string | null; flinkState: FlinkJobState | null }>,
): { state: PipelineState; reason: string | null } {
  if (state !== 'RUNNING') return { state, reason };
  const notRunning = jobs.filter((j) => !j.jobId || j.flinkState !== 'RUNNING');
  if (!notRunning.length) return { state, reason };
  return { state: 'RECOVERING', reason: notRunning.map((j) => `${j.job}: ${j.jobId ? (j.flinkState ?? 'not observed yet') : 'not submitted'}`).join(', ') };
}

/**
 * How a watch round leaves the pipeline, from what it decided and what its actions did. null: leave
 * the state as it is (BLOCKED while the slots it asked for cannot be provided says why already).
 *  - DEGRADED: the decision's health reason, a resubmitted job that did not come up, a failed action;
 *  - RECOVERING: nothing is wrong, but live jobs are still restarting or waiting for slots;
 *  - RUNNING otherwise. A sink behind its freshness limit is said with either.
 */
export function watchState(input: {
  state: PipelineState;
  /** The round asked for task slots. */
  provisioned: boolean;
  health: WatchDecision['health'];
  notRunning: WatchDecision['notRunning'];
  /** Resubmitted jobs that did not come up. */
  failures: readonly string[];
  /** Actions that failed (a resubmit the SQL Gateway could not take). */
  actionFailures: readonly string[];
  /** The sentence of a sink behind its freshness limit, or null. */
  behind: string | null;
  /** The sentence of a sink that differs from the contract (core/repair.ts differenceSentence), or null. */
  differs?: string | null;
  /** The sentence of a source schema change ingest will fail on (core/source-schema.ts driftSentence), or null: first, since it explains the rest. */
  sourceSchema?: string | null;
}): { state: PipelineState; reason: string | null } | null {
  if (input.state === 'BLOCKED' && input.provisioned) return null;
  const problems = [input.sourceSchema, input.health.reason, ...input.failures, ...input.actionFailures, input.differs].filter((x): x is string => Boolean(x));
  if (!problems.length && input.notRunning.length) {
    return { state: 'RECOVERING', reason: [...input.notRunning.map((n) => `${n.job}: ${n.why}`), input.behind].filter(Boolean).join('; ') };
  }
  const reason = [...problems, input.behind].filter(Boolean).join('; ') || null;
  return { state: reason ? 'DEGRADED' : 'RUNNING', reason };
}
