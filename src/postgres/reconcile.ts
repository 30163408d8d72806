/**
 * The data contract check (shared/PIPELINE.md): each sink table against the contract evaluated on the
 * source (sql/contract/<table>.sql), row for row, matched by primary key, with the contract's tolerances.
 *
 * WAREHOUSE_TABLES below is the one description of the six tables (key, compared columns, kind of each):
 * the readers select exactly those columns, the comparator compares exactly those. `updated_at` is not in
 * it, so it is never compared.
 */
import { Client } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { ident, inTransaction, query, readSqlFile, withClient } from './client';

/**
 * How a column is compared:
 * - text, int, boolean: exactly (ints as integers: 10 equals '10');
 * - decimal: within 0.01; ratio: within 0.0001; timestamp: within 1 ms;
 * - NULL equals only NULL.
 */
export type ColumnKind = 'text' | 'int' | 'decimal' | 'ratio' | 'timestamp' | 'boolean';

export interface TableDescription {
  name: WarehouseTable;
  /** The primary key columns (also in `columns`). */
  key: readonly string[];
  /** Compared columns in contract order: name → kind. */
  columns: ReadonlyArray<readonly [string, ColumnKind]>;
}

export const WAREHOUSE_TABLE_NAMES = [
  'dws_equipment_type_stats',
  'dws_region_stats',
  'dws_voltage_level_stats',
  'ads_equipment_health',
  'ads_capacity_planning',
  'ads_grid_dashboard',
] as const;
export type WarehouseTable = (typeof WAREHOUSE_TABLE_NAMES)[number];

export const WAREHOUSE_TABLES: Readonly<Record<WarehouseTable, TableDescription>> = {
  dws_equipment_type_stats: {
    name: 'dws_equipment_type_stats',
    key: ['equipment_type'],
    columns: [
      ['equipment_type', 'text'],
      ['equipment_count', 'int'],
      ['running_count', 'int'],
      ['total_capacity_mw', 'decimal'],
      ['avg_capacity_mw', 'decimal'],
    ],
  },
  dws_region_stats: {
    name: 'dws_region_stats',
    key: ['region'],
    columns: [
      ['region', 'text'],
      ['equipment_count', 'int'],
      ['running_count', 'int'],
      ['maintenance_count', 'int'],
      ['outage_count', 'int'],
      ['total_capacity_mw', 'decimal'],
    ],
  },
  dws_voltage_level_stats: {
    name: 'dws_voltage_level_stats',
    key: ['voltage_level_kv'],
    columns: [
      ['voltage_level_kv', 'int'],
      ['equipment_count', 'int'],
      ['total_capacity_mw', 'decimal'],
      ['avg_capacity_mw', 'decimal'],
    ],
  },
  ads_equipment_health: {
    name: 'ads_equipment_health',
    key: ['equipment_id'],
    columns: [
      ['equipment_id', 'text'],
      ['equipment_name', 'text'],
      ['equipment_type', 'text'],
      ['region', 'text'],
      ['status', 'text'],
      ['rated_capacity_mw', 'decimal'],
      ['latest_load_mw', 'decimal'],
      ['latest_temperature_c', 'decimal'],
      ['latest_measured_at', 'timestamp'],
      ['load_ratio', 'ratio'],
      ['health_score', 'int'],
      ['risk_level', 'text'],
    ],
  },
  ads_capacity_planning: {
    name: 'ads_capacity_planning',
    key: ['region'],
    columns: [
      ['region', 'text'],
      ['installed_capacity_mw', 'decimal'],
      ['current_load_mw', 'decimal'],
      ['utilization', 'ratio'],
      ['headroom_mw', 'decimal'],
      ['overload_alert', 'boolean'],
    ],
  },
  ads_grid_dashboard: {
    name: 'ads_grid_dashboard',
    key: ['dashboard_id'],
    columns: [
      ['dashboard_id', 'text'],
      ['equipment_total', 'int'],
      ['running_total', 'int'],
      ['installed_capacity_mw', 'decimal'],
      ['current_load_mw', 'decimal'],
      ['alarm_count', 'int'],
      ['attention_count', 'int'],
    ],
  },
};

/** Tolerances from PIPELINE.md, as exact decimals: |expected − actual| ≤ tolerance passes. */
export const TOLERANCES = { decimal: '0.01', ratio: '0.0001', timestampMicros: 1000 } as const;

/** A row as read: column → value (strings for NUMERIC/BIGINT/timestamps, numbers, booleans, null). */
export type Row = Record<string, unknown>;
export type TableRows = Record<WarehouseTable, Row[]>;

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
  const cols = d.columns.map(([c]) => ident(c)).join(', ');
  const order = d.key.map((c) => `${ident(c)}${d.columns.find(([n]) => n === c)?.[1] === 'text' ? ' COLLATE "C"' : ''}`).join(', ');
  const res = await query(client, `read ${schema}.${table}`, `SELECT ${cols} FROM ${ident(schema)}.${ident(table)} ORDER BY ${order}`);
  return res.rows;
}

// ---------------------------------------------------------------------------------------------------
// Comparison (pure)
// ---------------------------------------------------------------------------------------------------

export const MAX_EXAMPLES = 5;

export interface RowExample {
  key: Record<string, unknown>;
  row: Row;
}

export interface CellDifference {
  key: Record<string, unknown>;
  column: string;
  expected: unknown;
  actual: unknown;
}

export interface TableComparison {
  table: WarehouseTable;
  ok: boolean;
  expectedCount: number;
  actualCount: number;
  /** Rows the contract has and the sink lacks. */
  missing: { count: number; examples: RowExample[] };
  /** Rows the sink has and the contract does not (including duplicate keys). */
  extra: { count: number; examples: RowExample[] };
  /** Rows present on both sides with at least one column outside tolerance; examples are cells. */
  different: { count: number; cells: number; columns: Record<string, number>; examples: CellDifference[] };
}

/**
 * Compare one table. Pure and deterministic: examples are the first (by key, byte order) at most
 * MAX_EXAMPLES of each kind.
 */
export function compareTable(table: WarehouseTable, expectedRows: readonly Row[], actualRows: readonly Row[]): TableComparison {
  const d = WAREHOUSE_TABLES[table];
  if (!d) throw new Error(`unknown warehouse table ${JSON.stringify(table)}`);
  const keyKinds = d.key.map((k) => [k, d.columns.find(([c]) => c === k)![1]] as const);
  const keyOf = (row: Row) => JSON.stringify(keyKinds.map(([k, kind]) => canonicalKey(row[k], kind)));
  const keyObject = (row: Row) => Object.fromEntries(d.key.map((k) => [k, row[k]]));

  const index = (rows: readonly Row[]) => {
    const map = new Map<string, Row>();
    const duplicates: Row[] = [];
    for (const row of rows) {
      const k = keyOf(row);
      if (map.has(k)) duplicates.push(row);
      else map.set(k, row);
    }
    return { map, duplicates };
  };
  const expected = index(expectedRows);
  const actual = index(actualRows);
  const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

  const missingKeys = [...expected.map.keys()].filter((k) => !actual.map.has(k)).sort(byKey);
  const missingRows = [...missingKeys.map((k) => expected.map.get(k)!), ...expected.duplicates];
  const extraKeys = [...actual.map.keys()].filter((k) => !expected.map.has(k)).sort(byKey);
  const extraRows = [...extraKeys.map((k) => actual.map.get(k)!), ...actual.duplicates];

  let differentRows = 0;
  let cells = 0;
  const columns: Record<string, number> = {};
  const examples: CellDifference[] = [];
  const shared = [...expected.map.keys()].filter((k) => actual.map.has(k)).sort(byKey);
  for (const k of shared) {
    const e = expected.map.get(k)!;
    const a = actual.map.get(k)!;
    let rowDiffers = false;
    for (const [column, kind] of d.columns) {
      if (valuesEqual(kind, e[column], a[column])) continue;
      rowDiffers = true;
      cells++;
      columns[column] = (columns[column] ?? 0) + 1;
      if (examples.length < MAX_EXAMPLES) examples.push({ key: keyObject(e), column, expected: e[column] ?? null, actual: a[column] ?? null });
    }
    if (rowDiffers) differentRows++;
  }

  const rowExamples = (rows: Row[]) => rows.slice(0, MAX_EXAMPLES).map((row) => ({ key: keyObject(row), row: pick(row, d) }));
  return {
    table,
    ok: missingRows.length === 0 && extraRows.length === 0 && differentRows === 0,
    expectedCount: expectedRows.length,
    actualCount: actualRows.length,
    missing: { count: missingRows.length, examples: rowExamples(missingRows) },
    extra: { count: extraRows.length, examples: rowExamples(extraRows) },
    different: { count: differentRows, cells, columns, examples },
  };
}

/** Only the described columns (never updated_at), NULL for absent ones. */
function pick(row: Row, d: TableDescription): Row {
  return Object.fromEntries(d.columns.map(([c]) => [c, row[c] ?? null]));
}

function canonicalKey(value: unknown, kind: ColumnKind): string | null {
  if (value === null || value === undefined) return null;
  if (kind === 'int') {
    const n = toBigInt(value);
    if (n !== undefined) return n.toString();
  }
  return String(value);
}

/** Equality of one cell under the column's kind. Exported for tests. */
export function valuesEqual(kind: ColumnKind, expected: unknown, actual: unknown): boolean {
  const eNull = expected === null || expected === undefined;
  const aNull = actual === null || actual === undefined;
  if (eNull || aNull) return eNull && aNull;
  switch (kind) {
    case 'text':
      return typeof expected === 'string' && typeof actual === 'string' ? expected === actual : String(expected) === String(actual);
    case 'boolean': {
      const e = toBoolean(expected);
      const a = toBoolean(actual);
      return e !== undefined && e === a;
    }
    case 'int': {
      const e = toBigInt(expected);
      const a = toBigInt(actual);
      return e !== undefined && a !== undefined && e === a;
    }
    case 'decimal':
    case 'ratio': {
      const e = parseDecimal(expected);
      const a = parseDecimal(actual);
      if (!e || !a) return String(expected) === String(actual);
      return withinTolerance(e, a, parseDecimal(kind === 'decimal' ? TOLERANCES.decimal : TOLERANCES.ratio)!);
    }
    case 'timestamp': {
      const e = toEpochMicros(expected);
      const a = toEpochMicros(actual);
      if (e === undefined || a === undefined) return String(expected) === String(actual);
      const diff = e > a ? e - a : a - e;
      return diff <= BigInt(TOLERANCES.timestampMicros);
    }
  }
}

function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 't' || v === 'true') return true;
  if (v === 'f' || v === 'false') return false;
  return undefined;
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return BigInt(v.trim());
  return undefined;
}

/** A decimal as an exact scaled integer: value = digits × 10^-scale. */
interface Decimal {
  digits: bigint;
  scale: number;
}

/** Parse '12.50', '-0.0001', '1e-7', 12.5 exactly (numbers through their shortest decimal text). */
export function parseDecimal(v: unknown): Decimal | undefined {
  let text: string;
  if (typeof v === 'string') text = v.trim();
  else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
  else if (typeof v === 'bigint') text = v.toString();
  else return undefined;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const fraction = m[3] ?? '';
  let digits = BigInt(`${m[2] || '0'}${fraction}`);
  let scale = fraction.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: m[1] === '-' ? -digits : digits, scale };
}

function withinTolerance(a: Decimal, b: Decimal, tolerance: Decimal): boolean {
  const scale = Math.max(a.scale, b.scale, tolerance.scale);
  const at = (d: Decimal) => d.digits * 10n ** BigInt(scale - d.scale);
  const diff = at(a) - at(b);
  return (diff < 0n ? -diff : diff) <= at(tolerance);
}

/**
 * Microseconds since the epoch from what Postgres sends ('2026-01-01 08:05:00.123456+00', any offset),
 * ISO text ('2026-01-01T00:05:00.123Z') or a Date. Exact to the microsecond.
 */
export function toEpochMicros(v: unknown): bigint | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * 1000n;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?$/i.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  const micros = BigInt(ms) * 1000n + BigInt((frac + '000000').slice(0, 6));
  let offsetSeconds = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(zone)!;
    offsetSeconds = (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60 + Number(z[4] ?? 0)) * (z[1] === '-' ? -1 : 1);
  }
  return micros - BigInt(offsetSeconds) * 1_000_000n;
}

export interface Reconciliation {
  ok: boolean;
  tables: TableComparison[];
}

/** Compare all six tables from rows already read. Pure. */
export function compareRows(expected: TableRows, actual: TableRows): Reconciliation {
  const tables = WAREHOUSE_TABLE_NAMES.map((t) => compareTable(t, expected[t] ?? [], actual[t] ?? []));
  return { ok: tables.every((t) => t.ok), tables };
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

/** One line per table, for logs and events: "ads_equipment_health: 2 different (load_ratio 2), 1 missing". */
export function summarize(result: Reconciliation): string {
  return result.tables
    .map((t) => {
      if (t.ok) return `${t.table}: ok (${t.actualCount} rows)`;
      const parts: string[] = [];
      if (t.missing.count) parts.push(`${t.missing.count} missing`);
      if (t.extra.count) parts.push(`${t.extra.count} extra`);
      if (t.different.count) {
        const cols = Object.entries(t.different.columns).map(([c, n]) => `${c} ${n}`).join(', ');
        parts.push(`${t.different.count} different (${cols})`);
      }
      return `${t.table}: ${parts.join(', ')}`;
    })
    .join('\n');
}
