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

async function readSinkTable(client: Client, schema: string, table: WarehouseTable): Promise<Row[]> {
  const d = WAREHOUSE_TABLES[table];
  const cols = d.columns.map(([c]) => quoteIdent(c)).join(', ');
  const order = d.key.map((c) => `${quoteIdent(c)}${d.columns.find(([n]) => n === c)?.[1] === 'text' ? ' COLLATE "C"' : ''}`).join(', ');
  const res = await query(client, `read ${schema}.${table}`, `SELECT ${cols} FROM ${quoteIdent(schema)}.${quoteIdent(table)} ORDER BY ${order}`);
  return res.rows;
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
