/**
 * A pipeline's versions side by side: every name a running version of the warehouse owns, derived from
 * the spec and its `generation` (which gridflow manages: a blue/green redeploy starts generation n+1
 * beside n, src/core/bluegreen.ts). Generation 0 has the names every pipeline had before versions, so
 * nothing deployed earlier is renamed.
 *
 *   generation        0                        n ≥ 1
 *   slots, pubs       gridflow_<p>_<table>     gridflow_<p>_v<n>_<table>
 *   Fluss database    <fluss.database>         <fluss.database>_v<n>
 *   Flink jobs        gridflow/<p>/<job>       gridflow/<p>/v<n>/<job>
 *   version schema    <sink.schema>_v0         <sink.schema>_v<n>
 *
 * Readers always read `<sink.schema>`: it holds the live version's six tables. A version that is not
 * live keeps its tables in its version schema. Each version's sink job writes its tables by unqualified
 * name with the search path `<version schema>, <sink.schema>, gridflow`, so it finds its own tables
 * wherever they are: a switch moves the new version's tables into `<sink.schema>` and the old one's into
 * its version schema, in one transaction, and neither job notices (src/postgres/versions.ts). The probe
 * arrivals work the same way: a version that is not live has its own `probe_hops` in its version schema;
 * the live one writes gridflow.probe_hops. Pure; no Node built-ins (workflow sandbox).
 */
import type { JobName, PipelineSpec } from './spec';

type Named = Pick<PipelineSpec, 'name' | 'generation'>;

export function generationOf(spec: Pick<PipelineSpec, 'generation'>): number {
  return spec.generation ?? 0;
}

/** What the version's replication slots and publications are named after (`gridflow_<tag>_<table>`). */
export function versionTag(spec: Named): string {
  const g = generationOf(spec);
  return g === 0 ? spec.name : `${spec.name}_v${g}`;
}

export function flussDatabaseOf(spec: Pick<PipelineSpec, 'fluss' | 'generation'>): string {
  const g = generationOf(spec);
  return g === 0 ? spec.fluss.database : `${spec.fluss.database}_v${g}`;
}

/** Where the version's tables stay while it is not live, and its probe arrivals meanwhile. */
export function versionSchemaOf(spec: Pick<PipelineSpec, 'sink' | 'generation'>): string {
  return `${spec.sink.schema}_v${generationOf(spec)}`;
}

/** The search path of the version's sink job: its own tables wherever they are, then the ops schema. */
export function sinkSearchPath(spec: Pick<PipelineSpec, 'sink' | 'generation'>): string[] {
  return [versionSchemaOf(spec), spec.sink.schema!, 'gridflow'];
}

/**
 * Which generation is live, for a workflow that starts without knowing (a new one after a terminate):
 * the generations whose Fluss database the pipeline holds in the registry, and for each how many
 * warehouse tables its version schema holds. The live one's tables are in the readers' schema, so its
 * version schema holds none; a parked one's holds them all. No claim: the spec's own generation.
 */
export function liveGenerationFrom(spec: Pick<PipelineSpec, 'fluss' | 'generation'>, claimedDatabases: readonly string[], tablesIn: (generation: number) => number): number {
  const base = spec.fluss.database;
  const gens = claimedDatabases
    .map((name) => (name === base ? 0 : name.startsWith(`${base}_v`) && /^\d+$/.test(name.slice(base.length + 2)) ? Number(name.slice(base.length + 2)) : null))
    .filter((g): g is number => g !== null)
    .sort((a, b) => b - a);
  if (gens.length === 0) return generationOf(spec);
  return gens.find((g) => tablesIn(g) === 0) ?? gens[0];
}

/** The Flink job name of one of the version's jobs; the control plane finds its jobs by it. */
export function jobNameOf(spec: Named, job: JobName): string {
  const g = generationOf(spec);
  return g === 0 ? `gridflow/${spec.name}/${job}` : `gridflow/${spec.name}/v${g}/${job}`;
}
