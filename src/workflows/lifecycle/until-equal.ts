/**
 * Compare a sink schema with the contract at a consistent cut until it is equal, or a deadline: what a
 * repair's shadow and a blue/green version must pass before readers get them (lifecycle/repair.ts,
 * lifecycle/bluegreen.ts). Workflow code: each comparison is an activity.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { PipelineActivities } from '../../activities';
import { PipelineSpec, durationMs } from '../../core/spec';
import { CutAttempt, describeTable, findingCount } from '../../core/verify';
import { failureMessage } from '../failure-message';

/** The tables that differ, each as verification describes it (counts and an example). */
const differing = (r: CutAttempt) => r.tables.filter((t) => !t.ok).map(describeTable).join(' ');

/** The comparison reads both databases in one snapshot each (statement timeout 120 s), like verification's. */
const compare = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/** A shadow that has caught up and differs identically this many attempts in a row: what it read differs. */
const SETTLED_ATTEMPTS = 3;

class NotEqual extends Error {}

/** Between two comparisons while waiting for a table to become equal. */
const COMPARE_EVERY_MS = 3_000;

/**
 * Compare `spec`'s sink schema with the contract at a cut until it is equal, or the deadline. Equal as
 * verification judges it: an attempt that finds nothing, or one whose findings (all of them tracked)
 * are all gone in the next attempt — under load a key the sink is still catching up on differs in one
 * attempt and not in the next, a real difference (a row the shadow has not got yet) stays.
 */
export async function untilEqual(
  spec: PipelineSpec,
  deadline: number,
  what: string,
  /** For a shadow: has it caught up with what it reads? Then findings that persist are in what it read. */
  caughtUp?: () => Promise<boolean>,
  /** The limit as the operator set it, for the message. */
  timeoutText: string = spec.repair.timeout,
  /** What it caught up with, and what a difference that persists after that means. */
  settled: { with: string; meaning: string } = { with: 'Fluss', meaning: 'Fluss itself holds the difference' },
): Promise<{ attempts: number; last: CutAttempt | null }> {
  let last: CutAttempt | null = null;
  let track: string[] | null = null;
  let caught = false;
  let persistedSinceCaughtUp = 0;
  for (let attempts = 1; ; attempts++) {
    try {
      last = await compare.compareSink({ spec, track, maxFreshnessMs: durationMs(spec.watch.maxFreshness) });
      if (findingCount(last.tables) === 0) return { attempts, last };
      if (caughtUp && !caught) caught = await caughtUp();
      persistedSinceCaughtUp = caught && track !== null ? persistedSinceCaughtUp + 1 : 0;
      if (persistedSinceCaughtUp >= SETTLED_ATTEMPTS) {
        throw new NotEqual(`${what} has caught up with ${settled.with} and still differs from the contract in the same rows: ${differing(last)} — ${settled.meaning}`);
      }
      // Tracked from here: only when the track holds every finding, else start over untracked.
      track = track === null && last.track.length < last.cells ? null : last.track;
    } catch (err) {
      if (err instanceof NotEqual) throw err;
      last = null;
      track = null;
      if (Date.now() >= deadline) throw new Error(`${what}: ${failureMessage(err)}`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not equal to the contract within ${timeoutText}${last ? `: ${differing(last)}` : ''}`);
    }
    await sleep(COMPARE_EVERY_MS);
  }
}
