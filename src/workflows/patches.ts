/**
 * The ledger of workflow patches: every change to recorded behaviour, why it was made, since when, and
 * when it can go. Workflow code asks only through `patch()` (the branch still depends on the history)
 * and `retired()` (the new behaviour always; the marker is recorded as deprecated). No bare patched()
 * or deprecatePatch() elsewhere: test/unit/house/patches.test.ts holds the code to this ledger and
 * fails once a patch outlives its `removeAfter`.
 *
 * A patch's life:
 *  1. `patched` — new runs take the new branch; histories recorded before `since` replay the old one.
 *  2. `deprecated` — once no open run started before `since` (each pipeline run continues as new
 *     within hours: Temporal suggests it at a few thousand events; check with
 *     `temporal workflow list --query "ExecutionStatus='Running' AND StartTime < '<since>'"`): the old
 *     branch is deleted, `deprecatePatch` keeps replaying histories that carry the marker, and the
 *     replay tests drop the histories recorded before it.
 *  3. removed — after `removeAfter`, when every open run started after the deprecation shipped (their
 *     markers are recorded as deprecated, which a replay may skip): the call and the entry go.
 *
 * Why patches and not Worker Versioning: one worker fleet per Temporal namespace, runs that continue
 * as new every few hours, and a single pipeline workflow type; pinning runs to build ids would need
 * the server's versioning rules and a deployment story for the worker that this project does not have.
 */
import { deprecatePatch, patched } from '@temporalio/workflow';

interface PatchEntry {
  id: string;
  why: string;
  /** The date the patch shipped (runs started before may lack its marker). */
  since: string;
  phase: 'patched' | 'deprecated';
  /** The date after which the code must move it on (deprecate, or remove): the ledger test fails after it. */
  removeAfter: string;
}

const entry = (id: string, since: string, phase: PatchEntry['phase'], removeAfter: string, why: string): PatchEntry => ({ id, why, since, phase, removeAfter });

/** Deprecated on 2026-12-07 (issue 21): no open run predates them; removable once the runs started before that date have ended. */
const RETIRED_ON = '2027-01-15';

export const PATCHES = {
  freshStart: entry('fresh-start-on-new-slots', '2026-11-26', 'deprecated', RETIRED_ON, 'rebuild the outputs from the snapshot when new replication slots void every restore point'),
  resume: entry('resume-recorded-savepoints', '2026-11-26', 'deprecated', RETIRED_ON, 'a new workflow resumes from the savepoints an earlier one recorded'),
  disposeCheckpoints: entry('dispose-old-checkpoints', '2026-11-26', 'deprecated', RETIRED_ON, 'remove the retained checkpoints a restored job no longer needs'),
  recovering: entry('watch-recovering-state', '2026-11-26', 'deprecated', RETIRED_ON, 'RECOVERING while the watch resubmits jobs or adds slots'),
  watchRecheck: entry('watch-rechecks-pause', '2026-11-26', 'deprecated', RETIRED_ON, 'the watch re-checks, under the lock, that the pipeline is not paused'),
  freshness: entry('watch-freshness', '2026-12-01', 'deprecated', RETIRED_ON, 'the watch sends a freshness probe each round and says when the sink falls behind'),
  batchedEvents: entry('batched-events', '2026-12-01', 'deprecated', RETIRED_ON, "a step's events recorded in one activity"),
  savepointWaits: entry('savepoint-waits-for-tasks', '2026-12-01', 'deprecated', RETIRED_ON, 'periodic savepoints wait until no task waits for a slot'),
  ownership: entry('claim-ownership', '2026-12-01', 'deprecated', RETIRED_ON, 'the ownership claim before a deploy touches anything'),
  redeployPlan: entry('redeploy-plan', '2026-12-01', 'deprecated', RETIRED_ON, 'a redeploy recorded as a plan, rolled back on any failure after its first stop'),
  stoppedJobs: entry('watch-stopped-jobs', '2026-12-01', 'deprecated', RETIRED_ON, 'the watch says DEGRADED for a job left stopped outside a pause'),
  durableRecords: entry('durable-records', '2026-12-01', 'deprecated', RETIRED_ON, 'events and savepoint records the sink could not take are kept, not dropped'),
  actionFailures: entry('watch-action-failures', '2026-12-01', 'deprecated', RETIRED_ON, "the watch says DEGRADED when one of its actions failed, naming it; a few quick tries"),
  clusterNames: entry('cluster-names', '2026-12-01', 'deprecated', RETIRED_ON, 'a redeploy signal is refused when its spec names addresses instead of clusters'),
  flussDataLoss: entry('watch-fluss-data-loss', '2026-12-07', 'patched', '2027-02-15', 'a job that read past what Fluss still has makes the pipeline DEGRADED, naming the loss (issue 20)'),
  repair: entry('sink-difference-repair', '2026-12-07', 'patched', '2027-02-15', 'a verification that finds the sink different makes the pipeline DEGRADED and starts a repair by repair.policy (issue 22)'),
  verifyCut: entry('verify-at-a-cut', '2026-12-07', 'patched', '2027-02-15', 'verification compares the sink at a cut of the source: keys whose inputs held still, and stale ones (issue 22)'),
  blueGreen: entry('blue-green-redeploy', '2026-12-07', 'patched', '2027-02-15', 'a redeploy may run the new version beside the live one and switch readers once it is proven equal (issue 23)'),
  sourceSchema: entry('watch-source-schema', '2026-12-07', 'patched', '2027-02-15', 'the watch compares the source columns with what ingest reads and says DEGRADED naming a change it will fail on (issue 23)'),
  verifyBottleneck: entry('verify-names-bottleneck', '2026-12-01', 'deprecated', RETIRED_ON, 'verification names the saturated operator when the probe is late'),
} as const;

/** The branch a patched change takes in this run (true: the new behaviour). */
export function patch(p: PatchEntry): boolean {
  if (p.phase !== 'patched') throw new Error(`patch ${p.id} is ${p.phase}: use retired()`);
  return patched(p.id);
}

/** A deprecated patch: the new behaviour always; called where patch() was, so the marker lands where histories have it. */
export function retired(p: PatchEntry): void {
  if (p.phase !== 'deprecated') throw new Error(`patch ${p.id} is ${p.phase}: use patch()`);
  deprecatePatch(p.id);
}
