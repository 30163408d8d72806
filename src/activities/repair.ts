/**
 * The repair's activities (src/workflows/lifecycle/repair.ts): the shadow sink's names in the
 * ownership registry, its tables, its job, the switch, the cleanup, and the comparison with the
 * contract (the verification's own, on whichever schema the spec names). Each is idempotent: a retry
 * finds what the first attempt did (tables by name, the job by its Flink name, a switch already made).
 */
import { PipelineSpec } from '../core/spec';
import { isLiveState } from '../core/types';
import { OwnedObject, ownedObjects } from '../core/ownership';
import { repairNames } from '../core/repair';
import { assertOwned, claimObjects, releaseNamed } from '../postgres/ownership';
import { createShadowTables, dropShadow, switchTables } from '../postgres/shadow';
import { CAPTURED_TABLES } from '../postgres/source/names';
import { Submitted, submitJob } from '../warehouse/deploy';
import { ActivityDeps, connectionsFor } from './context';
import { classified, nonRetryable } from './classify';
import { heartbeat, heartbeating } from './helpers';
import { createVerifyActivities } from './verify';
import { probeArrivals, sendProbe } from '../postgres/probe';
import { flussDatabaseOf } from '../core/versions';
import { dropSourceSide } from './versions';

export function createRepairActivities(deps: ActivityDeps) {
  return heartbeating(repairActivities(deps));
}

function repairActivities(deps: ActivityDeps) {
  const sinkConn = (spec: PipelineSpec) => deps.connection(spec.sink.connection);
  const verify = createVerifyActivities(deps);
  const shadowObjects = (spec: PipelineSpec): OwnedObject[] => {
    const n = repairNames(spec);
    return [
      { kind: 'sink-schema', name: n.shadowSchema },
      { kind: 'sink-schema', name: n.replacedSchema },
    ];
  };

  return {
    /** The shadow and replaced schema names for this pipeline; refused (non-retryably) when another pipeline holds one. */
    async claimShadow(spec: PipelineSpec): Promise<{ claimed: string[] }> {
      const { claimed, conflicts } = await classified('claim the repair schemas', () => claimObjects(sinkConn(spec), spec.name, shadowObjects(spec)));
      if (conflicts.length) throw nonRetryable('OwnershipConflict', conflicts.join(' '));
      return { claimed: claimed.map((o) => `${o.kind} ${o.name}`) };
    },

    /** The empty shadow tables (a shadow a failed repair left behind is dropped first). */
    async createShadowTables(spec: PipelineSpec): Promise<void> {
      const n = repairNames(spec);
      await classified('create the shadow tables', () => createShadowTables(sinkConn(spec), spec.sink.schema, n.shadowSchema));
    },

    /** The shadow sink job (Fluss DWS/ADS → the shadow schema), from a savepoint or a full read. Idempotent by its Flink name. */
    async submitShadowSink(input: { spec: PipelineSpec }): Promise<Submitted> {
      const { spec } = input;
      return classified('submit the shadow sink', () =>
        submitJob({ rest: deps.rest(spec), gateway: deps.gateway(spec) }, spec, 'sink', connectionsFor(deps, spec), null, heartbeat, repairNames(spec)),
      );
    },

    /** The shadow job's id while it is live, or null (to cancel what a failed attempt may have started). */
    async findShadowSink(input: { spec: PipelineSpec }): Promise<string | null> {
      return classified('find the shadow sink', async () => {
        const jobs = await deps.rest(input.spec).findJobsByName(repairNames(input.spec).flinkName);
        return jobs.find((j) => isLiveState(j.state))?.jid ?? null;
      });
    },

    /**
     * A rebuild from the source: drop the pipeline's replication slots and publications and its Fluss
     * database (what Fluss lost cannot be trusted, and the new slots start a new snapshot). The sink's
     * tables are not touched (readers keep them until the switch) and no claim is released.
     */
    async resetSource(spec: PipelineSpec): Promise<string[]> {
      return classified('reset the source side', async () => {
        const owned = ownedObjects(spec, CAPTURED_TABLES).filter((o) => ['replication-slot', 'publication', 'fluss-database'].includes(o.kind));
        await assertOwned(sinkConn(spec), spec.name, owned);
        const dropped = await dropSourceSide(deps, spec);
        return [...dropped.droppedSlots.map((s) => `dropped slot ${s}`), ...dropped.droppedPublications.map((x) => `dropped publication ${x}`), `dropped Fluss database ${flussDatabaseOf(spec)}`];
      });
    },

    /** A freshness probe through the source (recorded under the pipeline, cleaned with its others): the shadow has caught up with Fluss once it comes out. */
    async sendShadowProbe(spec: PipelineSpec): Promise<{ value: string }> {
      return classified('send a probe for the shadow', async () => ({ value: (await sendProbe(deps.connection(spec.source.connection), sinkConn(spec), spec.name, spec.source.schema)).value }));
    },

    /** Has that probe (or a newer one) come out of every ADS hop of the shadow sink job? */
    async shadowProbeArrived(input: { spec: PipelineSpec; value: string }): Promise<boolean> {
      return classified('look for the shadow probe', async () => {
        const hops = await probeArrivals(sinkConn(input.spec), repairNames(input.spec).probePipeline, input.value);
        return Object.values(hops).every((h) => h !== null);
      });
    },

    /** One transaction: the live tables out, the shadow's in. */
    async switchSinkTables(spec: PipelineSpec): Promise<{ switched: boolean }> {
      const n = repairNames(spec);
      return classified('switch the sink tables', () => switchTables(sinkConn(spec), spec.sink.schema, n.shadowSchema, n.replacedSchema));
    },

    /** Drop the shadow and replaced schemas, their probe arrivals, and release their names. */
    async dropShadow(spec: PipelineSpec): Promise<void> {
      const n = repairNames(spec);
      await classified('drop the repair schemas', async () => {
        await dropShadow(sinkConn(spec), [n.shadowSchema, n.replacedSchema], n.probePipeline);
        await releaseNamed(sinkConn(spec), spec.name, shadowObjects(spec));
      });
    },

    /** The verification's comparison at a cut, on the schema `spec.sink.schema` names (the shadow's or the live one). */
    compareSink: verify.compareAtCut,
  };
}

