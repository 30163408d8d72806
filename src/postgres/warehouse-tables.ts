/**
 * The six warehouse tables as the contract check sees them (shared/PIPELINE.md): key, compared columns
 * and the kind of each, and what "equal" means for each kind (the contract's tolerances). The one
 * description: the readers (reconcile.ts) select exactly these columns, the comparator (compare.ts)
 * compares exactly these. `updated_at` is not in it, so it is never compared. Pure.
 */

/**
 * How a column is compared:
 * - text, int, boolean: exactly (ints as integers: 10 equals '10');
 * - decimal: within 0.01; ratio: within 0.0001; timestamp: within 1 ms;
 * - NULL equals only NULL.
 */
type ColumnKind = 'text' | 'int' | 'decimal' | 'ratio' | 'timestamp' | 'boolean';

interface TableDescription {
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
const TOLERANCES = { decimal: '0.01', ratio: '0.0001', timestampMicros: 1000 } as const;

/** A row as read: column → value (strings for NUMERIC/BIGINT/timestamps, numbers, booleans, null). */
export type Row = Record<string, unknown>;
export type TableRows = Record<WarehouseTable, Row[]>;

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
