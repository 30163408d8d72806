/**
 * The load generator's plan, pure: mostly telemetry inserts, mixed with the changes the contract must
 * survive (PIPELINE.md): equipment INSERT / UPDATE (moves between type, region, voltage and status
 * groups, capacity to and from NULL) / DELETE, readings for unknown equipment, late (older) readings and
 * deleted readings (a deleted latest reading makes the previous one latest again). Deterministic from
 * the seed and the starting state: tests reason about it without a database. Every value respects the
 * tables' CHECK constraints. The runner (runner.ts) reads the starting state and writes the plan.
 */
/** Share of each operation kind (they sum to 1). */
export const DEFAULT_LOAD_MIX = {
  /** A new reading "now" for existing equipment (becomes its latest). */
  readingInsert: 0.86,
  /** A reading older than that equipment's latest: must never win "latest". */
  lateReading: 0.03,
  /** A reading for an equipment id that is not in power_equipment. */
  unknownReading: 0.02,
  /** Delete a reading this run wrote (maybe the latest, so the previous one becomes latest again). */
  readingDelete: 0.01,
  equipmentInsert: 0.02,
  /** One of UPDATE_KINDS, chosen uniformly among those that apply to the row. */
  equipmentUpdate: 0.05,
  equipmentDelete: 0.01,
} as const;
export type LoadKind = keyof typeof DEFAULT_LOAD_MIX;
export type LoadMix = Record<LoadKind, number>;
export const LOAD_KINDS = Object.keys(DEFAULT_LOAD_MIX) as LoadKind[];

/** What an equipment UPDATE changes. Every move keeps the primary key. */
export const UPDATE_KINDS = ['type', 'region', 'voltage', 'status', 'capacityToNull', 'capacityFromNull', 'capacity', 'name'] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];

/** Value domains (the open sets include one value the sample data never uses, so groups appear and vanish). */
const EQUIPMENT_TYPES = ['发电机', '变压器', '输电线路', '配电设备', '储能设备'] as const;
const REGIONS = ['华北', '华东', '华中', '东北', '西北', '西南', '华南'] as const;
export const VOLTAGE_LEVELS_KV = [10, 35, 110, 220, 500, 1000] as const;
export const STATUSES = ['运行', '检修', '停运', '备用'] as const;
const TYPE_PREFIX: Record<string, string> = { 发电机: 'GEN', 变压器: 'TRF', 输电线路: 'LIN', 配电设备: 'DST', 储能设备: 'ESS' };
const TYPE_BASE_MW: Record<string, number> = { 发电机: 300, 变压器: 120, 输电线路: 800, 配电设备: 15, 储能设备: 50 };

/** Never delete below this many equipment rows (the op becomes an insert instead). */
const MIN_EQUIPMENT = 10;

export interface EquipmentState {
  id: string;
  type: string;
  region: string;
  voltageKv: number;
  /** NUMERIC(12,2) as text, or null (unknown). */
  capacityMw: string | null;
  status: string;
}

export interface EquipmentRow extends EquipmentState {
  name: string;
  commissionedOn: string | null;
  lastMaintenanceOn: string | null;
}

interface ReadingValues {
  equipmentId: string;
  loadMw: string;
  temperatureC: string;
  voltageKv: string | null;
  /** ISO 8601 with microseconds, UTC. */
  measuredAt: string;
}

export type ReadingOp = { kind: 'readingInsert' | 'lateReading' | 'unknownReading' } & ReadingValues;
export type ChangeOp =
  /** `index`: the n-th reading this run inserted (0-based); the runner knows its reading_id. */
  | { kind: 'readingDelete'; index: number }
  | { kind: 'equipmentInsert'; row: EquipmentRow }
  | { kind: 'equipmentUpdate'; change: UpdateKind; id: string; set: Partial<Omit<EquipmentRow, 'id'>> }
  | { kind: 'equipmentDelete'; id: string };
export type LoadOp = ReadingOp | ChangeOp;

export function isReadingOp(op: LoadOp): op is ReadingOp {
  return op.kind === 'readingInsert' || op.kind === 'lateReading' || op.kind === 'unknownReading';
}

/** mulberry32: small, fast, good enough for test data; deterministic across platforms. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validateMix(mix: LoadMix): void {
  let sum = 0;
  for (const k of LOAD_KINDS) {
    const v = mix[k];
    if (!Number.isFinite(v) || v < 0) throw new Error(`load mix ${k} must be a number >= 0, got ${v}`);
    sum += v;
  }
  if (Math.abs(sum - 1) > 1e-9) throw new Error(`load mix shares must sum to 1, got ${sum}`);
}

export interface PlannerStart {
  /** Existing equipment (any order; the planner sorts by id). */
  equipment: EquipmentState[];
  /** Latest measured_at (epoch microseconds) per equipment id that has readings. */
  latestReadingMicros: Map<string, bigint>;
  /** Nominal time of operation 0, epoch microseconds; operation i is at start + i / rate. */
  startMicros: bigint;
  ratePerSecond: number;
}

/**
 * Generates operations one at a time. Pure: the same seed and start give the same sequence. It keeps a
 * model of the equipment table (as its own operations change it) so that every update is a real move.
 */
export class LoadPlanner {
  private readonly random: () => number;
  private readonly mix: LoadMix;
  private readonly equipment: EquipmentState[];
  /** Planner's belief of each equipment's latest measured_at (what a late reading must stay below). */
  private readonly latest: Map<string, bigint>;
  private readonly initialLatest: ReadonlyMap<string, bigint>;
  /** Every reading this run planned, by index: equipment, time, still there. */
  private readonly runReadings: Array<{ equipmentId: string; at: bigint; live: boolean }> = [];
  private readonly runReadingsByEquipment = new Map<string, number[]>();
  private readonly tag: string;
  private readonly stepMicros: number;
  private readonly startMicros: bigint;
  private opIndex = 0;
  private newEquipment = 0;
  private readingsPlanned = 0;
  /** Indexes (into this run's inserted readings) not deleted yet. */
  private readonly liveReadings: number[] = [];

  constructor(seed: number, start: PlannerStart, mix: LoadMix = DEFAULT_LOAD_MIX) {
    validateMix(mix);
    if (!(start.ratePerSecond > 0)) throw new Error(`ratePerSecond must be > 0, got ${start.ratePerSecond}`);
    this.random = rng(seed);
    this.mix = mix;
    this.equipment = [...start.equipment].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.latest = new Map(start.latestReadingMicros);
    this.initialLatest = new Map(start.latestReadingMicros);
    this.tag = (seed >>> 0).toString(36);
    this.stepMicros = 1_000_000 / start.ratePerSecond;
    this.startMicros = start.startMicros;
  }

  /** The equipment the planner believes exists now (a copy). */
  get equipmentModel(): EquipmentState[] {
    return this.equipment.map((e) => ({ ...e }));
  }

  next(): LoadOp {
    const now = this.startMicros + BigInt(Math.round(this.opIndex * this.stepMicros));
    this.opIndex++;
    let kind = this.pickKind();
    if (kind === 'equipmentDelete' && this.equipment.length <= MIN_EQUIPMENT) kind = 'equipmentInsert';
    if ((kind === 'readingInsert' || kind === 'lateReading' || kind === 'equipmentUpdate') && this.equipment.length === 0) kind = 'equipmentInsert';
    if (kind === 'readingDelete' && this.liveReadings.length === 0) kind = this.equipment.length ? 'readingInsert' : 'equipmentInsert';

    switch (kind) {
      case 'readingInsert': {
        const e = this.pick(this.equipment);
        return this.reading('readingInsert', e, now);
      }
      case 'lateReading': {
        const e = this.pick(this.equipment);
        const latest = this.latest.get(e.id);
        // "Late" needs something to be late against: without a reading it is an ordinary one.
        if (latest === undefined) return this.reading('readingInsert', e, now);
        // 1 s .. 1 h before its latest: never the newest.
        const at = latest - BigInt(1_000_000 + Math.floor(this.random() * 3_599_000_000));
        return this.reading('lateReading', e, at);
      }
      case 'unknownReading': {
        const id = `UNK-L${this.tag}-${1 + Math.floor(this.random() * 50)}`;
        return this.reading('unknownReading', { id, type: '配电设备', region: '华北', voltageKv: 10, capacityMw: null, status: '运行' }, now);
      }
      case 'readingDelete': {
        const i = Math.floor(this.random() * this.liveReadings.length);
        const [index] = this.liveReadings.splice(i, 1);
        this.forgetReading(index);
        return { kind: 'readingDelete', index };
      }
      case 'equipmentInsert': {
        const row = this.newRow();
        this.equipment.push(stateOf(row));
        return { kind: 'equipmentInsert', row };
      }
      case 'equipmentUpdate':
        return this.update();
      case 'equipmentDelete': {
        const i = Math.floor(this.random() * this.equipment.length);
        const [e] = this.equipment.splice(i, 1);
        return { kind: 'equipmentDelete', id: e.id };
      }
    }
  }

  private pickKind(): LoadKind {
    let r = this.random();
    for (const k of LOAD_KINDS) {
      r -= this.mix[k];
      if (r < 0) return k;
    }
    return 'readingInsert';
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }

  private reading(kind: 'readingInsert' | 'lateReading' | 'unknownReading', e: EquipmentState, at: bigint): LoadOp {
    const capacity = e.capacityMw === null ? 0 : Number(e.capacityMw);
    const base = capacity > 0 ? capacity : this.between(5, 500);
    // 0.30 .. 1.20 of capacity: some load ratios above 0.9 and 1.0.
    const load = base * this.between(0.3, 1.2);
    const temperature = this.between(20, 95);
    const voltage = this.random() < 0.05 ? null : (e.voltageKv * this.between(0.95, 1.05)).toFixed(3);
    const index = this.readingsPlanned++;
    this.liveReadings.push(index);
    this.runReadings.push({ equipmentId: e.id, at, live: true });
    const list = this.runReadingsByEquipment.get(e.id) ?? [];
    list.push(index);
    this.runReadingsByEquipment.set(e.id, list);
    const prev = this.latest.get(e.id);
    if (prev === undefined || at > prev) this.latest.set(e.id, at);
    return {
      kind,
      equipmentId: e.id,
      loadMw: load.toFixed(3),
      temperatureC: temperature.toFixed(2),
      voltageKv: voltage,
      measuredAt: formatMicros(at),
    };
  }

  /** A deleted reading may have been its equipment's latest: the latest falls back to the rest. */
  private forgetReading(index: number): void {
    const r = this.runReadings[index];
    r.live = false;
    let latest = this.initialLatest.get(r.equipmentId);
    for (const i of this.runReadingsByEquipment.get(r.equipmentId) ?? []) {
      const other = this.runReadings[i];
      if (other.live && (latest === undefined || other.at > latest)) latest = other.at;
    }
    if (latest === undefined) this.latest.delete(r.equipmentId);
    else this.latest.set(r.equipmentId, latest);
  }

  private capacity(type: string): string {
    return (TYPE_BASE_MW[type] * this.between(0.4, 1.6)).toFixed(2);
  }

  private newRow(): EquipmentRow {
    const n = ++this.newEquipment;
    // Mostly the sample's sets, sometimes the extra type / region (a new group appears).
    const type = this.random() < 0.05 ? EQUIPMENT_TYPES[4] : this.pick(EQUIPMENT_TYPES.slice(0, 4));
    const region = this.random() < 0.05 ? REGIONS[6] : this.pick(REGIONS.slice(0, 6));
    const r = this.random();
    const capacityMw = r < 0.08 ? null : r < 0.12 ? '0.00' : this.capacity(type);
    const s = this.random();
    const status = s < 0.7 ? '运行' : s < 0.8 ? '检修' : s < 0.9 ? '停运' : '备用';
    const day = (offset: number) => new Date(Date.UTC(2005, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
    return {
      id: `${TYPE_PREFIX[type]}-L${this.tag}-${n}`,
      name: `${region}${type} #L${n}`,
      type,
      region,
      voltageKv: this.pick(VOLTAGE_LEVELS_KV),
      capacityMw,
      status,
      commissionedOn: day(Math.floor(this.random() * 7000)),
      lastMaintenanceOn: this.random() < 0.2 ? null : day(7300 + Math.floor(this.random() * 300)),
    };
  }

  private update(): LoadOp {
    const e = this.pick(this.equipment);
    const applicable = UPDATE_KINDS.filter((k) => {
      if (k === 'capacityToNull') return e.capacityMw !== null;
      if (k === 'capacityFromNull') return e.capacityMw === null;
      if (k === 'capacity') return e.capacityMw !== null;
      return true;
    });
    const change = this.pick(applicable);
    const other = <T>(values: readonly T[], current: T) => this.pick(values.filter((v) => v !== current));
    let set: Partial<Omit<EquipmentRow, 'id'>>;
    switch (change) {
      case 'type':
        set = { type: other(EQUIPMENT_TYPES, e.type) };
        break;
      case 'region':
        set = { region: other(REGIONS, e.region) };
        break;
      case 'voltage':
        set = { voltageKv: other(VOLTAGE_LEVELS_KV, e.voltageKv) };
        break;
      case 'status':
        set = { status: other(STATUSES, e.status) };
        break;
      case 'capacityToNull':
        set = { capacityMw: null };
        break;
      case 'capacityFromNull':
      case 'capacity': {
        let value = this.random() < 0.1 ? '0.00' : this.capacity(e.type);
        if (value === e.capacityMw) value = (Number(value) + 1).toFixed(2);
        set = { capacityMw: value };
        break;
      }
      case 'name':
        set = { name: `${e.region}${e.type} #U${this.opIndex}` };
        break;
    }
    Object.assign(e, stateOf({ ...e, name: '', commissionedOn: null, lastMaintenanceOn: null, ...set }));
    return { kind: 'equipmentUpdate', change, id: e.id, set };
  }
}

function stateOf(row: EquipmentRow): EquipmentState {
  return { id: row.id, type: row.type, region: row.region, voltageKv: row.voltageKv, capacityMw: row.capacityMw, status: row.status };
}

/** Epoch microseconds → '2026-11-26T12:00:00.123456Z'. */
export function formatMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = micros % 1000n;
  const iso = new Date(Number(ms)).toISOString(); // ...ss.mmmZ
  return `${iso.slice(0, -1)}${(rest < 0n ? rest + 1000n : rest).toString().padStart(3, '0')}Z`;
}
