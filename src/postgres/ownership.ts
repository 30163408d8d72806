/**
 * The ownership registry, `gridflow.ownership` in the sink (sql/sink/ops.sql): claim, check, release,
 * list. Decisions (what a pipeline owns, whether a claim is refused) are src/core/ownership.ts. Every
 * write holds a lock on the table, so two pipelines claiming one object at once cannot both win.
 */
import { Claim, OwnedObject, judgeClaim } from '../core/ownership';
import { PgConnection } from '../config';
import { applySqlFile, inTransaction, query, withClient } from './connection';
import type { Client } from 'pg';

/** Another pipeline owns something this one would create or destroy: retrying cannot help. */
class OwnershipError extends Error {
  override readonly name = 'OwnershipError';
  readonly transient = false;
  constructor(readonly conflicts: readonly string[]) {
    super(conflicts.join(' '));
  }
}

interface Row {
  kind: string;
  name: string;
  pipeline: string;
  /** The connection reads timestamptz as text (src/postgres/connection.ts). */
  claimed_at: Date | string;
}

const toClaim = (r: Row): Claim => ({ kind: r.kind as Claim['kind'], name: r.name, pipeline: r.pipeline, claimedAt: new Date(r.claimed_at).toISOString() });

async function registryExists(client: Client): Promise<boolean> {
  const res = await query<{ t: string | null }>(client, 'find ownership registry', "SELECT to_regclass('gridflow.ownership')::text AS t");
  return Boolean(res.rows[0]?.t);
}

async function heldRows(client: Client, objects: readonly OwnedObject[]): Promise<Claim[]> {
  const res = await query<Row>(
    client,
    'read ownership',
    `SELECT o.kind, o.name, o.pipeline, o.claimed_at FROM gridflow.ownership o
     JOIN unnest($1::text[], $2::text[]) AS w(kind, name) ON o.kind = w.kind AND o.name = w.name`,
    [objects.map((o) => o.kind), objects.map((o) => o.name)],
  );
  return res.rows.map(toClaim);
}

/**
 * Claim `objects` for `pipeline`: all or nothing. Objects it already owns are kept; any held by another
 * pipeline → refused, nothing claimed. Creates the ops schema first (idempotent). Returns what was new.
 */
export async function claimObjects(sink: PgConnection, pipeline: string, objects: readonly OwnedObject[]): Promise<{ claimed: OwnedObject[]; conflicts: string[] }> {
  return withClient(sink, async (client) => {
    // The first claim on a new sink comes before prepareSink: create the ops schema then, not every time.
    if (!(await registryExists(client))) await applySqlFile(client, 'sink/ops.sql');
    return inTransaction(client, async () => {
      await query(client, 'lock ownership', 'LOCK TABLE gridflow.ownership IN SHARE ROW EXCLUSIVE MODE');
      const verdict = judgeClaim(pipeline, objects, await heldRows(client, objects));
      if (verdict.conflicts.length) return { claimed: [], conflicts: verdict.conflicts };
      for (const o of verdict.take) {
        await query(client, 'claim', 'INSERT INTO gridflow.ownership (kind, name, pipeline) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [o.kind, o.name, pipeline]);
      }
      return { claimed: verdict.take, conflicts: [] };
    });
  });
}

/**
 * Before a destructive step: every object must be this pipeline's (or nobody's, for a registry that
 * predates the object: it is claimed now). Throws OwnershipError naming the owners otherwise.
 */
export async function assertOwned(sink: PgConnection, pipeline: string, objects: readonly OwnedObject[]): Promise<void> {
  const { conflicts } = await claimObjects(sink, pipeline, objects);
  if (conflicts.length) throw new OwnershipError(conflicts.map((c) => `refusing a destructive step: ${c}`));
}

/** The pipeline was dropped: whatever it owned may be claimed by another. Idempotent. */
export async function releaseObjects(sink: PgConnection, pipeline: string): Promise<number> {
  return withClient(sink, async (client) => {
    const res = await query(client, 'release ownership', 'DELETE FROM gridflow.ownership WHERE pipeline = $1', [pipeline]);
    return res.rowCount ?? 0;
  });
}

/** The whole registry (or one pipeline's part), by pipeline then kind. Empty when the ops schema is not there yet. */
export async function listOwnership(sink: PgConnection, pipeline?: string): Promise<Claim[]> {
  return withClient(sink, async (client) => {
    if (!(await registryExists(client))) return [];
    const res = await query<Row>(
      client,
      'list ownership',
      'SELECT kind, name, pipeline, claimed_at FROM gridflow.ownership WHERE $1::text IS NULL OR pipeline = $1 ORDER BY pipeline, kind, name',
      [pipeline ?? null],
    );
    return res.rows.map(toClaim);
  });
}

/** Release some of a pipeline's claims (a repair's temporary schemas); another pipeline's are never touched. Idempotent. */
export async function releaseNamed(sink: PgConnection, pipeline: string, objects: readonly OwnedObject[]): Promise<number> {
  return withClient(sink, async (client) => {
    const res = await query(
      client,
      'release claims',
      `DELETE FROM gridflow.ownership o USING unnest($2::text[], $3::text[]) AS w(kind, name)
        WHERE o.pipeline = $1 AND o.kind = w.kind AND o.name = w.name`,
      [pipeline, objects.map((o) => o.kind), objects.map((o) => o.name)],
    );
    return res.rowCount ?? 0;
  });
}
