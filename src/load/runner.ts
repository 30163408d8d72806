/**
 * The load generator's runner: reads the source's starting state, paces the planner's operations
 * (planner.ts) to the rate, writes them, counts what was actually written.
 */
import { Client } from 'pg';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { quoteIdent, query, withClient } from '../postgres/connection';
import { toEpochMicros } from '../postgres/warehouse-tables';
import { ChangeOp, DEFAULT_LOAD_MIX, EquipmentRow, LOAD_KINDS, LoadKind, LoadMix, LoadOp, LoadPlanner, PlannerStart, ReadingOp, UPDATE_KINDS, UpdateKind, formatMicros, isReadingOp, validateMix } from './planner';
// ---------------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------------

interface LoadOptions {
  ratePerSecond: number;
  durationSeconds: number;
  seed: number;
  onProgress?: (progress: LoadProgress) => void;
  /** Overrides shares of DEFAULT_LOAD_MIX; the result must still sum to 1. */
  mix?: Partial<LoadMix>;
  /** Source schema (default public). */
  schema?: string;
  /**
   * Nominal time of the first operation. Default: the later of now and the newest reading + 1 s, so
   * "current" readings really become the latest.
   */
  startAt?: Date | string;
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedMs: number;
  done: number;
  total: number;
  counts: Record<LoadKind, number>;
}

export interface LoadResult {
  /** Operations planned and attempted. */
  operations: number;
  /** Rows actually written, per kind (an insert that conflicted or a delete that found nothing is not). */
  counts: Record<LoadKind, number>;
  /** Of counts.equipmentUpdate, per kind of move. */
  updates: Record<UpdateKind, number>;
  /** Operations that changed no row, per kind. */
  skipped: Record<LoadKind, number>;
  elapsedMs: number;
  achievedRatePerSecond: number;
  startAt: string;
  aborted: boolean;
}

const zeroCounts = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Write a deterministic, paced mix of changes into the source. Returns what it wrote. One connection;
 * consecutive reading inserts due at the same moment go in one multi-row INSERT.
 */
export async function runLoad(sourceAdminConn: PgConnection, options: LoadOptions): Promise<LoadResult> {
  const { ratePerSecond, durationSeconds, seed } = options;
  if (!(ratePerSecond > 0 && ratePerSecond <= 100_000)) throw new Error(`ratePerSecond must be in (0, 100000], got ${ratePerSecond}`);
  if (!(durationSeconds > 0)) throw new Error(`durationSeconds must be > 0, got ${durationSeconds}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const schema = options.schema ?? 'public';
  if (!IDENTIFIER.test(schema)) throw new Error(`schema ${JSON.stringify(schema)} must match ${IDENTIFIER}`);
  const mix: LoadMix = { ...DEFAULT_LOAD_MIX, ...options.mix };
  validateMix(mix);
  const total = Math.max(1, Math.round(ratePerSecond * durationSeconds));
  const tables = { equipment: `${quoteIdent(schema)}.power_equipment`, reading: `${quoteIdent(schema)}.equipment_reading` };

  return withClient(sourceAdminConn, async (client) => {
    const start = await readStart(client, tables, options.startAt);
    const planner = new LoadPlanner(seed, { ...start, ratePerSecond }, mix);
    const counts = zeroCounts(LOAD_KINDS);
    const skipped = zeroCounts(LOAD_KINDS);
    const updates = zeroCounts(UPDATE_KINDS);
    const readingIds: string[] = [];
    let pending: ReadingOp[] = [];

    const flushReadings = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      const res = await query<{ reading_id: string }>(
        client,
        'insert readings',
        `INSERT INTO ${tables.reading} (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
         SELECT * FROM unnest($1::text[], $2::numeric[], $3::numeric[], $4::numeric[], $5::timestamptz[])
         RETURNING reading_id::text`,
        [
          batch.map((r) => r.equipmentId),
          batch.map((r) => r.loadMw),
          batch.map((r) => r.temperatureC),
          batch.map((r) => r.voltageKv),
          batch.map((r) => r.measuredAt),
        ],
      );
      readingIds.push(...res.rows.map((r) => r.reading_id));
      for (const r of batch) counts[r.kind]++;
    };

    const apply = async (op: LoadOp) => {
      if (isReadingOp(op)) {
        pending.push(op);
        if (pending.length >= 500) await flushReadings();
        return;
      }
      await flushReadings();
      const wrote = await applyChange(client, tables, op, readingIds);
      if (wrote) {
        counts[op.kind]++;
        if (op.kind === 'equipmentUpdate') updates[op.change]++;
      } else {
        skipped[op.kind]++;
      }
    };

    const t0 = Date.now();
    let done = 0;
    let lastProgress = t0;
    let aborted = false;
    const progress = () => options.onProgress?.({ elapsedMs: Date.now() - t0, done, total, counts: { ...counts } });
    while (done < total) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const elapsed = Date.now() - t0;
      const due = Math.min(total, Math.floor((elapsed / 1000) * ratePerSecond) + 1);
      if (due <= done) {
        const nextAt = (done / ratePerSecond) * 1000;
        await sleep(Math.max(1, Math.min(100, nextAt - elapsed)));
        continue;
      }
      while (done < due) {
        await apply(planner.next());
        done++;
      }
      await flushReadings();
      if (Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        progress();
      }
    }
    await flushReadings();
    progress();
    const elapsedMs = Date.now() - t0;
    return {
      operations: done,
      counts,
      updates,
      skipped,
      elapsedMs,
      achievedRatePerSecond: elapsedMs > 0 ? (done * 1000) / elapsedMs : done,
      startAt: formatMicros(start.startMicros),
      aborted,
    };
  });
}

async function readStart(
  client: Client,
  tables: { equipment: string; reading: string },
  startAt: Date | string | undefined,
): Promise<Omit<PlannerStart, 'ratePerSecond'>> {
  const eq = await query<{ id: string; type: string; region: string; voltage: number; capacity: string | null; status: string }>(
    client,
    'read equipment',
    `SELECT equipment_id AS id, equipment_type AS type, region, voltage_level_kv AS voltage,
            rated_capacity_mw::text AS capacity, status
     FROM ${tables.equipment} ORDER BY equipment_id COLLATE "C"`,
  );
  const latest = await query<{ id: string; at: string }>(
    client,
    'read latest readings',
    `SELECT equipment_id AS id, max(measured_at)::text AS at FROM ${tables.reading} GROUP BY equipment_id`,
  );
  const head = await query<{ at: string }>(
    client,
    'read start time',
    `SELECT greatest(now(), (SELECT max(measured_at) FROM ${tables.reading}) + interval '1 second')::text AS at`,
  );
  const latestReadingMicros = new Map<string, bigint>();
  for (const r of latest.rows) latestReadingMicros.set(r.id, toEpochMicros(r.at)!);
  const startMicros = toEpochMicros(startAt ?? head.rows[0].at);
  if (startMicros === undefined) throw new Error(`startAt ${String(startAt)} is not a timestamp`);
  return {
    equipment: eq.rows.map((r) => ({ id: r.id, type: r.type, region: r.region, voltageKv: r.voltage, capacityMw: r.capacity, status: r.status })),
    latestReadingMicros,
    startMicros,
  };
}

const COLUMN: Record<keyof Omit<EquipmentRow, 'id'>, string> = {
  name: 'equipment_name',
  type: 'equipment_type',
  region: 'region',
  voltageKv: 'voltage_level_kv',
  capacityMw: 'rated_capacity_mw',
  status: 'status',
  commissionedOn: 'commissioned_on',
  lastMaintenanceOn: 'last_maintenance_on',
};

/** One equipment or reading change; true when it changed a row. */
async function applyChange(
  client: Client,
  tables: { equipment: string; reading: string },
  op: ChangeOp,
  readingIds: string[],
): Promise<boolean> {
  switch (op.kind) {
    case 'readingDelete': {
      const id = readingIds[op.index];
      if (id === undefined) return false;
      const res = await query(client, 'delete reading', `DELETE FROM ${tables.reading} WHERE reading_id = $1`, [id]);
      return res.rowCount === 1;
    }
    case 'equipmentInsert': {
      const r = op.row;
      const res = await query(
        client,
        `insert equipment ${r.id}`,
        `INSERT INTO ${tables.equipment} (equipment_id, equipment_name, equipment_type, region, voltage_level_kv,
                                          rated_capacity_mw, status, commissioned_on, last_maintenance_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (equipment_id) DO NOTHING`,
        [r.id, r.name, r.type, r.region, r.voltageKv, r.capacityMw, r.status, r.commissionedOn, r.lastMaintenanceOn],
      );
      return res.rowCount === 1;
    }
    case 'equipmentUpdate': {
      const entries = Object.entries(op.set) as Array<[keyof typeof COLUMN, unknown]>;
      const assignments = entries.map(([k], i) => `${COLUMN[k]} = $${i + 2}`);
      const res = await query(
        client,
        `update equipment ${op.id}`,
        `UPDATE ${tables.equipment} SET ${assignments.join(', ')}, updated_at = clock_timestamp() WHERE equipment_id = $1`,
        [op.id, ...entries.map(([, v]) => v)],
      );
      return res.rowCount === 1;
    }
    case 'equipmentDelete': {
      const res = await query(client, `delete equipment ${op.id}`, `DELETE FROM ${tables.equipment} WHERE equipment_id = $1`, [op.id]);
      return res.rowCount === 1;
    }
  }
}
