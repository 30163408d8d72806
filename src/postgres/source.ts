/**
 * The CDC source: what gridflow checks, prepares, observes and removes in the source PostgreSQL.
 *
 * - `sourcePreflight` = `gatherSourceFacts` (read-only, inside a READ ONLY transaction) + `judgeSource`
 *   (pure): every problem is one sentence naming the problem and its fix.
 * - `prepareSource`: REPLICA IDENTITY FULL, grants, one publication and one pgoutput slot per captured
 *   table, all idempotent; an existing slot is never dropped or recreated (it holds the pipeline's position).
 * - `inspectReplication` (observe) + `checkReplication` (pure judge).
 * - `dropSourceArtifacts`: removes a pipeline's slots and publications, refusing while a job reads a slot.
 *
 * Names match sql/flink/ingest.sql and sql/source/publication.sql exactly: slot and publication of a
 * captured table are both `gridflow_<pipeline>_<table>`. The CDC sources run with changelog-mode 'all'
 * (sql/flink/ingest.sql), which needs REPLICA IDENTITY FULL on every captured table.
 */
import { Client } from 'pg';
import { z } from 'zod';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { applySqlFile, describeConnection, ident, inTransaction, isPostgresError, query, withClient } from './client';

/** The tables sql/flink/ingest.sql captures, in its order. */
export const CAPTURED_TABLES = ['power_equipment', 'equipment_reading'] as const;

/**
 * Tables earlier versions captured (the freshness probe had a table and slot of its own; it is a
 * reading now). prepareSource drops their slot and publication, so no slot is left pinning WAL.
 */
export const RETIRED_CAPTURED_TABLES = ['gridflow_probe'] as const;

/** changelog-mode of every CDC source in sql/flink/ingest.sql; 'all' needs full before-images. */
export const CHANGELOG_MODE: 'all' | 'upsert' = 'all';

/** Postgres truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;

/** Slot and publication name of one captured table: `gridflow_<pipeline>_<table>` (as in sql/flink/ingest.sql). */
export function artifactName(pipeline: string, table: string): string {
  checkIdentifier('pipeline', pipeline);
  checkIdentifier('table', table);
  const name = `gridflow_${pipeline}_${table}`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new Error(
      `slot/publication name ${name} is longer than ${MAX_NAME_BYTES} bytes and Postgres would truncate it: ` +
        `use a pipeline name of at most ${MAX_NAME_BYTES - 'gridflow__'.length - table.length} characters`,
    );
  }
  return name;
}

function checkIdentifier(field: string, value: string): void {
  if (!IDENTIFIER.test(value)) throw new Error(`${field} ${JSON.stringify(value)} must match ${IDENTIFIER}`);
}

/** A refusal about the state of the source (not a database error): retrying alone cannot help. */
export class SourceStateError extends Error {
  override readonly name = 'SourceStateError';
  readonly transient = false;
  constructor(
    readonly kind: 'not-ready' | 'slot-active' | 'slot-conflict',
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema and sample data
// ---------------------------------------------------------------------------------------------------

/**
 * sql/source/schema.sql: the contract tables, REPLICA IDENTITY FULL. Idempotent.
 *
 * Returns whether it ran the file. Skipped when the three tables already exist with REPLICA IDENTITY FULL:
 * the file would change nothing, but its unconditional ALTER TABLE .. REPLICA IDENTITY takes an ACCESS
 * EXCLUSIVE lock on every run, which on a live source queues every writer behind it (and behind any long
 * snapshot query the CDC source is running).
 */
export async function applySourceSchema(adminConn: PgConnection): Promise<boolean> {
  return withClient(adminConn, async (client) => {
    // Resolved through search_path, exactly where the file's unqualified CREATE TABLEs go.
    const ready = await query<{ n: number }>(
      client,
      'check the source schema',
      `SELECT count(*)::int AS n FROM unnest($1::text[]) AS t(name)
       JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
       WHERE c.relkind = 'r' AND c.relreplident = 'f'`,
      [CAPTURED_TABLES],
    );
    if (ready.rows[0].n === CAPTURED_TABLES.length) return false;
    await applySqlFile(client, 'source/schema.sql');
    return true;
  });
}

/** sql/source/sample.sql: 300 equipment and their readings, deterministic. Idempotent. */
export async function loadSampleData(adminConn: PgConnection): Promise<void> {
  await withClient(adminConn, (client) => applySqlFile(client, 'source/sample.sql'));
}

// ---------------------------------------------------------------------------------------------------
// Preflight: gather facts (read-only), judge them (pure)
// ---------------------------------------------------------------------------------------------------

export interface SourcePreflightInput {
  schema: string;
  tables: readonly string[];
  /** The role the CDC connector logs in as. */
  cdcRole: string;
  /** Replication slots the pipeline needs in total (one per captured table). */
  slotsNeeded: number;
  /** WAL senders the pipeline needs while streaming (one per captured table). */
  sendersNeeded: number;
  /** When given, this pipeline's existing slots (and the senders reading them) count as available. */
  pipeline?: string;
}

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface TableFacts {
  table: string;
  exists: boolean;
  hasPrimaryKey: boolean;
  replicaIdentity: ReplicaIdentity | null;
  owner: string | null;
  cdcCanSelect: boolean;
}

export interface SourceFacts {
  serverVersionNum: number;
  database: string;
  admin: { role: string; superuser: boolean; replication: boolean; canCreateInDatabase: boolean };
  walLevel: string;
  maxReplicationSlots: number;
  /** Every replication slot on the server (any database, any owner). */
  slotsInUse: number;
  /** This pipeline's slots that already exist (they need no new slot). */
  ownSlots: string[];
  maxWalSenders: number;
  /** WAL sender processes running now. */
  sendersInUse: number;
  /** Of those, the ones streaming this pipeline's own slots. */
  ownSenders: number;
  schemaExists: boolean;
  tables: TableFacts[];
  cdc: {
    role: string;
    exists: boolean;
    canLogin: boolean;
    replication: boolean;
    superuser: boolean;
    canConnect: boolean;
    schemaUsage: boolean;
  };
}

export interface PreflightProblem {
  check:
    | 'server-version'
    | 'wal-level'
    | 'replication-slots'
    | 'wal-senders'
    | 'admin-replication'
    | 'admin-create'
    | 'admin-owner'
    | 'schema-missing'
    | 'table-missing'
    | 'primary-key'
    | 'replica-identity'
    | 'cdc-role-missing'
    | 'cdc-login'
    | 'cdc-replication'
    | 'cdc-connect'
    | 'cdc-schema-usage'
    | 'cdc-select';
  /** One sentence: the problem, then the fix. */
  message: string;
  /** prepareSource fixes this one by itself (REPLICA IDENTITY, grants). */
  fixedByPrepare: boolean;
}

export interface PreflightResult {
  /** No problem at all. */
  ok: boolean;
  /** Every problem is one prepareSource fixes: deploying may go on. */
  readyAfterPrepare: boolean;
  facts: SourceFacts;
  problems: PreflightProblem[];
}

const SettingsRow = z.object({
  server_version_num: z.coerce.number().int(),
  database: z.string(),
  admin_role: z.string(),
  admin_superuser: z.boolean(),
  admin_replication: z.boolean(),
  admin_can_create: z.boolean(),
  wal_level: z.string(),
  max_replication_slots: z.coerce.number().int(),
  max_wal_senders: z.coerce.number().int(),
  senders_in_use: z.coerce.number().int(),
  schema_exists: z.boolean(),
});

const SlotUseRow = z.object({ slot_name: z.string(), active_pid: z.number().int().nullable() });

const TableRow = z.object({
  table: z.string(),
  exists: z.boolean(),
  has_pk: z.boolean(),
  relreplident: z.enum(['d', 'n', 'f', 'i']).nullable(),
  owner: z.string().nullable(),
  cdc_select: z.boolean(),
});

const RoleRow = z.object({
  exists: z.boolean(),
  can_login: z.boolean(),
  replication: z.boolean(),
  superuser: z.boolean(),
  can_connect: z.boolean(),
  schema_usage: z.boolean(),
});

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

function parseRows<T>(schema: z.ZodType<T>, rows: unknown[], what: string): T[] {
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`unexpected row ${i} from ${what}: ${issue.path.join('.')}: ${issue.message}`);
    }
    return parsed.data;
  });
}

/** Read every fact preflight judges. Changes nothing (callers run it in a READ ONLY transaction). */
export async function gatherSourceFacts(client: Client, input: SourcePreflightInput): Promise<SourceFacts> {
  checkIdentifier('schema', input.schema);
  checkIdentifier('cdcRole', input.cdcRole);
  input.tables.forEach((t) => checkIdentifier('table', t));
  const ownNames = input.pipeline ? input.tables.map((t) => artifactName(input.pipeline!, t)) : [];

  const settings = parseRows(
    SettingsRow,
    (
      await query(
        client,
        'read server settings',
        `SELECT current_setting('server_version_num') AS server_version_num,
                current_database() AS database,
                r.rolname AS admin_role, r.rolsuper AS admin_superuser, r.rolreplication AS admin_replication,
                has_database_privilege(current_database(), 'CREATE') AS admin_can_create,
                current_setting('wal_level') AS wal_level,
                current_setting('max_replication_slots') AS max_replication_slots,
                current_setting('max_wal_senders') AS max_wal_senders,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender') AS senders_in_use,
                EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists
         FROM pg_roles r WHERE r.rolname = current_user`,
        [input.schema],
      )
    ).rows,
    'server settings',
  )[0];
  if (!settings) throw new Error('cannot read the current role from pg_roles');

  const slots = parseRows(
    SlotUseRow,
    (await query(client, 'list replication slots', 'SELECT slot_name, active_pid FROM pg_replication_slots')).rows,
    'pg_replication_slots',
  );
  const own = slots.filter((s) => ownNames.includes(s.slot_name));

  const role = parseRows(
    RoleRow,
    (
      await query(
        client,
        `read role ${input.cdcRole}`,
        `SELECT r.oid IS NOT NULL AS exists,
                coalesce(r.rolcanlogin, false) AS can_login,
                coalesce(r.rolreplication, false) AS replication,
                coalesce(r.rolsuper, false) AS superuser,
                coalesce(r.oid IS NOT NULL AND has_database_privilege(r.oid, current_database(), 'CONNECT'), false) AS can_connect,
                coalesce(r.oid IS NOT NULL AND n.oid IS NOT NULL AND has_schema_privilege(r.oid, n.oid, 'USAGE'), false) AS schema_usage
         FROM (SELECT 1) AS one
         LEFT JOIN pg_roles r ON r.rolname = $1
         LEFT JOIN pg_namespace n ON n.nspname = $2`,
        [input.cdcRole, input.schema],
      )
    ).rows,
    'pg_roles',
  )[0];

  const tables = parseRows(
    TableRow,
    (
      await query(
        client,
        `read captured tables in ${input.schema}`,
        `SELECT t.name AS table,
                c.oid IS NOT NULL AS exists,
                coalesce(EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'), false) AS has_pk,
                c.relreplident::text AS relreplident,
                pg_get_userbyid(c.relowner) AS owner,
                coalesce(c.oid IS NOT NULL AND r.oid IS NOT NULL AND has_table_privilege(r.oid, c.oid, 'SELECT'), false) AS cdc_select
         FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)
         LEFT JOIN pg_namespace n ON n.nspname = $2
         LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p')
         LEFT JOIN pg_roles r ON r.rolname = $3
         ORDER BY t.ord`,
        [input.tables, input.schema, input.cdcRole],
      )
    ).rows,
    'pg_class',
  );

  return {
    serverVersionNum: settings.server_version_num,
    database: settings.database,
    admin: {
      role: settings.admin_role,
      superuser: settings.admin_superuser,
      replication: settings.admin_replication,
      canCreateInDatabase: settings.admin_can_create,
    },
    walLevel: settings.wal_level,
    maxReplicationSlots: settings.max_replication_slots,
    slotsInUse: slots.length,
    ownSlots: own.map((s) => s.slot_name),
    maxWalSenders: settings.max_wal_senders,
    sendersInUse: settings.senders_in_use,
    ownSenders: own.filter((s) => s.active_pid !== null).length,
    schemaExists: settings.schema_exists,
    tables: tables.map((t) => ({
      table: t.table,
      exists: t.exists,
      hasPrimaryKey: t.has_pk,
      replicaIdentity: t.relreplident ? IDENTITY[t.relreplident] : null,
      owner: t.owner,
      cdcCanSelect: t.cdc_select,
    })),
    cdc: {
      role: input.cdcRole,
      exists: role.exists,
      canLogin: role.can_login,
      replication: role.replication,
      superuser: role.superuser,
      canConnect: role.can_connect,
      schemaUsage: role.schema_usage,
    },
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Judge the facts. Pure: the same facts always give the same sentences. */
export function judgeSource(
  facts: SourceFacts,
  input: Pick<SourcePreflightInput, 'schema' | 'slotsNeeded' | 'sendersNeeded'>,
): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const add = (check: PreflightProblem['check'], message: string, fixedByPrepare = false) =>
    problems.push({ check, message, fixedByPrepare });
  const db = facts.database;
  const role = facts.cdc.role;
  const admin = facts.admin.role;

  if (facts.serverVersionNum < 100000) {
    add('server-version', `PostgreSQL ${facts.serverVersionNum} has no built-in pgoutput decoder: upgrade the source to PostgreSQL 10 or newer.`);
  }
  if (facts.walLevel !== 'logical') {
    add(
      'wal-level',
      `wal_level is '${facts.walLevel}' but CDC needs 'logical': run ALTER SYSTEM SET wal_level = logical as a superuser, then restart PostgreSQL.`,
    );
  }

  const othersSlots = facts.slotsInUse - facts.ownSlots.length;
  const freeSlots = facts.maxReplicationSlots - othersSlots;
  if (freeSlots < input.slotsNeeded) {
    add(
      'replication-slots',
      `Only ${plural(Math.max(freeSlots, 0), 'replication slot')} can be used (max_replication_slots = ${facts.maxReplicationSlots}, ` +
        `${othersSlots} used by others) but the pipeline needs ${input.slotsNeeded}: raise max_replication_slots to at least ` +
        `${othersSlots + input.slotsNeeded} (ALTER SYSTEM SET max_replication_slots = ${othersSlots + input.slotsNeeded}, then restart PostgreSQL) ` +
        `or drop unused slots listed in pg_replication_slots.`,
    );
  }
  const othersSenders = facts.sendersInUse - facts.ownSenders;
  const freeSenders = facts.maxWalSenders - othersSenders;
  if (freeSenders < input.sendersNeeded) {
    add(
      'wal-senders',
      `Only ${plural(Math.max(freeSenders, 0), 'WAL sender')} can be used (max_wal_senders = ${facts.maxWalSenders}, ` +
        `${othersSenders} busy with other clients) but the pipeline streams ${input.sendersNeeded} tables: raise max_wal_senders to at least ` +
        `${othersSenders + input.sendersNeeded} (ALTER SYSTEM SET max_wal_senders = ${othersSenders + input.sendersNeeded}, then restart PostgreSQL).`,
    );
  }

  if (!facts.admin.superuser && !facts.admin.replication) {
    add(
      'admin-replication',
      `The admin role ${admin} cannot create replication slots: run ALTER ROLE ${admin} REPLICATION, or use a source connection whose role has it.`,
    );
  }
  if (!facts.admin.superuser && !facts.admin.canCreateInDatabase) {
    add(
      'admin-create',
      `The admin role ${admin} cannot create publications in database ${db}: run GRANT CREATE ON DATABASE ${db} TO ${admin}.`,
    );
  }

  if (!facts.schemaExists) {
    add(
      'schema-missing',
      `Schema ${input.schema} does not exist in database ${db}: create it with the captured tables (sql/source/schema.sql), or correct source.schema in the pipeline spec.`,
    );
  }
  for (const t of facts.tables) {
    const qualified = `${input.schema}.${t.table}`;
    if (!t.exists) {
      if (facts.schemaExists) {
        add(
          'table-missing',
          `Table ${qualified} does not exist in database ${db}: create it (sql/source/schema.sql, applySourceSchema) or remove it from the captured tables.`,
        );
      }
      continue;
    }
    if (!t.hasPrimaryKey) {
      add(
        'primary-key',
        `Table ${qualified} has no primary key, which the CDC source and its DWD table are keyed by: add one with ALTER TABLE ${qualified} ADD PRIMARY KEY (<key columns>).`,
      );
    }
    if (!facts.admin.superuser && t.owner !== admin) {
      add(
        'admin-owner',
        `Table ${qualified} is owned by ${t.owner}, not by the admin role ${admin}, so gridflow cannot publish it or set its REPLICA IDENTITY: ` +
          `run ALTER TABLE ${qualified} OWNER TO ${admin}, or use the owner's connection as source.connection.`,
      );
    }
    if (CHANGELOG_MODE === 'all' && t.replicaIdentity !== 'full') {
      add(
        'replica-identity',
        `Table ${qualified} has REPLICA IDENTITY ${(t.replicaIdentity ?? 'unknown').toUpperCase()} but the CDC sources run with changelog-mode 'all', ` +
          `which needs full before-images of updates and deletes: run ALTER TABLE ${qualified} REPLICA IDENTITY FULL (prepareSource does this).`,
        true,
      );
    }
    if (facts.cdc.exists && !t.cdcCanSelect) {
      add(
        'cdc-select',
        `Role ${role} cannot SELECT from ${qualified}, which the initial snapshot reads: run GRANT SELECT ON ${qualified} TO ${role} (prepareSource does this).`,
        true,
      );
    }
  }

  if (!facts.cdc.exists) {
    add(
      'cdc-role-missing',
      `Role ${role}, which the CDC connection logs in as, does not exist: create it with CREATE ROLE ${role} LOGIN REPLICATION PASSWORD '<secret>' ` +
        `and store the secret in its connection (GRIDFLOW_PG_<NAME>).`,
    );
  } else {
    if (!facts.cdc.canLogin) {
      add('cdc-login', `Role ${role} cannot log in: run ALTER ROLE ${role} LOGIN.`);
    }
    if (!facts.cdc.replication && !facts.cdc.superuser) {
      add(
        'cdc-replication',
        `Role ${role} lacks the REPLICATION attribute, so it cannot stream changes from a replication slot: run ALTER ROLE ${role} REPLICATION.`,
      );
    }
    if (!facts.cdc.canConnect) {
      add(
        'cdc-connect',
        `Role ${role} has no CONNECT privilege on database ${db}: run GRANT CONNECT ON DATABASE ${db} TO ${role} (prepareSource does this).`,
        true,
      );
    }
    if (facts.schemaExists && !facts.cdc.schemaUsage) {
      add(
        'cdc-schema-usage',
        `Role ${role} has no USAGE privilege on schema ${input.schema}, so it cannot read the captured tables: run GRANT USAGE ON SCHEMA ${input.schema} TO ${role} (prepareSource does this).`,
        true,
      );
    }
  }
  return problems;
}

/** Check that the source can feed the pipeline. Read-only: it runs in a READ ONLY transaction. */
export async function sourcePreflight(adminConn: PgConnection, input: SourcePreflightInput): Promise<PreflightResult> {
  const facts = await withClient(adminConn, (client) =>
    inTransaction(client, () => gatherSourceFacts(client, input), 'ISOLATION LEVEL REPEATABLE READ READ ONLY'),
  );
  const problems = judgeSource(facts, input);
  return { ok: problems.length === 0, readyAfterPrepare: problems.every((p) => p.fixedByPrepare), facts, problems };
}

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

async function observeSlots(client: Client, names: string[]): Promise<ObservedSlot[]> {
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

async function observePublications(client: Client, names: string[]): Promise<ObservedPublication[]> {
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

// ---------------------------------------------------------------------------------------------------
// Prepare
// ---------------------------------------------------------------------------------------------------

export interface PrepareSourceInput {
  schema: string;
  tables: readonly string[];
  pipeline: string;
  cdcRole: string;
}

export interface PrepareSourceResult {
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
          await query(client, `grant CONNECT on ${db} to ${cdcRole}`, `GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(cdcRole)}`);
          result.actions.push(`Granted CONNECT on database ${db} to ${cdcRole}.`);
        }
        if (!facts.cdc.schemaUsage) {
          await query(client, `grant USAGE on schema ${schema} to ${cdcRole}`, `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(cdcRole)}`);
          result.actions.push(`Granted USAGE on schema ${schema} to ${cdcRole}.`);
        }
        for (const t of facts.tables) {
          const qualified = `${ident(schema)}.${ident(t.table)}`;
          if (CHANGELOG_MODE === 'all' && t.replicaIdentity !== 'full') {
            await query(client, `set REPLICA IDENTITY FULL on ${schema}.${t.table}`, `ALTER TABLE ${qualified} REPLICA IDENTITY FULL`);
            result.actions.push(`Set REPLICA IDENTITY FULL on ${schema}.${t.table} (was ${(t.replicaIdentity ?? 'unknown').toUpperCase()}).`);
          }
          if (!t.cdcCanSelect) {
            await query(client, `grant SELECT on ${schema}.${t.table} to ${cdcRole}`, `GRANT SELECT ON ${qualified} TO ${ident(cdcRole)}`);
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
  const target = `${ident(schema)}.${ident(table)}`;
  const pub = existing.find((p) => p.name === name);
  if (!pub) {
    await query(client, `create publication ${name}`, `CREATE PUBLICATION ${ident(name)} FOR TABLE ONLY ${target}`);
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
    await query(client, `drop publication ${name}`, `DROP PUBLICATION ${ident(name)}`);
    await query(client, `create publication ${name}`, `CREATE PUBLICATION ${ident(name)} FOR TABLE ONLY ${target}`);
  } else if (!exact) {
    // SET replaces every table and schema member (and drops row filters / column lists).
    await query(client, `set publication ${name} to ${qualified}`, `ALTER PUBLICATION ${ident(name)} SET TABLE ONLY ${target}`);
  }
  if (!pub.allTables && !actionsOk) {
    await query(client, `set publication ${name} actions`, `ALTER PUBLICATION ${ident(name)} SET (publish = 'insert, update, delete, truncate')`);
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
    await query(client, `drop retired publication ${pub.name}`, `DROP PUBLICATION IF EXISTS ${ident(pub.name)}`);
    result.actions.push(`Dropped publication ${pub.name}: this version no longer captures its table.`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Drop
// ---------------------------------------------------------------------------------------------------

export interface DropSourceResult {
  droppedSlots: string[];
  droppedPublications: string[];
}

/**
 * Remove a pipeline's slots and publications (exact names only: never another pipeline's). Idempotent.
 * Refuses, dropping nothing, while any of its slots is active: a job is still reading it.
 */
export async function dropSourceArtifacts(adminConn: PgConnection, target: ReplicationTarget): Promise<DropSourceResult> {
  const tables = target.tables ?? [...CAPTURED_TABLES, ...RETIRED_CAPTURED_TABLES];
  const names = tables.map((t) => artifactName(target.pipeline, t));
  return withClient(adminConn, async (client) => {
    const slots = await observeSlots(client, names);
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
      await query(client, `drop publication ${pub.name}`, `DROP PUBLICATION IF EXISTS ${ident(pub.name)}`);
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
