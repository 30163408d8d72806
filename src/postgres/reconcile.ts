/**
 * The data contract check (shared/PIPELINE.md), reading both sides: the contract evaluated on the
 * source (sql/contract/<table>.sql) and the sink's tables, each in one consistent snapshot, compared by
 * compare.ts with the contract's tolerances (warehouse-tables.ts).
 */
import { Client } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { readSqlFile } from '../warehouse/files';
import { Reconciliation, compareRows } from './compare';
import { inTransaction, query, quoteIdent, withClient } from './connection';
import { EquipmentInput } from './cut';
import { Row, TableRows, WAREHOUSE_TABLES, WAREHOUSE_TABLE_NAMES, WarehouseTable } from './warehouse-tables';

// ---------------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------------

/** The contract of every table, evaluated on the source in one consistent snapshot. */
export async function readContract(sourceConn: PgConnection): Promise<TableRows> {
  return withClient(
    sourceConn,
    (client) => inTransaction(client, () => readAll((t) => readContractTable(client, t)), 'ISOLATION LEVEL REPEATABLE READ READ ONLY'),
    { statementTimeoutMs: 120_000 },
  );
}

/** The same columns from the sink's tables (schema `dw` by default), in one consistent snapshot. */
export async function readSink(sinkConn: PgConnection, options: { schema?: string } = {}): Promise<TableRows> {
  const schema = options.schema ?? 'dw';
  if (!IDENTIFIER.test(schema)) throw new Error(`schema ${JSON.stringify(schema)} must match ${IDENTIFIER}`);
  return withClient(
    sinkConn,
    (client) => inTransaction(client, () => readAll((t) => readSinkTable(client, schema, t)), 'ISOLATION LEVEL REPEATABLE READ READ ONLY'),
    { statementTimeoutMs: 120_000 },
  );
}

async function readAll(read: (t: WarehouseTable) => Promise<Row[]>): Promise<TableRows> {
  const out = {} as TableRows;
  for (const table of WAREHOUSE_TABLE_NAMES) out[table] = await read(table);
  return out;
}

async function readContractTable(client: Client, table: WarehouseTable): Promise<Row[]> {
  const res = await query(client, `evaluate sql/contract/${table}.sql`, readSqlFile(`contract/${table}.sql`));
  const expected = WAREHOUSE_TABLES[table].columns.map(([c]) => c);
  const got = res.fields.map((f) => f.name);
  if (got.join(',') !== expected.join(',')) {
    throw new Error(
      `sql/contract/${table}.sql returns columns (${got.join(', ')}) but the table description expects (${expected.join(', ')}): ` +
        'update WAREHOUSE_TABLES in src/postgres/reconcile.ts together with the contract',
    );
  }
  return res.rows;
}

async function readSinkTable(client: Client, schema: string, table: WarehouseTable, stamped = false): Promise<Row[]> {
  const d = WAREHOUSE_TABLES[table];
  const cols = [...d.columns.map(([c]) => quoteIdent(c)), ...(stamped ? ['updated_at'] : [])].join(', ');
  const order = d.key.map((c) => `${quoteIdent(c)}${d.columns.find(([n]) => n === c)?.[1] === 'text' ? ' COLLATE "C"' : ''}`).join(', ');
  const res = await query(client, `read ${schema}.${table}`, `SELECT ${cols} FROM ${quoteIdent(schema)}.${quoteIdent(table)} ORDER BY ${order}`);
  return res.rows;
}

// ---------------------------------------------------------------------------------------------------
// The cut (verification on a source that keeps changing; src/postgres/cut.ts says what it is for)
// ---------------------------------------------------------------------------------------------------

const SNAPSHOT = 'ISOLATION LEVEL REPEATABLE READ READ ONLY';

interface SourceCut {
  /** The contract at snapshot A. */
  expected: TableRows;
  /** Every equipment's inputs at A and at B (sql/contract/inputs.sql). */
  before: EquipmentInput[];
  after: EquipmentInput[];
  /** The sink's tables, read after A and before B, each row with its updated_at. */
  actual: TableRows;
  /** A's time on the sink's clock (the clock of updated_at), epoch ms. */
  sinkAt: number;
  /** From snapshot A to snapshot B, ms (this process's clock): how long a quiet key's inputs held still. */
  cutMs: number;
  /** The whole read, ms. */
  readMs: number;
}

async function readInputs(client: Client): Promise<EquipmentInput[]> {
  return (await query<EquipmentInput>(client, 'evaluate sql/contract/inputs.sql', readSqlFile('contract/inputs.sql'))).rows;
}

/**
 * One cut: source snapshot A, then the sink (with updated_at), then source snapshot B. A repeatable-read
 * transaction's snapshot is taken by its first statement, so each source side opens its snapshot at
 * once and evaluates the contract and the inputs afterwards, on the snapshot it holds: the time
 * between A and B is only the sink's read, however long the contract takes.
 */
export async function readCut(
  sourceConn: PgConnection,
  sinkConn: PgConnection,
  options: { sinkSchema?: string; now?: () => number } = {},
): Promise<SourceCut> {
  const now = options.now ?? Date.now;
  const schema = options.sinkSchema ?? 'dw';
  if (!IDENTIFIER.test(schema)) throw new Error(`schema ${JSON.stringify(schema)} must match ${IDENTIFIER}`);
  const opts = { statementTimeoutMs: 120_000 };
  const began = now();
  return withClient(
    sourceConn,
    (a) =>
      inTransaction(
        a,
        async () => {
          await query(a, 'take source snapshot A', 'SELECT pg_current_snapshot()::text');
          const atA = now();
          const sink = await withClient(
            sinkConn,
            (s) =>
              inTransaction(
                s,
                async () => {
                  // The sink's snapshot and clock, in one statement: the rows below are as of this instant.
                  const clock = await query<{ now: number }>(s, 'read the sink clock', 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now');
                  const atR = now();
                  const rows = await readAll((t) => readSinkTable(s, schema, t, true));
                  return { rows, sinkAt: Number(clock.rows[0].now) - Math.max(0, atR - atA) };
                },
                SNAPSHOT,
              ),
            opts,
          );
          return withClient(
            sourceConn,
            (b) =>
              inTransaction(
                b,
                async () => {
                  await query(b, 'take source snapshot B', 'SELECT pg_current_snapshot()::text');
                  const cutMs = now() - atA;
                  // Both snapshots at once (one statement at a time on each client).
                  const [after, [expected, before]] = await Promise.all([
                    readInputs(b),
                    (async () => [await readAll((t) => readContractTable(a, t)), await readInputs(a)] as const)(),
                  ]);
                  return { expected, before, after, actual: sink.rows, sinkAt: sink.sinkAt, cutMs, readMs: now() - began };
                },
                SNAPSHOT,
              ),
            opts,
          );
        },
        SNAPSHOT,
      ),
    opts,
  );
}

/** Read the contract on the source and the sink tables, compare all six. */
export async function compareAll(
  sourceConn: PgConnection,
  sinkConn: PgConnection,
  options: { sinkSchema?: string } = {},
): Promise<Reconciliation> {
  const expected = await readContract(sourceConn);
  const actual = await readSink(sinkConn, { schema: options.sinkSchema });
  return compareRows(expected, actual);
}
