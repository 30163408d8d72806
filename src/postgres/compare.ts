/**
 * The contract check's comparator, the one that keys rows and compares cells (pure): every differing
 * cell of a table (`differingCells`), a table's comparison from its cells (`compareTable`), all six
 * tables (`compareRows`), and, for verification on a source that is never quiet, only the
 * differences that persist from one attempt to the next (`compareTracked`).
 *
 * Why persisting differences: every comparison of the sink with the contract on a busy source finds
 * the changes still in flight (measured: 136–271 rows at 200 changes/s), so "retry a few times" alone
 * never reaches a verdict. A real difference — a corrupted row, a lost delete, a wrong formula on a
 * quiet group — is the same cell with the same two values in every attempt; one in flight changes or
 * vanishes. So each cell carries a fingerprint, the next attempt is told which fingerprints have
 * persisted so far, and only cells seen identically in every attempt are reported (the others are
 * counted as `moving`).
 */
import { createHash } from 'node:crypto';
import { Row, TableRows, WAREHOUSE_TABLES, WAREHOUSE_TABLE_NAMES, WarehouseTable, valuesEqual } from './warehouse-tables';

export const MAX_EXAMPLES = 5;

interface RowExample {
  key: Record<string, unknown>;
  row: Row;
}

interface CellDifference {
  key: Record<string, unknown>;
  column: string;
  expected: unknown;
  actual: unknown;
}

interface TableComparison {
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

/** Fingerprints carried from one attempt to the next (through workflow history): at most this many. */
export const MAX_TRACKED = 1000;

export interface DiffCell {
  /** Identifies (table, key, kind, column, expected, actual): equal in two attempts = the same difference. */
  fp: string;
  kind: 'missing' | 'extra' | 'different';
  /** Canonical key text, for ordering. */
  order: string;
  key: Record<string, unknown>;
  column?: string;
  expected?: unknown;
  actual?: unknown;
  /** The compared columns of a missing or extra row. */
  row?: Row;
}

/** One table: the differences that persisted (all of them when nothing is tracked yet) + how many moved. */
export interface TrackedComparison extends TableComparison {
  /** Differing cells (or rows) of this attempt that did not persist from the earlier ones. */
  moving: number;
}

export const fingerprint = (parts: unknown[]) => createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 16);

function canonical(value: unknown, kind: string): string | null {
  if (value === null || value === undefined) return null;
  if (kind === 'int' && (typeof value === 'number' || typeof value === 'string') && /^[+-]?\d+$/.test(String(value).trim())) {
    return BigInt(String(value).trim()).toString();
  }
  return String(value);
}

/** A row's key as canonical text (ints as integers): equal keys, equal text. What rows are matched by. */
export function keyText(table: WarehouseTable, row: Row): string {
  const d = WAREHOUSE_TABLES[table];
  if (!d) throw new Error(`unknown warehouse table ${JSON.stringify(table)}`);
  return JSON.stringify(d.key.map((k) => canonical(row[k], d.columns.find(([n]) => n === k)![1])));
}

/** Every differing cell of one table (missing and extra rows count as one each), ordered by key then column. */
export function differingCells(table: WarehouseTable, expectedRows: readonly Row[], actualRows: readonly Row[]): DiffCell[] {
  const d = WAREHOUSE_TABLES[table];
  if (!d) throw new Error(`unknown warehouse table ${JSON.stringify(table)}`);
  const order = (row: Row) => keyText(table, row);
  const keyObject = (row: Row) => Object.fromEntries(d.key.map((k) => [k, row[k] ?? null]));
  const pick = (row: Row) => Object.fromEntries(d.columns.map(([c]) => [c, row[c] ?? null]));
  const index = (rows: readonly Row[]) => {
    const map = new Map<string, Row>();
    const duplicates: Row[] = [];
    for (const row of rows) {
      const k = order(row);
      if (map.has(k)) duplicates.push(row);
      else map.set(k, row);
    }
    return { map, duplicates };
  };
  const expected = index(expectedRows);
  const actual = index(actualRows);
  const cells: DiffCell[] = [];
  const rowCell = (kind: 'missing' | 'extra', row: Row, nth = 0): DiffCell => {
    const o = order(row);
    return { fp: fingerprint([table, kind, o, pick(row), nth]), kind, order: o, key: keyObject(row), row: pick(row) };
  };
  for (const [k, row] of expected.map) if (!actual.map.has(k)) cells.push(rowCell('missing', row));
  for (const [k, row] of actual.map) if (!expected.map.has(k)) cells.push(rowCell('extra', row));
  expected.duplicates.forEach((row, i) => cells.push(rowCell('missing', row, i + 1)));
  actual.duplicates.forEach((row, i) => cells.push(rowCell('extra', row, i + 1)));
  for (const [k, e] of expected.map) {
    const a = actual.map.get(k);
    if (!a) continue;
    for (const [column, kind] of d.columns) {
      if (valuesEqual(kind, e[column], a[column])) continue;
      const ev = e[column] ?? null;
      const av = a[column] ?? null;
      const fp = fingerprint([table, 'different', k, column, canonical(ev, kind), canonical(av, kind)]);
      cells.push({ fp, kind: 'different', order: k, key: keyObject(e), column, expected: ev, actual: av });
    }
  }
  const columnIndex = (c?: string) => (c === undefined ? -1 : d.columns.findIndex(([n]) => n === c));
  return cells.sort((x, y) => (x.order < y.order ? -1 : x.order > y.order ? 1 : columnIndex(x.column) - columnIndex(y.column)));
}

/** A table's comparison from its (persisting) cells, in reconcile's shape, plus the moving count. */
export function tableFromCells(table: WarehouseTable, expectedCount: number, actualCount: number, cells: readonly DiffCell[], moving: number): TrackedComparison {
  const missing = cells.filter((c) => c.kind === 'missing');
  const extra = cells.filter((c) => c.kind === 'extra');
  const different = cells.filter((c) => c.kind === 'different');
  const columns: Record<string, number> = {};
  for (const c of different) columns[c.column!] = (columns[c.column!] ?? 0) + 1;
  const rowExamples = (xs: DiffCell[]) => xs.slice(0, MAX_EXAMPLES).map((c) => ({ key: c.key, row: c.row! }));
  return {
    table,
    ok: cells.length === 0,
    expectedCount,
    actualCount,
    missing: { count: missing.length, examples: rowExamples(missing) },
    extra: { count: extra.length, examples: rowExamples(extra) },
    different: {
      count: new Set(different.map((c) => c.order)).size,
      cells: different.length,
      columns,
      examples: different.slice(0, MAX_EXAMPLES).map((c) => ({ key: c.key, column: c.column!, expected: c.expected, actual: c.actual })),
    },
    moving,
  };
}

interface TrackedResult {
  /** This attempt found every table equal to the contract. */
  consistent: boolean;
  /** Per table: the differences that persisted through every attempt so far (all, without `track`). */
  tables: TrackedComparison[];
  /** Fingerprints of those differences, sorted, at most MAX_TRACKED: the next attempt's `track`. */
  track: string[];
  /** Differing cells in this attempt, persisting or not. */
  cells: number;
}

/**
 * Compare all six tables; with `track` (the previous attempt's fingerprints), keep only differences
 * that were also in it. Without `track` every difference counts (a first or only attempt).
 */
export function compareTracked(expected: TableRows, actual: TableRows, track: readonly string[] | null, maxTracked = MAX_TRACKED): TrackedResult {
  const tracked = track ? new Set(track) : null;
  let total = 0;
  const kept: string[] = [];
  const tables = WAREHOUSE_TABLE_NAMES.map((t) => {
    const e = expected[t] ?? [];
    const a = actual[t] ?? [];
    const cells = differingCells(t, e, a);
    total += cells.length;
    const persisting = tracked ? cells.filter((c) => tracked.has(c.fp)) : cells;
    kept.push(...persisting.map((c) => c.fp));
    return tableFromCells(t, e.length, a.length, persisting, cells.length - persisting.length);
  });
  return { consistent: total === 0, tables, track: kept.sort().slice(0, maxTracked), cells: total };
}

/**
 * Compare one table. Pure and deterministic: examples are the first (by key, byte order) at most
 * MAX_EXAMPLES of each kind.
 */
export function compareTable(table: WarehouseTable, expectedRows: readonly Row[], actualRows: readonly Row[]): TableComparison {
  const { moving: _moving, ...comparison } = tableFromCells(table, expectedRows.length, actualRows.length, differingCells(table, expectedRows, actualRows), 0);
  return comparison;
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
