/**
 * The pipeline's replication slots and publications as they are (`inspectReplication`, read-only) and
 * as they should be (`checkReplication`, pure).
 */
import { Client } from 'pg';
import { z } from 'zod';
import { PgConnection } from '../../config';
import { inTransaction, parseRows, query, withClient } from '../connection';
import { CAPTURED_TABLES, artifactName } from './names';

// ---------------------------------------------------------------------------------------------------
// Observing publications and slots
// ---------------------------------------------------------------------------------------------------

export interface ObservedPublication {
  name: string;
  /** FOR ALL TABLES */
  allTables: boolean;
  publishes: { insert: boolean; update: boolean; delete: boolean; truncate: boolean };
  /** Every table the publication holds, as schema.table, sorted (schema members expanded). */
  tables: string[];
  /** Tables published with a row filter (PostgreSQL 15+): rows outside the filter are never captured. */
  rowFiltered: string[];
  /** Tables published with a column list (PostgreSQL 15+). */
  columnLists: string[];
  /** FOR TABLES IN SCHEMA members (PostgreSQL 15+). */
  schemas: string[];
}

export interface ObservedSlot {
  name: string;
  plugin: string | null;
  slotType: string;
  database: string | null;
  temporary: boolean;
  active: boolean;
  activePid: number | null;
  /** reserved | extended | unreserved | lost (PostgreSQL 13+). */
  walStatus: string | null;
  restartLsn: string | null;
  confirmedFlushLsn: string | null;
  /** pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn): how far the consumer is behind. */
  lagBytes: number | null;
  /** pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn): WAL the server keeps for this slot. */
  retainedBytes: number | null;
}

export interface ObservedReplication {
  pipeline: string;
  /** The database the admin connection observed (publications are per database, slots per server). */
  database: string;
  currentLsn: string;
  /** This pipeline's slots (by exact name), in the order of the captured tables; absent ones are missing. */
  slots: ObservedSlot[];
  /** This pipeline's publications (by exact name); absent ones are missing. */
  publications: ObservedPublication[];
  /**
   * Other slots whose name starts with gridflow_<pipeline>_ but is no captured table's name: leftovers,
   * or another pipeline whose name extends this one (`<pipeline>_x`). Reported, never touched.
   */
  otherSlots: string[];
}

const SlotRow = z.object({
  slot_name: z.string(),
  plugin: z.string().nullable(),
  slot_type: z.string(),
  database: z.string().nullable(),
  temporary: z.boolean(),
  active: z.boolean(),
  active_pid: z.number().int().nullable(),
  wal_status: z.string().nullable(),
  restart_lsn: z.string().nullable(),
  confirmed_flush_lsn: z.string().nullable(),
  lag_bytes: z.string().nullable(),
  retained_bytes: z.string().nullable(),
});

const PublicationRow = z.object({
  pubname: z.string(),
  puballtables: z.boolean(),
  pubinsert: z.boolean(),
  pubupdate: z.boolean(),
  pubdelete: z.boolean(),
  pubtruncate: z.boolean(),
  tables: z.array(z.string()),
  row_filtered: z.array(z.string()),
  column_lists: z.array(z.string()),
  schemas: z.array(z.string()),
});

export async function observeSlots(client: Client, names: string[]): Promise<ObservedSlot[]> {
  const res = await query(
    client,
    'read replication slots',
    `SELECT s.slot_name::text, s.plugin::text, s.slot_type, s.database::text, s.temporary, s.active, s.active_pid,
            s.wal_status, s.restart_lsn::text, s.confirmed_flush_lsn::text,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag_bytes,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::text AS retained_bytes
     FROM pg_replication_slots s
     WHERE s.slot_name = ANY($1::text[])`,
    [names],
  );
  const rows = parseRows(SlotRow, res.rows, 'pg_replication_slots');
  const byName = new Map(rows.map((r) => [r.slot_name, r]));
  const num = (s: string | null) => (s === null ? null : Number(s));
  return names
    .filter((n) => byName.has(n))
    .map((n) => {
      const r = byName.get(n)!;
      return {
        name: r.slot_name,
        plugin: r.plugin,
        slotType: r.slot_type,
        database: r.database,
        temporary: r.temporary,
        active: r.active,
        activePid: r.active_pid,
        walStatus: r.wal_status,
        restartLsn: r.restart_lsn,
        confirmedFlushLsn: r.confirmed_flush_lsn,
        lagBytes: num(r.lag_bytes),
        retainedBytes: num(r.retained_bytes),
      };
    });
}

export async function observePublications(client: Client, names: string[]): Promise<ObservedPublication[]> {
  const version = Number((await query(client, 'read server version', "SELECT current_setting('server_version_num') AS v")).rows[0].v);
  // Row filters, column lists and schema members exist from PostgreSQL 15 on.
  const v15 = version >= 150000;
  const res = await query(
    client,
    'read publications',
    `SELECT p.pubname::text, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate,
            ARRAY(SELECT pt.schemaname || '.' || pt.tablename FROM pg_publication_tables pt
                  WHERE pt.pubname = p.pubname ORDER BY (pt.schemaname || '.' || pt.tablename) COLLATE "C") AS tables,
            ${
              v15
                ? `ARRAY(SELECT pt.schemaname || '.' || pt.tablename FROM pg_publication_tables pt
                         WHERE pt.pubname = p.pubname AND pt.rowfilter IS NOT NULL
                         ORDER BY (pt.schemaname || '.' || pt.tablename) COLLATE "C")`
                : `ARRAY[]::text[]`
            } AS row_filtered,
            ${
              v15
                ? `ARRAY(SELECT n.nspname || '.' || c.relname FROM pg_publication_rel pr
                         JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE pr.prpubid = p.oid AND pr.prattrs IS NOT NULL
                         ORDER BY (n.nspname || '.' || c.relname) COLLATE "C")`
                : `ARRAY[]::text[]`
            } AS column_lists,
            ${
              v15
                ? `ARRAY(SELECT n.nspname::text FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid
                         WHERE pn.pnpubid = p.oid ORDER BY n.nspname::text COLLATE "C")`
                : `ARRAY[]::text[]`
            } AS schemas
     FROM pg_publication p
     WHERE p.pubname = ANY($1::text[])`,
    [names],
  );
  const rows = parseRows(PublicationRow, res.rows, 'pg_publication');
  const byName = new Map(rows.map((r) => [r.pubname, r]));
  return names
    .filter((n) => byName.has(n))
    .map((n) => {
      const r = byName.get(n)!;
      return {
        name: r.pubname,
        allTables: r.puballtables,
        publishes: { insert: r.pubinsert, update: r.pubupdate, delete: r.pubdelete, truncate: r.pubtruncate },
        tables: r.tables,
        rowFiltered: r.row_filtered,
        columnLists: r.column_lists,
        schemas: r.schemas,
      };
    });
}

export interface ReplicationTarget {
  pipeline: string;
  /** Captured tables (default CAPTURED_TABLES). */
  tables?: readonly string[];
}

/** Observe this pipeline's slots and publications. Read-only. */
export async function inspectReplication(adminConn: PgConnection, target: ReplicationTarget): Promise<ObservedReplication> {
  const tables = target.tables ?? CAPTURED_TABLES;
  const names = tables.map((t) => artifactName(target.pipeline, t));
  const prefix = `gridflow_${target.pipeline}_`;
  return withClient(adminConn, (client) =>
    inTransaction(
      client,
      async () => {
        const head = await query<{ database: string; lsn: string }>(
          client,
          'read current WAL position',
          'SELECT current_database() AS database, pg_current_wal_lsn()::text AS lsn',
        );
        const others = await query<{ slot_name: string }>(
          client,
          'list replication slots',
          'SELECT slot_name::text FROM pg_replication_slots WHERE starts_with(slot_name::text, $1) AND NOT (slot_name = ANY($2::text[])) ORDER BY 1',
          [prefix, names],
        );
        return {
          pipeline: target.pipeline,
          database: head.rows[0].database,
          currentLsn: head.rows[0].lsn,
          slots: await observeSlots(client, names),
          publications: await observePublications(client, names),
          otherSlots: others.rows.map((r) => r.slot_name),
        };
      },
      'ISOLATION LEVEL REPEATABLE READ READ ONLY',
    ),
  );
}

export interface ExpectedReplication {
  pipeline: string;
  schema: string;
  tables: readonly string[];
  /** The ingest job should be running, so every slot should be active. */
  expectActive: boolean;
  /** Lag (current WAL − confirmed_flush_lsn) above this is a problem. */
  maxLagBytes: number;
}

/** 256 MiB: far beyond what a healthy pipeline with 10 s checkpoints and heartbeats holds back. */
export const DEFAULT_MAX_LAG_BYTES = 256 * 1024 * 1024;

export interface ReplicationProblem {
  kind:
    | 'slot-missing'
    | 'slot-not-pgoutput'
    | 'slot-wrong-database'
    | 'slot-inactive'
    | 'slot-lost'
    | 'slot-unreserved'
    | 'slot-lag'
    | 'publication-missing'
    | 'publication-missing-table'
    | 'publication-extra-tables'
    | 'publication-actions'
    | 'publication-filter';
  /** The slot or publication. */
  name: string;
  message: string;
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** Compare what inspectReplication saw with what the pipeline needs. Pure. */
export function checkReplication(observed: ObservedReplication, expected: ExpectedReplication): ReplicationProblem[] {
  const problems: ReplicationProblem[] = [];
  const add = (kind: ReplicationProblem['kind'], name: string, message: string) => problems.push({ kind, name, message });
  for (const table of expected.tables) {
    const name = artifactName(expected.pipeline, table);
    const qualified = `${expected.schema}.${table}`;
    const slot = observed.slots.find((s) => s.name === name);
    if (!slot) {
      add('slot-missing', name, `Replication slot ${name} does not exist: run prepareSource before (re)starting the ingest job (a job restored from a savepoint onto a new slot would miss every change since the savepoint).`);
    } else {
      if (slot.plugin !== 'pgoutput' || slot.slotType !== 'logical') {
        add('slot-not-pgoutput', name, `Replication slot ${name} is a ${slot.slotType} slot with plugin ${slot.plugin ?? 'none'}, not a logical pgoutput slot: the CDC source cannot read it; drop it by hand if nothing else uses it, then run prepareSource.`);
      }
      if (slot.database !== null && slot.database !== observed.database) {
        add('slot-wrong-database', name, `Replication slot ${name} belongs to database ${slot.database}, not ${observed.database}: the CDC source cannot read it; drop it there if nothing uses it, then run prepareSource.`);
      }
      if (expected.expectActive && !slot.active) {
        add('slot-inactive', name, `Replication slot ${name} is not being read although the ingest job should be running: check the ingest job (it may be restarting or failing).`);
      }
      if (slot.walStatus === 'lost') {
        add('slot-lost', name, `Replication slot ${name} has lost WAL it needed (wal_status = lost, beyond max_slot_wal_keep_size): changes are gone for good; drop the slot and redeploy the pipeline from a fresh snapshot.`);
      } else if (slot.walStatus === 'unreserved') {
        add('slot-unreserved', name, `Replication slot ${name} is about to lose WAL (wal_status = unreserved): let the ingest job catch up now, or raise max_slot_wal_keep_size.`);
      }
      if (slot.lagBytes !== null && slot.lagBytes > expected.maxLagBytes) {
        add('slot-lag', name, `Replication slot ${name} is ${mib(slot.lagBytes)} behind the current WAL (limit ${mib(expected.maxLagBytes)}): check that the ingest job runs and completes checkpoints (the slot only advances on checkpoints).`);
      }
    }

    const pub = observed.publications.find((p) => p.name === name);
    if (!pub) {
      add('publication-missing', name, `Publication ${name} does not exist, so the CDC source receives nothing for ${qualified}: run prepareSource.`);
      continue;
    }
    if (!pub.tables.includes(qualified)) {
      add('publication-missing-table', name, `Publication ${name} does not hold ${qualified}: run prepareSource to set it to exactly that table.`);
    }
    const extra = pub.tables.filter((t) => t !== qualified);
    if (pub.allTables || extra.length > 0) {
      const what = pub.allTables ? 'is FOR ALL TABLES' : `also holds ${extra.join(', ')}`;
      add('publication-extra-tables', name, `Publication ${name} ${what}, so its slot decodes changes nobody reads: run prepareSource to set it to exactly ${qualified}.`);
    }
    const missingActions = (['insert', 'update', 'delete'] as const).filter((a) => !pub.publishes[a]);
    if (missingActions.length > 0) {
      add('publication-actions', name, `Publication ${name} does not publish ${missingActions.join(', ')}, so those changes never reach the pipeline: run prepareSource.`);
    }
    if (pub.rowFiltered.length > 0 || pub.columnLists.length > 0) {
      add('publication-filter', name, `Publication ${name} filters rows or columns of ${[...pub.rowFiltered, ...pub.columnLists].join(', ')}, so part of the data never reaches the pipeline: run prepareSource.`);
    }
  }
  return problems;
}
