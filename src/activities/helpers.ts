/** What the activities share: heartbeats, savepoint completion, Flink paths on this machine's disk. */
import { Context } from '@temporalio/activity';
import { FlinkApiError } from '../flink/errors';
import { FlinkRestClient } from '../flink/rest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActivityDeps } from './context';
import { nonRetryable } from './classify';
import { checkpointJobDir, newestRetainedCheckpoint } from '../core/watch';

export const heartbeat = (details?: unknown) => {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* called outside an activity (plain use, tests) */
  }
};

/** How often a running act activity tells Temporal it is alive (its heartbeat timeout is 1 minute). */
const KEEPALIVE_MS = 10_000;

/**
 * Run `fn` heartbeating every `everyMs` until it settles: an attempt that is still running (a slow
 * prepareSource, a DDL statement, a submission waiting on the gateway) is never declared lost and retried
 * beside itself; an attempt whose worker died stops heartbeating and is retried after the timeout.
 */
export async function whileHeartbeating<T>(what: string, fn: () => Promise<T>, everyMs = KEEPALIVE_MS): Promise<T> {
  const started = Date.now();
  heartbeat({ what, runningMs: 0 });
  const timer = setInterval(() => heartbeat({ what, runningMs: Date.now() - started }), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Every function of `activities` wrapped by whileHeartbeating, under its own name. */
export function heartbeating<A extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: A, everyMs = KEEPALIVE_MS): A {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = (...args: never[]) => whileHeartbeating(name, () => fn(...args), everyMs);
  }
  return out as A;
}

export async function waitForSavepoint(rest: FlinkRestClient, jobId: string, triggerId: string, deps: ActivityDeps, what: string): Promise<string> {
  for (;;) {
    heartbeat({ jobId, triggerId, what });
    let status;
    try {
      status = await rest.savepointStatus(jobId, triggerId);
    } catch (err) {
      if (err instanceof FlinkApiError && err.notFound) {
        // The result expired (5 min) or the JobManager restarted: the savepoint, if taken, is in
        // the job's checkpoint statistics; never POST again (that would start a second one).
        const stats = await rest.checkpoints(jobId).catch(() => null);
        const sp = stats?.latest.savepoint;
        if (sp) return sp.externalPath;
        throw nonRetryable('SavepointLost', `${what}: Flink no longer knows trigger ${triggerId} of job ${jobId} and shows no savepoint`);
      }
      throw err;
    }
    if (status.state === 'COMPLETED') return status.location;
    if (status.state === 'FAILED') {
      throw nonRetryable(status.jobNotFound ? 'JobNotFound' : 'SavepointFailed', `${what} failed: ${status.failureCause}`);
    }
    await deps.sleep(1000);
  }
}

/** A Flink path on this machine's disk (file:/a/b, file:///a/b or /a/b), without trailing slashes; null for other file systems. */
export function localPath(path: string): string | null {
  // Flink writes file:/a/b as well as file:///a/b.
  const local = path.startsWith('file:') ? fileURLToPath(path.replace(/^file:\/*/, 'file:///')) : path;
  return local.startsWith('/') ? local.replace(/\/+$/, '') : null;
}

/**
 * Whether a savepoint's metadata is on this machine's disk: true/false for file: paths and plain paths,
 * null for other file systems (s3://, hdfs://), which the worker cannot check.
 */
export function savepointOnDisk(path: string): boolean | null {
  const dir = localPath(path);
  return dir === null ? null : existsSync(`${dir}/_metadata`);
}


/**
 * The checkpoint a lost job should restore from: `recorded`, or a newer complete one of the same
 * instance on this machine's disk (core/watch.ts newestRetainedCheckpoint says why). Savepoints, other
 * file systems and unreadable folders keep `recorded`.
 */
export function newerRetainedCheckpoint(recorded: string, avoid: string[]): string {
  const dir = checkpointJobDir(recorded);
  const local = dir === null ? null : localPath(dir);
  if (local === null) return recorded;
  let names: string[];
  try {
    names = readdirSync(local);
  } catch {
    return recorded;
  }
  return newestRetainedCheckpoint(
    recorded,
    names.map((name) => ({ name, complete: existsSync(`${local}/${name}/_metadata`) })),
    avoid,
  );
}
