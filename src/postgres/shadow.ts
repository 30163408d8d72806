/**
 * A rebuilt copy of a pipeline's sink tables beside the ones readers use, and the switch between them
 * (the repair of src/workflows/lifecycle/repair.ts). Readers — the dashboard, `gridflow_reader`,
 * verification — read `<schema>.<table>` by name; the shadow is filled in `<schema>_repair` by a
 * second sink job and, once proven equal, exchanged with the live tables in ONE transaction: a reader
 * sees the old table or the new one, never an empty or half-filled one. Every function is idempotent.
 *
 * The shadow tables are made LIKE the live ones (columns, defaults, keys, indexes), with the live
 * schema's updated_at trigger function and the live tables' grants: after the switch they are the live
 * tables in every respect. The replaced tables go to `<schema>_replaced` and are dropped afterwards.
 */
import { Client } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { inTransaction, query, quoteIdent, withClient } from './connection';
import { WAREHOUSE_TABLE_NAMES } from './warehouse-tables';

function checked(...schemas: string[]): void {
  for (const s of schemas) if (!IDENTIFIER.test(s)) throw new Error(`schema ${JSON.stringify(s)} must match ${IDENTIFIER}`);
}

const q = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** Views (or anything else) built on the live tables would follow them out at the switch: name them. */
async function dependents(client: Client, schema: string): Promise<string[]> {
  const res = await query<{ dependent: string; tbl: string }>(
    client,
    'find objects built on the sink tables',
    `SELECT DISTINCT v.oid::regclass::text AS dependent, t.relname AS tbl
       FROM pg_depend d
       JOIN pg_rewrite r ON r.oid = d.objid
       JOIN pg_class v ON v.oid = r.ev_class
       JOIN pg_class t ON t.oid = d.refobjid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE d.classid = 'pg_rewrite'::regclass AND n.nspname = $1 AND t.relname = ANY($2) AND v.oid <> t.oid`,
    [schema, [...WAREHOUSE_TABLE_NAMES]],
  );
  return res.rows.map((r) => `${r.dependent} (on ${schema}.${r.tbl})`);
}

/**
 * An empty shadow: `shadow` dropped if a failed repair left it, then the six tables LIKE the live ones,
 * each with the live schema's stamp_updated_at trigger and the live table's grants.
 */
export async function createShadowTables(sinkConn: PgConnection, live: string, shadow: string): Promise<void> {
  checked(live, shadow);
  await withClient(sinkConn, (client) =>
    inTransaction(client, async () => {
      const views = await dependents(client, live);
      if (views.length) {
        throw new ShadowError(
          `cannot rebuild ${live}: ${views.join(', ')} would stay on the replaced tables at the switch; drop or recreate them over a stable name first`,
        );
      }
      await query(client, `drop ${shadow}`, `DROP SCHEMA IF EXISTS ${quoteIdent(shadow)} CASCADE`);
      await query(client, `create ${shadow}`, `CREATE SCHEMA ${quoteIdent(shadow)}`);
      for (const t of WAREHOUSE_TABLE_NAMES) {
        await query(client, `create ${shadow}.${t}`, `CREATE TABLE ${q(shadow, t)} (LIKE ${q(live, t)} INCLUDING ALL)`);
        await query(
          client,
          `trigger on ${shadow}.${t}`,
          `CREATE TRIGGER stamp_updated_at BEFORE INSERT OR UPDATE ON ${q(shadow, t)} FOR EACH ROW EXECUTE FUNCTION ${quoteIdent(live)}.stamp_updated_at()`,
        );
        const grants = await query<{ grantee: string; privilege: string }>(
          client,
          `grants of ${live}.${t}`,
          `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee, a.privilege_type AS privilege
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
            WHERE c.oid = $1::regclass AND a.grantee <> c.relowner`,
          [`${quoteIdent(live)}.${quoteIdent(t)}`],
        );
        for (const g of grants.rows) {
          await query(client, `grant on ${shadow}.${t}`, `GRANT ${g.privilege} ON ${q(shadow, t)} TO ${g.grantee}`);
        }
      }
      await copySchemaUsage(client, live, shadow);
    }),
  );
}

/** Grant USAGE on schema `to` to every role that has it on `from` (its tables keep their own grants). */
export async function copySchemaUsage(client: Client, from: string, to: string): Promise<void> {
  const usage = await query<{ grantee: string }>(
    client,
    `usage grants of ${from}`,
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
       FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE n.nspname = $1 AND a.privilege_type = 'USAGE' AND a.grantee <> n.nspowner`,
    [from],
  );
  for (const g of usage.rows) await query(client, `usage on ${to}`, `GRANT USAGE ON SCHEMA ${quoteIdent(to)} TO ${g.grantee}`);
}

/**
 * Exchange the live tables with the shadow's in one transaction: live → `replaced`, shadow → live.
 * Already switched (the shadow's tables are in the live schema, the old ones in `replaced`): nothing
 * to do. Returns whether this call switched.
 */
export async function switchTables(sinkConn: PgConnection, live: string, shadow: string, replaced: string): Promise<{ switched: boolean }> {
  checked(live, shadow, replaced);
  return withClient(
    sinkConn,
    (client) =>
      inTransaction(client, async () => {
        const present = await query<{ schema: string; n: string }>(
          client,
          'find the shadow and replaced tables',
          `SELECT n.nspname AS schema, count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND c.relname = ANY($2) GROUP BY n.nspname`,
          [[shadow, replaced], [...WAREHOUSE_TABLE_NAMES]],
        );
        const count = (s: string) => Number(present.rows.find((r) => r.schema === s)?.n ?? 0);
        if (count(shadow) === 0 && count(replaced) === WAREHOUSE_TABLE_NAMES.length) return { switched: false };
        if (count(shadow) !== WAREHOUSE_TABLE_NAMES.length) {
          throw new ShadowError(`the shadow ${shadow} holds ${count(shadow)} of the ${WAREHOUSE_TABLE_NAMES.length} tables: nothing was switched`);
        }
        const views = await dependents(client, live);
        if (views.length) throw new ShadowError(`cannot switch ${live}: ${views.join(', ')} would stay on the replaced tables`);
        await query(client, `create ${replaced}`, `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(replaced)}`);
        for (const t of WAREHOUSE_TABLE_NAMES) {
          await query(client, `move ${live}.${t} out`, `ALTER TABLE ${q(live, t)} SET SCHEMA ${quoteIdent(replaced)}`);
          await query(client, `move ${shadow}.${t} in`, `ALTER TABLE ${q(shadow, t)} SET SCHEMA ${quoteIdent(live)}`);
        }
        return { switched: true };
      }),
    // The switch waits for readers' locks (the dashboard's queries are short), not forever.
    { lockTimeoutMs: 30_000 },
  );
}

/** Drop the shadow and replaced schemas and the shadow job's probe arrivals. Idempotent. */
export async function dropShadow(sinkConn: PgConnection, schemas: readonly string[], probePipeline: string): Promise<void> {
  checked(...schemas);
  await withClient(sinkConn, (client) =>
    inTransaction(client, async () => {
      for (const s of schemas) await query(client, `drop ${s}`, `DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
      await query(client, 'forget the shadow probe arrivals', 'DELETE FROM gridflow.probe_hops WHERE pipeline = $1', [probePipeline]);
    }),
  );
}

/** A shadow that cannot be made or switched as asked: retrying cannot help. */
class ShadowError extends Error {
  override readonly name = 'ShadowError';
  readonly transient = false;
}
