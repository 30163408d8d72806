/**
 * Verification at a consistent cut (pure): which sink rows can be judged while the source keeps
 * changing, and what they are judged against.
 *
 * One attempt reads three things (reconcile.ts `readCut`): source snapshot A, then the sink R, then
 * source snapshot B. From each source snapshot, every equipment's *inputs* — its power_equipment row
 * version (`xmin`) and its latest reading (as the contract defines latest) with that row's version —
 * give each warehouse key a version (`inputVersions`), following the contract's dependencies:
 *
 *   dws_* [group]                  the group's members and their power_equipment row versions
 *   ads_equipment_health [id]      its power_equipment row version, its latest reading and that row's version
 *   ads_capacity_planning [region] the region's members, each with both of the above
 *   ads_grid_dashboard ['grid']    every equipment, each with both
 *
 * A key whose version is the same in A and B (absent in both counts) is *quiet*: its inputs did not
 * change while the sink was read, so the contract's value for it was the same all along (E_A), and the
 * sink's row must equal it. Any other key is *moving*: its sink row may hold any value in between and
 * is not compared — unless it is *stale*: the sink's row is not E_A and was last written
 * (`updated_at`) before A's time − maxFreshness, i.e. the sink has not written a key whose inputs are
 * changing for longer than the freshness limit.
 *
 * Differences found this way are *findings*; the workflow counts one only if it is seen identically in
 * every attempt (`track`, as compare.ts's tracked comparison). A quiet key's finding carries its
 * version in its fingerprint, so a difference persists only while the key's inputs do not change at
 * all: a discrete column flipping back and forth under moving inputs (the same two values in every
 * attempt) is not one difference but several. xmin changes with every new row version, so any insert,
 * update or delete of an input changes a version; the one change a version cannot see is a reading
 * inserted as an equipment's newest and deleted again between A and B (the same latest reading and
 * version in both).
 */
import { createHash } from 'node:crypto';
import { DiffCell, MAX_EXAMPLES, MAX_TRACKED, TrackedComparison, differingCells, fingerprint, keyText, tableFromCells } from './compare';
import { Row, TableRows, WAREHOUSE_TABLES, WAREHOUSE_TABLE_NAMES, WarehouseTable, toEpochMicros, valuesEqual } from './warehouse-tables';

/** One equipment's inputs in a source snapshot (sql/contract/inputs.sql). */
export interface EquipmentInput {
  equipment_id: string;
  equipment_type: string;
  region: string;
  voltage_level_kv: number | string;
  /** The power_equipment row's xmin. */
  pe_xmin: string;
  /** Its latest reading (greatest (measured_at, reading_id)) and that row's xmin; null without one. */
  reading_id: string | null;
  reading_xmin: string | null;
}

/** Per table: key text (compare.ts keyText) → version. A key with no row in the contract has none. */
export type InputVersions = Record<WarehouseTable, Map<string, string>>;

const digest = (lines: string[]) => createHash('sha1').update(lines.sort().join('\n')).digest('hex').slice(0, 20);

/**
 * What each table's keys depend on (the contract's dependencies): the key an equipment counts in, and
 * whether its latest reading counts too. A Record, so a new warehouse table cannot be left out.
 */
const DEPENDS: Readonly<Record<WarehouseTable, { key: (e: EquipmentInput) => Row; readings: boolean }>> = {
  dws_equipment_type_stats: { key: (e) => ({ equipment_type: e.equipment_type }), readings: false },
  dws_region_stats: { key: (e) => ({ region: e.region }), readings: false },
  dws_voltage_level_stats: { key: (e) => ({ voltage_level_kv: e.voltage_level_kv }), readings: false },
  ads_equipment_health: { key: (e) => ({ equipment_id: e.equipment_id }), readings: true },
  ads_capacity_planning: { key: (e) => ({ region: e.region }), readings: true },
  ads_grid_dashboard: { key: () => ({ dashboard_id: 'grid' }), readings: true },
};

/** Each warehouse key's version from one snapshot's inputs: a digest of its members' versions. Pure. */
export function inputVersions(inputs: readonly EquipmentInput[]): InputVersions {
  const versions = {} as InputVersions;
  for (const table of WAREHOUSE_TABLE_NAMES) {
    const { key, readings } = DEPENDS[table];
    const members = new Map<string, string[]>();
    for (const e of inputs) {
      const line = `${e.equipment_id}\u0000${e.pe_xmin}${readings ? `\u0000${e.reading_id ?? ''}\u0000${e.reading_xmin ?? ''}` : ''}`;
      const k = keyText(table, key(e));
      const lines = members.get(k);
      if (lines) lines.push(line);
      else members.set(k, [line]);
    }
    versions[table] = new Map([...members].map(([k, lines]) => [k, digest(lines)]));
  }
  return versions;
}

// ---------------------------------------------------------------------------------------------------

interface StaleExample {
  key: Record<string, unknown>;
  /** The sink's row (compared columns). */
  row: Row;
  /** The contract's row at A (null: none). */
  expected: Row | null;
  /** The sink row's updated_at, as read. */
  updatedAt: string;
  /** How long before A's time it was written, ms. */
  ageMs: number;
}

/** A table's cut comparison: compare.ts's shape (persisting findings only) plus what the cut saw. */
export interface CutTableComparison extends TrackedComparison {
  /** Keys whose inputs were quiet through the cut: compared with the contract. */
  checked: number;
  /** Keys whose inputs moved during the cut: not compared (and not stale). */
  movingKeys: number;
  /** Moving keys the sink had not written for longer than maxFreshness before A (persisting only). */
  stale: { count: number; examples: StaleExample[] };
}

interface CutInput {
  /** The contract at snapshot A (E_A). */
  expected: TableRows;
  /** Versions at A and at B. */
  before: InputVersions;
  after: InputVersions;
  /** The sink's rows, read between A and B, each with its `updated_at`. */
  actual: TableRows;
  /** A's time minus maxFreshness, epoch ms on the sink's clock (updated_at's); null: no stale check. */
  staleBefore: number | null;
  /** A's time, epoch ms on the sink's clock (for the age of a stale row). */
  at: number;
  /** Fingerprints that persisted through every earlier attempt; null: the first attempt. */
  track: readonly string[] | null;
}

export interface CutComparison {
  /** Every key quiet and equal to the contract: the sink equals the contract at the cut. */
  consistent: boolean;
  tables: CutTableComparison[];
  /** Fingerprints of the persisting findings, sorted, at most MAX_TRACKED: the next attempt's `track`. */
  track: string[];
  /** Findings in this attempt, persisting or not. */
  cells: number;
}

interface StaleFinding {
  fp: string;
  order: string;
  example: StaleExample;
}

/** Compare the sink with the contract at the cut, every table. Pure. */
export function compareAtCut(input: CutInput, maxTracked = MAX_TRACKED): CutComparison {
  const tracked = input.track ? new Set(input.track) : null;
  const persists = (fp: string) => tracked === null || tracked.has(fp);
  const kept: string[] = [];
  let findings = 0;
  let moving = 0;
  const tables = WAREHOUSE_TABLE_NAMES.map((table): CutTableComparison => {
    const d = WAREHOUSE_TABLES[table];
    const expected = input.expected[table] ?? [];
    const actual = input.actual[table] ?? [];
    const vA = input.before[table];
    const vB = input.after[table];
    const quiet = (k: string) => vA.get(k) === vB.get(k);
    const expectedByKey = new Map<string, Row>();
    for (const row of expected) if (!expectedByKey.has(keyText(table, row))) expectedByKey.set(keyText(table, row), row);

    const keys = new Set<string>();
    const quietExpected: Row[] = [];
    const quietActual: Row[] = [];
    const stale: StaleFinding[] = [];
    let movingKeys = 0;
    for (const row of expected) {
      const k = keyText(table, row);
      keys.add(k);
      if (quiet(k)) quietExpected.push(row);
    }
    const movingSeen = new Set<string>();
    for (const row of actual) {
      const k = keyText(table, row);
      keys.add(k);
      if (quiet(k)) {
        quietActual.push(row);
        continue;
      }
      if (movingSeen.has(k)) continue;
      movingSeen.add(k);
      const e = expectedByKey.get(k) ?? null;
      const written = toEpochMicros(row.updated_at);
      const equalsA = e !== null && d.columns.every(([c, kind]) => valuesEqual(kind, e[c], row[c]));
      if (input.staleBefore !== null && !equalsA && written !== undefined && written < BigInt(Math.round(input.staleBefore)) * 1000n) {
        const pick = Object.fromEntries(d.columns.map(([c]) => [c, row[c] ?? null]));
        stale.push({
          fp: fingerprint([table, 'stale', k, pick, String(row.updated_at)]),
          order: k,
          example: {
            key: Object.fromEntries(d.key.map((c) => [c, row[c] ?? null])),
            row: pick,
            expected: e === null ? null : Object.fromEntries(d.columns.map(([c]) => [c, e[c] ?? null])),
            updatedAt: String(row.updated_at),
            ageMs: input.at - Number(written / 1000n),
          },
        });
      }
    }
    // A stale candidate that did not persist is a moving key like any other; one that did is a finding.
    const persistingStale = stale.filter((s) => persists(s.fp)).sort((x, y) => (x.order < y.order ? -1 : x.order > y.order ? 1 : 0));
    let checked = 0;
    const staleKeys = new Set(persistingStale.map((s) => s.order));
    for (const k of keys) {
      if (quiet(k)) checked++;
      else if (!staleKeys.has(k)) movingKeys++;
    }

    // A quiet key's finding is the same difference only while the key's inputs stay exactly the same.
    const cells: DiffCell[] = differingCells(table, quietExpected, quietActual).map((c) => ({ ...c, fp: fingerprint([c.fp, vA.get(c.order) ?? null]) }));
    const persistingCells = cells.filter((c) => persists(c.fp));
    kept.push(...persistingCells.map((c) => c.fp), ...persistingStale.map((s) => s.fp));
    const found = cells.length + stale.length;
    findings += found;
    moving += movingKeys;
    const unconfirmed = found - persistingCells.length - persistingStale.length;
    const base = tableFromCells(table, expected.length, actual.length, persistingCells, movingKeys + unconfirmed);
    return {
      ...base,
      ok: base.ok && persistingStale.length === 0,
      checked,
      movingKeys,
      stale: { count: persistingStale.length, examples: persistingStale.slice(0, MAX_EXAMPLES).map((s) => s.example) },
    };
  });
  return { consistent: findings === 0 && moving === 0, tables, track: kept.sort().slice(0, maxTracked), cells: findings };
}
