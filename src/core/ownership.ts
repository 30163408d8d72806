/**
 * What a pipeline owns, and whether it may claim it: every object it creates or destroys is named here,
 * derived from its name or named in its spec, and recorded in the sink's `gridflow.ownership` registry
 * when claimed (src/postgres/ownership.ts). A claim on what another pipeline holds is refused naming
 * the owner; every destructive step (fresh start, reset, drop) checks it first. Claims are released only
 * when the pipeline is dropped (decommission --drop-slots): a pipeline decommissioned without dropping
 * its slots may be resumed, so it still owns everything. Pure.
 */
import { PipelineSpec } from './spec';
import { flussDatabaseOf, versionSchemaOf, versionTag } from './versions';

type OwnedKind = 'fluss-database' | 'sink-schema' | 'replication-slot' | 'publication' | 'savepoint-folder' | 'flink-jobs' | 'probe';

export interface OwnedObject {
  kind: OwnedKind;
  name: string;
}

export interface Claim extends OwnedObject {
  pipeline: string;
  /** ISO time of the claim. */
  claimedAt: string;
}

/** The words an operator reads for each kind. */
const WHAT: Record<OwnedKind, string> = {
  'fluss-database': 'Fluss database',
  'sink-schema': 'sink schema',
  'replication-slot': 'replication slot',
  publication: 'publication',
  'savepoint-folder': 'savepoint folder',
  'flink-jobs': 'Flink job names',
  probe: 'freshness probe records',
};

/** Where a pipeline's savepoints go: a folder of its own under spec.savepointDir. */
export function savepointFolder(spec: Pick<PipelineSpec, 'name' | 'savepointDir'>): string {
  return `${spec.savepointDir.replace(/\/+$/, '')}/${spec.name}`;
}

/** Slot and publication name of one captured table; src/postgres/source/names.ts `artifactName` checks it. */
export function artifactNameOf(pipeline: string, table: string): string {
  return `gridflow_${pipeline}_${table}`;
}

/**
 * Everything `spec` creates or destroys — for its version (src/core/versions.ts): its slots,
 * publications, Fluss database and version schema; the readers' schema is the same for every version.
 * `capturedTables` get a slot and a publication each.
 */
export function ownedObjects(spec: PipelineSpec, capturedTables: readonly string[]): OwnedObject[] {
  const artifacts = capturedTables.map((t) => artifactNameOf(versionTag(spec), t));
  return [
    { kind: 'fluss-database', name: flussDatabaseOf(spec) },
    { kind: 'sink-schema', name: spec.sink.schema },
    // Where this version's tables stay while another is live, and its sink job looks first (src/core/versions.ts).
    { kind: 'sink-schema', name: versionSchemaOf(spec) },
    ...artifacts.map((name) => ({ kind: 'replication-slot' as const, name })),
    ...artifacts.map((name) => ({ kind: 'publication' as const, name })),
    { kind: 'savepoint-folder', name: savepointFolder(spec) },
    { kind: 'flink-jobs', name: `gridflow/${spec.name}/` },
    { kind: 'probe', name: spec.name },
  ];
}

/** The sentence for an object another pipeline holds. */
function conflictSentence(pipeline: string, claim: Claim): string {
  const field = claim.kind === 'fluss-database' ? ' (spec field fluss.database)' : claim.kind === 'sink-schema' ? ' (spec field sink.schema)' : '';
  return (
    `${WHAT[claim.kind]} ${claim.name}${field} belongs to pipeline ${claim.pipeline} (claimed ${claim.claimedAt}); ` +
    `pipeline ${pipeline} may not use it: name another in its spec, or drop ${claim.pipeline} first ` +
    `(gridflow decommission --name ${claim.pipeline} --drop-slots)`
  );
}

/**
 * Judge a claim: which of `wanted` are free to take, and a sentence for each held by another pipeline.
 * `held` are the registry's rows for those objects.
 */
export function judgeClaim(pipeline: string, wanted: readonly OwnedObject[], held: readonly Claim[]): { take: OwnedObject[]; conflicts: string[] } {
  const owner = (o: OwnedObject) => held.find((h) => h.kind === o.kind && h.name === o.name);
  const conflicts = wanted.map(owner).filter((h): h is Claim => h !== undefined && h.pipeline !== pipeline);
  return {
    take: wanted.filter((o) => owner(o) === undefined),
    conflicts: conflicts.map((c) => conflictSentence(pipeline, c)),
  };
}
