/**
 * When the local stack's supervisor restarts a component that exited, and when it stops trying: the
 * backoff doubles from `initialBackoffMs` to `maxBackoffMs`; more than `maxRestarts` exits within
 * `windowMs` means the component keeps dying, and it is reported (with its log) instead of restarted
 * forever. Pure: the supervisor (src/stack/supervisor.ts) feeds it exits and the clock.
 */

interface RestartPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Exits within the window before giving up. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialBackoffMs: 1000, maxBackoffMs: 30_000, maxRestarts: 5, windowMs: 10 * 60_000 };

/** What the supervisor remembers of one component (run/supervisor.json). */
export interface SupervisedRecord {
  /** Restarts that brought it back (kept in run/supervisor.json across supervisors; `stack down --purge` clears it). */
  restarts: number;
  /** Exits seen within the policy's window (ms since epoch). */
  recentExits: number[];
  lastExitAt?: number;
  lastRestartAt?: number;
  /** A restart is due at this time (set when an exit is seen). */
  restartDueAt?: number;
  /** Set when it keeps dying: no more restarts until `stack up`. */
  gaveUp?: { at: number; reason: string };
}

export const emptyRecord = (): SupervisedRecord => ({ restarts: 0, recentExits: [] });

type ExitDecision = { action: 'restart'; at: number; delayMs: number } | { action: 'give-up'; reason: string };

/** An exit was seen at `now`: restart after a backoff, or give up. Returns the decision and the record after it. */
export function onExit(record: SupervisedRecord, now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): { decision: ExitDecision; record: SupervisedRecord } {
  const recentExits = [...record.recentExits.filter((t) => now - t < policy.windowMs), now];
  if (recentExits.length > policy.maxRestarts) {
    const reason = `exited ${recentExits.length} times within ${Math.round(policy.windowMs / 60_000)} min; not restarted again (run \`gridflow stack up\` after fixing the cause)`;
    return { decision: { action: 'give-up', reason }, record: { ...record, recentExits, lastExitAt: now, restartDueAt: undefined, gaveUp: { at: now, reason } } };
  }
  const delayMs = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (recentExits.length - 1));
  return { decision: { action: 'restart', at: now + delayMs, delayMs }, record: { ...record, recentExits, lastExitAt: now, restartDueAt: now + delayMs } };
}

/** The record after a restart that brought the component back. */
export function onRestarted(record: SupervisedRecord, now: number): SupervisedRecord {
  return { ...record, restarts: record.restarts + 1, lastRestartAt: now, restartDueAt: undefined };
}

/** What `stack status` says about supervision of one component ("2 restarts, last 3 min ago", "gave up: …"). */
export function describeSupervision(record: SupervisedRecord | undefined, now: number): string {
  if (!record) return '';
  if (record.gaveUp) return `gave up: ${record.gaveUp.reason}`;
  if (record.restartDueAt !== undefined) return `exited; restart in ${Math.max(0, Math.round((record.restartDueAt - now) / 1000))} s`;
  if (!record.restarts) return '';
  const ago = Math.round((now - (record.lastRestartAt ?? now)) / 1000);
  return `${record.restarts} restart${record.restarts === 1 ? '' : 's'}, last ${ago < 120 ? `${ago} s` : `${Math.round(ago / 60)} min`} ago`;
}
