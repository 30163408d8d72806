/**
 * Making the source ready and removing what a pipeline left in it. `prepareSource`: REPLICA IDENTITY
 * FULL, grants, one publication and one pgoutput slot per captured table, all idempotent; an existing
 * slot is never dropped or recreated (it holds the pipeline's position). `dropSourceArtifacts`: a
 * pipeline's slots and publications, refusing while a job reads a slot.
 *
 * The CDC sources run with changelog-mode 'all' (sql/flink/ingest.sql), which needs REPLICA IDENTITY
 * FULL on every captured table.
 */
import { Client } from 'pg';
import { PgConnection } from '../../config';
import { inTransaction, query, quoteIdent, withClient } from '../connection';
import { describeConnection, isPostgresError } from '../errors';
import { CAPTURED_TABLES, CHANGELOG_MODE, RETIRED_CAPTURED_TABLES, SourceStateError, artifactName } from './names';
import { gatherSourceFacts, judgeSource } from './preflight';
import { ObservedPublication, ReplicationTarget, observePublications, observeSlots } from './replication';

// ---------------------------------------------------------------------------------------------------
// Prepare
// ---------------------------------------------------------------------------------------------------

interface PrepareSourceInput {
  schema: string;
  tables: readonly string[];
  pipeline: string;
  cdcRole: string;
}

interface PrepareSourceResult {
  /** What changed, one sentence each; empty when everything was already in place. */
  actions: string[];
  publications: Array<{ name: string; table: string; status: 'created' | 'unchanged' | 'corrected'; previousTables?: string[] }>;
  slots: Array<{ name: string; status: 'created' | 'existing'; restartLsn: string | null; walStatus: string | null }>;
  /** Things prepare leaves alone but someone should look at (e.g. an existing slot with lost WAL). */
  warnings: string[];
}

/**
 * Make the source ready for the pipeline. Idempotent: a second run changes nothing and reports no action.
 * Refuses (SourceStateError 'not-ready', nothing changed) when preflight finds a problem it cannot fix.
 * Order matters: publications before slots, because a pgoutput slot decodes with the catalog as of each
 * change, and a publication created after the slot would be "missing" for the changes in between.
 */
export async function prepareSource(adminConn: PgConnection, input: PrepareSourceInput): Promise<PrepareSourceResult> {
  const { schema, tables, pipeline, cdcRole } = input;
  const names = tables.map((t) => artifactName(pipeline, t));
  const result: PrepareSourceResult = { actions: [], publications: [], slots: [], warnings: [] };

  // Creating a logical slot waits for every transaction running at that moment: allow for that.
  return withClient(
    adminConn,
    async (client) => {
      await inTransaction(client, async () => {
        // Serialise concurrent prepares of one pipeline (two activity attempts, two workers).
        await query(client, 'lock the pipeline source', 'SELECT pg_advisory_xact_lock(hashtext($1))', [`gridflow:source:${pipeline}`]);
        const facts = await gatherSourceFacts(client, {
          schema,
          tables,
          cdcRole,
          slotsNeeded: tables.length,
          sendersNeeded: 0,
          pipeline,
        });
        const blocking = judgeSource(facts, { schema, slotsNeeded: tables.length, sendersNeeded: 0 }).filter((p) => !p.fixedByPrepare);
        if (blocking.length > 0) {
          throw new SourceStateError(
            'not-ready',
            `the source ${describeConnection(adminConn)} is not ready for pipeline ${pipeline}, nothing was changed: ${blocking.map((p) => p.message).join(' ')}`,
            blocking.map((p) => p.message),
          );
        }
        const db = facts.database;
        if (!facts.cdc.canConnect) {
          await query(client, `grant CONNECT on ${db} to ${cdcRole}`, `GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(cdcRole)}`);
          result.actions.push(`Granted CONNECT on database ${db} to ${cdcRole}.`);
        }
        if (!facts.cdc.schemaUsage) {
          await query(client, `grant USAGE on schema ${schema} to ${cdcRole}`, `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(cdcRole)}`);
          result.actions.push(`Granted USAGE on schema ${schema} to ${cdcRole}.`);
        }
        for (const t of facts.tables) {
          const qualified = `${quoteIdent(schema)}.${quoteIdent(t.table)}`;
          if (CHANGELOG_MODE === 'all' && t.replicaIdentity !== 'full') {
            await query(client, `set REPLICA IDENTITY FULL on ${schema}.${t.table}`, `ALTER TABLE ${qualified} REPLICA IDENTITY FULL`);
            result.actions.push(`Set REPLICA IDENTITY FULL on ${schema}.${t.table} (was ${(t.replicaIdentity ?? 'unknown').toUpperCase()}).`);
          }
          if (!t.cdcCanSelect) {
            await query(client, `grant SELECT on ${schema}.${t.table} to ${cdcRole}`, `GRANT SELECT ON ${qualified} TO ${quoteIdent(cdcRole)}`);
            result.actions.push(`Granted SELECT on ${schema}.${t.table} to ${cdcRole}.`);
          }
        }
        const existing = await observePublications(client, names);
        for (const [i, table] of tables.entries()) {
          result.publications.push(await ensurePublication(client, names[i], schema, table, existing, result.actions));
        }
      });

      // Slots: outside any transaction (a slot cannot be created in one that has written).
      for (const name of names) {
        result.slots.push(await ensureSlot(client, name, result));
      }
      await retireArtifacts(client, pipeline, result);
      return result;
    },
    { statementTimeoutMs: 120_000 },
  );
}

async function ensurePublication(
  client: Client,
  name: string,
  schema: string,
  table: string,
  existing: ObservedPublication[],
  actions: string[],
): Promise<PrepareSourceResult['publications'][number]> {
  const qualified = `${schema}.${table}`;
  const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const pub = existing.find((p) => p.name === name);
  if (!pub) {
    await query(client, `create publication ${name}`, `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ONLY ${target}`);
    actions.push(`Created publication ${name} for ${qualified}.`);
    return { name, table, status: 'created' };
  }
  const exact =
    !pub.allTables &&
    pub.tables.length === 1 &&
    pub.tables[0] === qualified &&
    pub.schemas.length === 0 &&
    pub.rowFiltered.length === 0 &&
    pub.columnLists.length === 0;
  const actionsOk = pub.publishes.insert && pub.publishes.update && pub.publishes.delete;
  if (exact && actionsOk) return { name, table, status: 'unchanged' };

  const before = pub.allTables ? ['ALL TABLES'] : [...pub.tables, ...pub.schemas.map((s) => `TABLES IN SCHEMA ${s}`)];
  if (pub.allTables) {
    // FOR ALL TABLES cannot be altered into a table list: replace it in this same transaction.
    await query(client, `drop publication ${name}`, `DROP PUBLICATION ${quoteIdent(name)}`);
    await query(client, `create publication ${name}`, `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ONLY ${target}`);
  } else if (!exact) {
    // SET replaces every table and schema member (and drops row filters / column lists).
    await query(client, `set publication ${name} to ${qualified}`, `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ONLY ${target}`);
  }
  if (!pub.allTables && !actionsOk) {
    await query(client, `set publication ${name} actions`, `ALTER PUBLICATION ${quoteIdent(name)} SET (publish = 'insert, update, delete, truncate')`);
  }
  const filters = [...pub.rowFiltered.map((t) => `a row filter on ${t}`), ...pub.columnLists.map((t) => `a column list on ${t}`)];
  const was = [
    `held ${before.length ? before.join(', ') : 'no table'}`,
    ...filters,
    ...(actionsOk ? [] : ['did not publish every insert, update and delete']),
  ];
  actions.push(`Corrected publication ${name} to exactly ${qualified} (it ${was.join('; ')}).`);
  return { name, table, status: 'corrected', previousTables: before };
}

async function ensureSlot(
  client: Client,
  name: string,
  result: PrepareSourceResult,
): Promise<PrepareSourceResult['slots'][number]> {
  const database = (await query<{ db: string }>(client, 'read current database', 'SELECT current_database() AS db')).rows[0].db;
  const existing = (await observeSlots(client, [name]))[0];
  if (existing) {
    if (existing.slotType !== 'logical' || existing.plugin !== 'pgoutput' || existing.database !== database) {
      throw new SourceStateError(
        'slot-conflict',
        `replication slot ${name} already exists as a ${existing.slotType} slot with plugin ${existing.plugin ?? 'none'} in database ${existing.database ?? '-'}, ` +
          `but the pipeline needs a logical pgoutput slot in ${database}; gridflow never drops a slot it did not create: ` +
          `if nothing uses it, drop it by hand (SELECT pg_drop_replication_slot('${name}')) and prepare again`,
      );
    }
    if (existing.walStatus === 'lost') {
      result.warnings.push(`Replication slot ${name} exists but has lost WAL (wal_status = lost): the pipeline cannot resume from it; drop the pipeline's source artifacts and redeploy from a snapshot.`);
    }
    return { name, status: 'existing', restartLsn: existing.restartLsn, walStatus: existing.walStatus };
  }
  try {
    await query(client, `create replication slot ${name}`, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
  } catch (err) {
    // Another prepare created it between our look and our create: that is the same outcome.
    if (!isPostgresError(err, 'duplicate-object')) throw err;
    const raced = (await observeSlots(client, [name]))[0];
    return { name, status: 'existing', restartLsn: raced?.restartLsn ?? null, walStatus: raced?.walStatus ?? null };
  }
  const created = (await observeSlots(client, [name]))[0];
  result.actions.push(`Created logical replication slot ${name} (pgoutput) at ${created?.restartLsn ?? 'unknown LSN'}.`);
  return { name, status: 'created', restartLsn: created?.restartLsn ?? null, walStatus: created?.walStatus ?? null };
}

/**
 * The slot and publication of a table this version no longer captures (RETIRED_CAPTURED_TABLES): left
 * alone, the slot would pin WAL forever. Dropped when inactive; while an old ingest job still reads it,
 * a warning (the next prepare drops it).
 */
async function retireArtifacts(client: Client, pipeline: string, result: PrepareSourceResult): Promise<void> {
  const names = RETIRED_CAPTURED_TABLES.map((t) => artifactName(pipeline, t));
  for (const slot of await observeSlots(client, names)) {
    if (slot.active) {
      result.warnings.push(`Replication slot ${slot.name} is no longer used by this version but is still read by PID ${slot.activePid}; it is dropped by the next deploy once that job has stopped.`);
      continue;
    }
    try {
      await query(client, `drop retired replication slot ${slot.name}`, 'SELECT pg_drop_replication_slot($1)', [slot.name]);
      result.actions.push(`Dropped replication slot ${slot.name}: this version no longer captures its table.`);
    } catch (err) {
      if (!isPostgresError(err, 'undefined-object') && !isPostgresError(err, 'object-in-use')) throw err;
    }
  }
  for (const pub of await observePublications(client, names)) {
    await query(client, `drop retired publication ${pub.name}`, `DROP PUBLICATION IF EXISTS ${quoteIdent(pub.name)}`);
    result.actions.push(`Dropped publication ${pub.name}: this version no longer captures its table.`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Drop
// ---------------------------------------------------------------------------------------------------

interface DropSourceResult {
  droppedSlots: string[];
  droppedPublications: string[];
}

/**
 * Remove a pipeline's slots and publications (exact names only: never another pipeline's). Idempotent.
 * Refuses, dropping nothing, while any of its slots is active: a job is still reading it.
 */
export async function dropSourceArtifacts(
  adminConn: PgConnection,
  target: ReplicationTarget & { waitInactiveMs?: number; onWait?: (active: string[]) => void },
): Promise<DropSourceResult> {
  const tables = target.tables ?? [...CAPTURED_TABLES, ...RETIRED_CAPTURED_TABLES];
  const names = tables.map((t) => artifactName(target.pipeline, t));
  return withClient(adminConn, async (client) => {
    let slots = await observeSlots(client, names);
    // A walsender outlives the job that read it by a moment: wait for it (decommission right after a stop).
    for (const until = Date.now() + (target.waitInactiveMs ?? 0); slots.some((s) => s.active) && Date.now() < until; ) {
      target.onWait?.(slots.filter((s) => s.active).map((s) => s.name));
      await new Promise((r) => setTimeout(r, 500));
      slots = await observeSlots(client, names);
    }
    const active = slots.filter((s) => s.active);
    if (active.length > 0) {
      throw activeSlotError(target.pipeline, active.map((s) => ({ name: s.name, pid: s.activePid })));
    }
    const droppedSlots: string[] = [];
    for (const slot of slots) {
      try {
        await query(client, `drop replication slot ${slot.name}`, 'SELECT pg_drop_replication_slot($1)', [slot.name]);
        droppedSlots.push(slot.name);
      } catch (err) {
        if (isPostgresError(err, 'undefined-object')) continue; // dropped meanwhile: same outcome
        if (isPostgresError(err, 'object-in-use')) {
          throw activeSlotError(target.pipeline, [{ name: slot.name, pid: null }], droppedSlots);
        }
        throw err;
      }
    }
    const pubs = await observePublications(client, names);
    const droppedPublications: string[] = [];
    for (const pub of pubs) {
      await query(client, `drop publication ${pub.name}`, `DROP PUBLICATION IF EXISTS ${quoteIdent(pub.name)}`);
      droppedPublications.push(pub.name);
    }
    return { droppedSlots, droppedPublications };
  });
}

function activeSlotError(pipeline: string, slots: Array<{ name: string; pid: number | null }>, dropped: string[] = []): SourceStateError {
  const list = slots.map((s) => (s.pid ? `${s.name} (read by PID ${s.pid})` : s.name)).join(', ');
  const already = dropped.length ? ` (already dropped: ${dropped.join(', ')})` : ' (nothing was dropped)';
  return new SourceStateError(
    'slot-active',
    `refusing to drop the source artifacts of pipeline ${pipeline}: replication slot ${list} is active, a job is still reading it; ` +
      `stop the pipeline's ingest job first${already}`,
  );
}
