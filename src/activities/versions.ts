/**
 * The activities of a blue/green change (src/workflows/lifecycle/bluegreen.ts): a version's names in the
 * ownership registry, its tables beside the live ones, its probe, the switch, and dropping a version
 * (a new one that failed, an old one whose rollback window ended). Each is idempotent: a retry finds
 * what the first attempt did (claims by name, tables by name, a switch already made, objects gone).
 */
import { PipelineSpec } from '../core/spec';
import { OwnedObject, ownedObjects } from '../core/ownership';
import { flussDatabaseOf, liveGenerationFrom, versionSchemaOf, versionTag } from '../core/versions';
import { assertOwned, claimObjects, listOwnership, releaseNamed } from '../postgres/ownership';
import { sendProbe } from '../postgres/probe';
import { dropSourceArtifacts } from '../postgres/source/prepare';
import { CAPTURED_TABLES } from '../postgres/source/names';
import { createVersionTables, dropVersionSchema, switchVersion, versionProbeArrived, warehouseTablesIn } from '../postgres/versions';
import { dropFlussDatabase } from '../warehouse/deploy';
import { ActivityDeps, connectionsFor } from './context';
import { classified, nonRetryable } from './classify';
import { heartbeat, heartbeating } from './helpers';

export function createVersionActivities(deps: ActivityDeps) {
  return heartbeating(versionActivities(deps));
}

/** What one version owns apart from the readers' schema (which every version shares). */
function versionObjects(spec: PipelineSpec): OwnedObject[] {
  return ownedObjects(spec, CAPTURED_TABLES).filter((o) => ['replication-slot', 'publication', 'fluss-database'].includes(o.kind) || (o.kind === 'sink-schema' && o.name === versionSchemaOf(spec)));
}

/**
 * A version's source side: its replication slots and publications (waiting for a just-stopped reader to
 * let go of a slot), then its Fluss database. The caller has checked that it owns them.
 */
export async function dropSourceSide(deps: ActivityDeps, spec: PipelineSpec): Promise<{ droppedSlots: string[]; droppedPublications: string[] }> {
  const dropped = await dropSourceArtifacts(deps.connection(spec.source.connection), {
    pipeline: versionTag(spec),
    waitInactiveMs: 60_000,
    onWait: (active) => heartbeat({ waitingFor: active }),
  });
  await dropFlussDatabase({ rest: deps.rest(spec), gateway: deps.gateway(spec) }, spec, connectionsFor(deps, spec));
  return dropped;
}

/**
 * The spec as the live version runs it: a spec that does not say its generation (a verification
 * schedule's, made at deploy) takes the live one (src/core/versions.ts liveGenerationFrom).
 */
export async function asLiveVersion(deps: ActivityDeps, spec: PipelineSpec): Promise<PipelineSpec> {
  if (spec.generation !== undefined) return spec;
  const sink = deps.connection(spec.sink.connection);
  const claims = (await listOwnership(sink, spec.name)).filter((c) => c.kind === 'fluss-database').map((c) => c.name);
  // Every generation's version schema that could exist (the decision picks among the claimed ones).
  const highest = claims.reduce((n, name) => Math.max(n, Number(/_v(\d+)$/.exec(name)?.[1] ?? 0)), 0);
  if (highest === 0) return spec;
  const gens = Array.from({ length: highest + 1 }, (_, g) => g);
  const tables = await warehouseTablesIn(sink, gens.map((g) => versionSchemaOf({ ...spec, generation: g })));
  return { ...spec, generation: liveGenerationFrom(spec, claims, (g) => tables[g] ?? 0) };
}

function versionActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);

  return {
    /** The new version's objects, and the live version's schema (where its tables go at the switch); refused non-retryably when another pipeline holds one. */
    async claimVersion(input: { live: PipelineSpec; next: PipelineSpec }): Promise<{ claimed: string[] }> {
      const { live, next } = input;
      const wanted = [...versionObjects(next), { kind: 'sink-schema' as const, name: versionSchemaOf(live) }];
      const { claimed, conflicts } = await classified('claim the new version', () => claimObjects(sinkConn(next), next.name, wanted));
      if (conflicts.length) throw nonRetryable('OwnershipConflict', conflicts.join(' '));
      return { claimed: claimed.map((o) => `${o.kind} ${o.name}`) };
    },

    /** The live generation of a pipeline this workflow did not start (src/core/versions.ts liveGenerationFrom). Read-only. */
    async liveGeneration(spec: PipelineSpec): Promise<number> {
      return classified('find the live version', async () => (await asLiveVersion(deps, { ...spec, generation: undefined })).generation ?? 0);
    },

    /** The version's empty tables like the live ones, and its private probe_hops. */
    async createVersionTables(spec: PipelineSpec): Promise<void> {
      await classified('create the version tables', () => createVersionTables(sinkConn(spec), spec.sink.schema, versionSchemaOf(spec)));
    },

    /** A freshness probe through the source, recorded under the pipeline (cleaned with its others); returns its value. */
    async sendVersionProbe(spec: PipelineSpec): Promise<{ value: string }> {
      return classified('send a probe for the version', async () => ({ value: (await sendProbe(deps.connection(spec.source.connection), sinkConn(spec), spec.name, spec.source.schema)).value }));
    },

    /** Has that probe (or a newer one) come out of every ADS hop of the version's sink job? */
    async versionProbeArrived(input: { spec: PipelineSpec; value: string }): Promise<boolean> {
      return classified('look for the version probe', () => versionProbeArrived(sinkConn(input.spec), versionSchemaOf(input.spec), input.spec.name, input.value));
    },

    /** One transaction: the live tables to `from`'s version schema, `to`'s into the readers' schema. */
    async switchVersion(input: { from: PipelineSpec; to: PipelineSpec }): Promise<{ switched: boolean }> {
      const { from, to } = input;
      return classified('switch readers to the new version', () => switchVersion(sinkConn(to), to.sink.schema, versionSchemaOf(from), versionSchemaOf(to)));
    },

    /**
     * Drop a version that is not live: its slots and publications (waiting for a just-cancelled reader to
     * let go), its Fluss database, its version schema; then release their names. Never the readers' schema.
     */
    async dropVersion(spec: PipelineSpec): Promise<string[]> {
      return classified('drop a version', async () => {
        const owned = versionObjects(spec);
        await assertOwned(sinkConn(spec), spec.name, owned);
        const dropped = await dropSourceSide(deps, spec);
        await dropVersionSchema(sinkConn(spec), versionSchemaOf(spec));
        await releaseNamed(sinkConn(spec), spec.name, owned);
        return [
          ...dropped.droppedSlots.map((s) => `dropped slot ${s}`),
          ...dropped.droppedPublications.map((x) => `dropped publication ${x}`),
          `dropped Fluss database ${flussDatabaseOf(spec)} and schema ${versionSchemaOf(spec)}`,
        ];
      });
    },
  };
}
