/**
 * The sink side of a pipeline's versions (src/core/versions.ts): a version's tables beside the live
 * ones, the switch between versions, and dropping a version. Readers read `<schema>.<table>`; that
 * schema holds the live version's tables, every other version's stay in its version schema. Each sink
 * job writes unqualified names through the search path `<its version schema>, <schema>, gridflow`, so
 * a switch — tables moved between schemas in ONE transaction — redirects nothing: each job goes on
 * writing its own tables, and readers see the old tables or the new ones, never an empty or half-filled
 * one. The probe arrivals follow the same rule: a version that is not live has a `probe_hops` of its
 * own in its version schema, the live one writes gridflow.probe_hops. Every function is idempotent.
 */
import { Client } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { inTransaction, query, quoteIdent, withClient } from './connection';
import { copySchemaUsage, createShadowTables } from './shadow';
import { WAREHOUSE_TABLE_NAMES } from './warehouse-tables';

function checked(...schemas: string[]): void {
  for (const s of schemas) if (!IDENTIFIER.test(s)) throw new Error(`schema ${JSON.stringify(s)} must match ${IDENTIFIER}`);
}

const q = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** A private probe_hops in `schema`: the arrivals of a version that is not live (no log trigger: they are not the pipeline's). */
async function privateProbeHops(client: Client, schema: string): Promise<void> {
  await query(client, `probe_hops of ${schema}`, `CREATE TABLE IF NOT EXISTS ${q(schema, 'probe_hops')} (LIKE gridflow.probe_hops INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
}

/** The new version's empty tables in its version schema (dropped first if a failed attempt left it), and its private probe_hops. */
export async function createVersionTables(sinkConn: PgConnection, live: string, versionSchema: string): Promise<void> {
  checked(live, versionSchema);
  await createShadowTables(sinkConn, live, versionSchema);
  await withClient(sinkConn, (client) => privateProbeHops(client, versionSchema));
}

async function tableCounts(client: Client, schemas: string[]): Promise<(s: string) => number> {
  const present = await query<{ schema: string; n: string }>(
    client,
    'find the versions’ tables',
    `SELECT n.nspname AS schema, count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND c.relname = ANY($2) GROUP BY n.nspname`,
    [schemas, [...WAREHOUSE_TABLE_NAMES]],
  );
  return (s: string) => Number(present.rows.find((r) => r.schema === s)?.n ?? 0);
}

/**
 * Readers from the old version to the new, in one transaction: `live`'s tables → `oldSchema`, the new
 * version's (`newSchema`) → `live`; the old version's arrivals go to a private probe_hops in
 * `oldSchema`, the new one's to gridflow.probe_hops. Already switched: nothing to do.
 */
export async function switchVersion(sinkConn: PgConnection, live: string, oldSchema: string, newSchema: string): Promise<{ switched: boolean }> {
  checked(live, oldSchema, newSchema);
  const n = WAREHOUSE_TABLE_NAMES.length;
  return withClient(
    sinkConn,
    (client) =>
      inTransaction(client, async () => {
        const count = await tableCounts(client, [newSchema, oldSchema]);
        if (count(newSchema) === 0 && count(oldSchema) === n) return { switched: false };
        if (count(newSchema) !== n) throw new VersionSwitchError(`${newSchema} holds ${count(newSchema)} of the ${n} tables: nothing was switched`);
        if (count(oldSchema) !== 0) throw new VersionSwitchError(`${oldSchema} holds ${count(oldSchema)} warehouse tables already: nothing was switched`);
        await query(client, `create ${oldSchema}`, `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(oldSchema)}`);
        // Same privileges on the schema as the live one: its tables keep their grants when they move.
        await copySchemaUsage(client, live, oldSchema);
        for (const t of WAREHOUSE_TABLE_NAMES) {
          await query(client, `move ${live}.${t} out`, `ALTER TABLE ${q(live, t)} SET SCHEMA ${quoteIdent(oldSchema)}`);
          await query(client, `move ${newSchema}.${t} in`, `ALTER TABLE ${q(newSchema, t)} SET SCHEMA ${quoteIdent(live)}`);
        }
        await privateProbeHops(client, oldSchema);
        await query(client, `drop ${newSchema}.probe_hops`, `DROP TABLE IF EXISTS ${q(newSchema, 'probe_hops')}`);
        return { switched: true };
      }),
    // The switch waits for readers' locks (the dashboard's queries are short), not forever.
    { lockTimeoutMs: 30_000 },
  );
}

/** Has a probe of `value` (or a newer one) come out of every hop of the version whose arrivals are in `versionSchema`? */
export async function versionProbeArrived(sinkConn: PgConnection, versionSchema: string, pipeline: string, value: string): Promise<boolean> {
  checked(versionSchema);
  return withClient(sinkConn, async (client) => {
    const exists = await query<{ t: string | null }>(client, 'find the version’s probe_hops', 'SELECT to_regclass($1)::text AS t', [`${quoteIdent(versionSchema)}.probe_hops`]);
    // No private table: the version is live, and its arrivals are the pipeline's.
    const table = exists.rows[0]?.t ? q(versionSchema, 'probe_hops') : 'gridflow.probe_hops';
    const res = await query<{ hop: string }>(client, 'read the version’s probe arrivals', `SELECT hop FROM ${table} WHERE pipeline = $1 AND probe_value >= $2::numeric`, [pipeline, value]);
    return ['health', 'capacity', 'dashboard'].every((h) => res.rows.some((r) => r.hop === h));
  });
}

/** How many of the six warehouse tables each schema holds. Read-only. */
export async function warehouseTablesIn(sinkConn: PgConnection, schemas: readonly string[]): Promise<number[]> {
  if (!schemas.length) return [];
  return withClient(sinkConn, async (client) => {
    const count = await tableCounts(client, [...schemas]);
    return schemas.map(count);
  });
}

/** Drop a version's schema: its tables (never the live ones: those are in the readers' schema) and its probe arrivals. */
export async function dropVersionSchema(sinkConn: PgConnection, versionSchema: string): Promise<void> {
  checked(versionSchema);
  await withClient(sinkConn, (client) => query(client, `drop ${versionSchema}`, `DROP SCHEMA IF EXISTS ${quoteIdent(versionSchema)} CASCADE`));
}

/** A switch that cannot be made as asked: retrying cannot help. */
class VersionSwitchError extends Error {
  override readonly name = 'VersionSwitchError';
  readonly transient = false;
}
