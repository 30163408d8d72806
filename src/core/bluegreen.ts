/**
 * A blue/green change as data: a new version of the whole warehouse runs beside the live one, proves
 * itself, and only then do readers get it. The names of each version are src/core/versions.ts's.
 *
 *   claim-version   the new version's slots, publications, Fluss database and version schema, for this pipeline
 *   prepare-source  its own replication slots and publications: a snapshot of its own, read while the old
 *                   version goes on reading its slots (the source's state is read twice, never shared)
 *   version-tables  `<schema>_v<n>`: the six tables like the live ones (keys, trigger, grants), empty,
 *                   and its own probe_hops
 *   tables          its Fluss tables, in `<fluss.database>_v<n>`
 *   slots           task slots for it beside the old version
 *   submit          ingest, dws, ads, sink without state (upstream first); the sink fills `<schema>_v<n>`
 *   await           all RUNNING within watch.readinessTimeout
 *   catch-up        a probe sent through the source comes out of its sink (within redeploy.timeout)
 *   verify          `<schema>_v<n>` equals the contract at a consistent cut (within redeploy.timeout)
 *   switch          ONE transaction: the live tables → the old version's schema, the new ones → `<schema>`.
 *                   Neither sink job stops: each writes its own tables by name through its search path.
 *   stop-old        the old version's jobs stop with savepoints; its slots, Fluss database and tables
 *                   are kept for redeploy.rollbackWindow (gridflow rollback), then released
 * Compensations (a step before the switch failed, or the new version is not equal): cancel-new, drop-new
 * (its slots, publications, Fluss database, version schema, and their claims). The old version never
 * stopped: readers kept reading it the whole time.
 *
 * A rollback within the window is the same plan in the other direction, with the parked version's jobs
 * started from the savepoints they stopped with (their slots kept every change since) instead of a new
 * snapshot. Pure; no Node built-ins (workflow sandbox).
 */
import { slotsNeeded, jobOrder } from './plan';
import { Plan, StepDraft, numbered } from './plans';
import { JOB_NAMES, JobName, PipelineSpec, durationMs } from './spec';
import type { RestorePoint } from './types';
import { flussDatabaseOf, generationOf, jobNameOf, versionSchemaOf, versionTag } from './versions';

/** A version that is not live any more, kept so that readers can go back to it (`gridflow rollback`). */
export interface ParkedVersion {
  spec: PipelineSpec;
  /** The savepoint each of its jobs stopped with (null: it was cancelled; it restarts from its last checkpoint or not at all). */
  points: Record<JobName, RestorePoint | null>;
  parkedAt: number;
  /** Epoch ms after which its objects are released (the rollback window's end). */
  until: number;
}

export interface VersionChangePlan extends Plan {
  direction: 'forward' | 'rollback';
  requestId: string | null;
  fromVersion: number;
  toVersion: number;
  fromGeneration: number;
  toGeneration: number;
}

/** Every step of moving readers from `live` to `target` (a new version, or the parked one back), before any runs. */
export function planVersionChange(input: {
  live: PipelineSpec;
  target: PipelineSpec;
  direction: 'forward' | 'rollback';
  requestId?: string | null;
}): VersionChangePlan {
  const { live, target, direction } = input;
  const vs = versionSchemaOf(target);
  const g = generationOf(target);
  const name = `v${target.version} (generation ${g})`;
  const fresh = direction === 'forward';
  const upstreamFirst = jobOrder() as JobName[];
  const timeout = target.redeploy.timeout;
  const forward: StepDraft[] = [
    ...(fresh
      ? [
          { kind: 'claim-version' as const, what: `claim ${name}'s slots gridflow_${versionTag(target)}_*, Fluss database ${flussDatabaseOf(target)} and schema ${vs}` },
          { kind: 'prepare-source' as const, what: `replication slots and publications gridflow_${versionTag(target)}_*: a snapshot of its own` },
          { kind: 'version-tables' as const, what: `${vs}: the six tables like ${live.sink.schema}'s, empty` },
          { kind: 'tables' as const, what: `Fluss tables in ${flussDatabaseOf(target)}` },
        ]
      : []),
    { kind: 'slots', what: `${slotsNeeded(target)} task slot(s) for ${name} beside the live version` },
    ...upstreamFirst.map((job) => ({
      kind: 'submit' as const,
      job,
      what: `${jobNameOf(target, job)}: ${fresh ? 'without state' : 'from the savepoint it stopped with'}`,
    })),
    { kind: 'await', what: `${name} RUNNING within ${target.watch.readinessTimeout}` },
    { kind: 'catch-up', what: `a probe through the source comes out of ${name}'s sink (at most ${timeout})` },
    { kind: 'verify', what: `${vs} equals the contract at a consistent cut (at most ${timeout})` },
    { kind: 'switch', what: `one transaction: ${live.sink.schema}'s tables → ${versionSchemaOf(live)}, ${vs}'s → ${live.sink.schema}` },
    {
      kind: 'stop-old',
      what: `stop v${live.version} (generation ${generationOf(live)}) with savepoints; its objects are kept for ${live.redeploy.rollbackWindow} (gridflow rollback)`,
    },
  ];
  const back: StepDraft[] = [
    { kind: 'cancel-new', what: `cancel what was started of ${name}` },
    ...(fresh
      ? [{ kind: 'drop-new' as const, what: `drop ${name}'s slots, publications, Fluss database ${flussDatabaseOf(target)} and ${vs}; release their names` }]
      : [{ kind: 'park-again' as const, what: `${name} stays parked: its savepoints are kept` }]),
  ];
  return {
    kind: 'blue-green',
    direction,
    requestId: input.requestId ?? null,
    fromVersion: live.version,
    toVersion: target.version,
    fromGeneration: generationOf(live),
    toGeneration: g,
    steps: numbered(forward, back),
  };
}

/** The parked version after a switch: the old one, kept until its rollback window ends. */
export function parkVersion(spec: PipelineSpec, points: Partial<Record<JobName, RestorePoint | null>>, at: number): ParkedVersion {
  const all = Object.fromEntries(JOB_NAMES.map((j) => [j, points[j] ?? null])) as Record<JobName, RestorePoint | null>;
  return { spec, points: all, parkedAt: at, until: at + durationMs(spec.redeploy.rollbackWindow) };
}

/** Is the parked version's window over (release its objects now)? */
export function releaseDue(parked: ParkedVersion | null, now: number): boolean {
  return parked !== null && now >= parked.until;
}

/** Why a rollback cannot run now, or null. */
export function rollbackRefusal(input: { state: string; busy: boolean; parked: ParkedVersion | null }): string | null {
  if (!input.parked) return 'there is no earlier version to go back to: a rollback follows a blue/green redeploy, within its redeploy.rollbackWindow';
  if (input.busy) return 'another change (a redeploy, repair, pause, resume or savepoint) is running; ask again when it has finished';
  if (!['RUNNING', 'DEGRADED'].includes(input.state)) return `the pipeline is ${input.state}; a rollback needs its jobs running`;
  return null;
}

/** The spec a blue/green redeploy runs: the operator's next spec, one generation after the live one. */
export function nextVersionSpec(live: PipelineSpec, next: PipelineSpec): PipelineSpec {
  return { ...next, generation: generationOf(live) + 1 };
}
