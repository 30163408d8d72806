/**
 * Preflight: `gatherSourceFacts` (read-only, inside a READ ONLY transaction) + `judgeSource` (pure):
 * every problem is one sentence naming the problem and its fix. Changes nothing.
 *
 * Longer than most files (~400 lines) on purpose: each fact gathered sits beside the rule that judges
 * it, so adding a check touches one place; the judging half is pure and unit-tested without a database.
 */
import { Client } from 'pg';
import { z } from 'zod';
import { PgConnection } from '../../config';
import { inTransaction, parseRows, query, withClient } from '../connection';
import { CHANGELOG_MODE, artifactName, checkIdentifier } from './names';

// ---------------------------------------------------------------------------------------------------
// Preflight: gather facts (read-only), judge them (pure)
// ---------------------------------------------------------------------------------------------------

interface SourcePreflightInput {
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

type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

interface TableFacts {
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

interface PreflightProblem {
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
    | 'cdc-select'
    | 'cdc-superuser'
    | 'cdc-owner';
  /** One sentence: the problem, then the fix. */
  message: string;
  /** prepareSource fixes this one by itself (REPLICA IDENTITY, grants). */
  fixedByPrepare: boolean;
}

interface PreflightResult {
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
    // Least privilege: the CDC role's password travels inside the job SQL to Flink, whose REST API has
    // no authentication. It must not be able to do more than stream and read the captured tables.
    if (facts.cdc.superuser) {
      add(
        'cdc-superuser',
        `Role ${role} is a superuser; the CDC connection's password goes to Flink inside the job SQL, so it must hold REPLICATION, CONNECT and SELECT on the captured tables and nothing more: ` +
          `create a dedicated role (CREATE ROLE gridflow_cdc LOGIN REPLICATION PASSWORD '<secret>') and name its connection as source.cdcConnection.`,
      );
    }
    const owned = facts.tables.filter((t) => t.exists && t.owner === role).map((t) => `${input.schema}.${t.table}`);
    if (owned.length) {
      add(
        'cdc-owner',
        `Role ${role} owns ${owned.join(', ')}: as the CDC connection it could alter or drop them from inside Flink; use a role with only REPLICATION, CONNECT and SELECT (not source.connection's) as source.cdcConnection.`,
      );
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
