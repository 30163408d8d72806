import { DEFAULT_LOAD_MIX, EquipmentState, LOAD_KINDS, LoadOp, LoadPlanner, PlannerStart, STATUSES, UPDATE_KINDS, VOLTAGE_LEVELS_KV, formatMicros, validateMix } from '../../../src/load/planner';
import { toEpochMicros } from '../../../src/postgres/warehouse-tables';

const START = toEpochMicros('2026-11-26T12:00:00Z')!;

function start(n = 60): PlannerStart {
  const equipment: EquipmentState[] = Array.from({ length: n }, (_, i) => ({
    id: `GEN-${String(i).padStart(4, '0')}`,
    type: ['发电机', '变压器', '输电线路', '配电设备'][i % 4],
    region: ['华北', '华东', '华中'][i % 3],
    voltageKv: VOLTAGE_LEVELS_KV[i % 6],
    capacityMw: i % 5 === 0 ? null : `${100 + i}.50`,
    status: STATUSES[i % 4],
  }));
  const latestReadingMicros = new Map(equipment.filter((_, i) => i % 2 === 0).map((e) => [e.id, START - 60_000_000n]));
  return { equipment, latestReadingMicros, startMicros: START, ratePerSecond: 100 };
}

const plan = (seed: number, n: number, s = start()) => {
  const p = new LoadPlanner(seed, s);
  return Array.from({ length: n }, () => p.next());
};

test('the default mix sums to 1 and readings dominate', () => {
  expect(() => validateMix(DEFAULT_LOAD_MIX)).not.toThrow();
  expect(DEFAULT_LOAD_MIX.readingInsert).toBeGreaterThan(0.5);
  expect(() => validateMix({ ...DEFAULT_LOAD_MIX, readingInsert: 0.5 })).toThrow(/sum to 1/);
});

test('deterministic from the seed', () => {
  expect(plan(7, 2000)).toEqual(plan(7, 2000));
  expect(plan(7, 200)).not.toEqual(plan(8, 200));
});

test('the mix is what DEFAULT_LOAD_MIX says, within sampling error', () => {
  const ops = plan(42, 20_000);
  for (const kind of LOAD_KINDS) {
    const share = ops.filter((o) => o.kind === kind).length / ops.length;
    expect(Math.abs(share - DEFAULT_LOAD_MIX[kind])).toBeLessThan(0.01);
  }
});

test('every kind of update happens, and each is a real move', () => {
  const p = new LoadPlanner(3, start());
  const model = new Map(p.equipmentModel.map((e) => [e.id, e]));
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const op = p.next();
    if (op.kind === 'equipmentInsert') model.set(op.row.id, { ...op.row });
    if (op.kind === 'equipmentDelete') {
      expect(model.has(op.id)).toBe(true);
      model.delete(op.id);
    }
    if (op.kind !== 'equipmentUpdate') continue;
    const before = model.get(op.id)!;
    expect(before).toBeDefined();
    seen.add(op.change);
    if (op.change === 'type') expect(op.set.type).not.toBe(before.type);
    if (op.change === 'region') expect(op.set.region).not.toBe(before.region);
    if (op.change === 'voltage') expect(op.set.voltageKv).not.toBe(before.voltageKv);
    if (op.change === 'status') expect(op.set.status).not.toBe(before.status);
    if (op.change === 'capacityToNull') {
      expect(before.capacityMw).not.toBeNull();
      expect(op.set.capacityMw).toBeNull();
    }
    if (op.change === 'capacityFromNull') {
      expect(before.capacityMw).toBeNull();
      expect(op.set.capacityMw).not.toBeNull();
    }
    const { name: _name, commissionedOn: _c, lastMaintenanceOn: _l, ...state } = op.set;
    model.set(op.id, { ...before, ...state });
  }
  expect([...seen].sort()).toEqual([...UPDATE_KINDS].sort());
  expect(p.equipmentModel.map((e) => e.id).sort()).toEqual([...model.keys()].sort());
});

test('values respect the CHECK constraints and column types', () => {
  const ops = plan(11, 6_000);
  const numeric = (v: string, precision: number, scale: number) => {
    expect(v).toMatch(new RegExp(`^-?\\d{1,${precision - scale}}\\.\\d{${scale}}$`));
  };
  for (const op of ops) {
    if (op.kind === 'equipmentInsert') {
      const r = op.row;
      expect(r.id.length).toBeLessThanOrEqual(32);
      expect(r.name.length).toBeLessThanOrEqual(128);
      expect(VOLTAGE_LEVELS_KV).toContain(r.voltageKv);
      expect(STATUSES).toContain(r.status);
      if (r.capacityMw !== null) {
        numeric(r.capacityMw, 12, 2);
        expect(Number(r.capacityMw)).toBeGreaterThanOrEqual(0);
      }
    }
    if (op.kind === 'equipmentUpdate') {
      if (op.set.voltageKv !== undefined) expect(op.set.voltageKv).toBeGreaterThan(0);
      if (op.set.status !== undefined) expect(STATUSES).toContain(op.set.status);
      if (op.set.capacityMw) expect(Number(op.set.capacityMw)).toBeGreaterThanOrEqual(0);
    }
    if (op.kind === 'readingInsert' || op.kind === 'lateReading' || op.kind === 'unknownReading') {
      numeric(op.loadMw, 12, 3);
      numeric(op.temperatureC, 6, 2);
      if (op.voltageKv !== null) numeric(op.voltageKv, 8, 3);
      expect(toEpochMicros(op.measuredAt)).toBeDefined();
    }
  }
});

test('late readings are older than their equipment latest (also after that latest was deleted); current ones advance', () => {
  const p = new LoadPlanner(5, start());
  const initial = start().latestReadingMicros;
  const readings: Array<{ id: string; at: bigint; live: boolean }> = [];
  const latestOf = (id: string) =>
    readings.filter((r) => r.live && r.id === id).reduce<bigint | undefined>((m, r) => (m === undefined || r.at > m ? r.at : m), initial.get(id));
  let lates = 0;
  let deletesOfLatest = 0;
  for (let i = 0; i < 20_000; i++) {
    const op: LoadOp = p.next();
    if (op.kind === 'readingInsert') expect(toEpochMicros(op.measuredAt)).toBe(START + BigInt(i) * 10_000n); // 100 ops/s
    if (op.kind === 'lateReading') {
      lates++;
      const prev = latestOf(op.equipmentId);
      if (prev !== undefined) expect(toEpochMicros(op.measuredAt)!).toBeLessThan(prev);
    }
    if (op.kind === 'unknownReading') expect(op.equipmentId).toMatch(/^UNK-/);
    if (op.kind === 'readingInsert' || op.kind === 'lateReading' || op.kind === 'unknownReading') {
      readings.push({ id: op.equipmentId, at: toEpochMicros(op.measuredAt)!, live: true });
    }
    if (op.kind === 'readingDelete') {
      const r = readings[op.index];
      if (r.at === latestOf(r.id)) deletesOfLatest++;
      r.live = false;
    }
  }
  expect(lates).toBeGreaterThan(300);
  expect(deletesOfLatest).toBeGreaterThan(5);
});

test('reading deletes refer to readings the run inserted, each at most once', () => {
  const ops = plan(9, 10_000);
  let inserted = 0;
  const deleted = new Set<number>();
  for (const op of ops) {
    if (op.kind === 'readingInsert' || op.kind === 'lateReading' || op.kind === 'unknownReading') inserted++;
    if (op.kind === 'readingDelete') {
      expect(op.index).toBeLessThan(inserted);
      expect(deleted.has(op.index)).toBe(false);
      deleted.add(op.index);
    }
  }
  expect(deleted.size).toBeGreaterThan(50);
});

test('never deletes the last equipment rows; an empty table gets inserts first', () => {
  const p = new LoadPlanner(1, { ...start(0), ratePerSecond: 10 }, { ...DEFAULT_LOAD_MIX, readingInsert: 0.5, equipmentDelete: 0.37 });
  const ops = Array.from({ length: 500 }, () => p.next());
  expect(ops[0].kind).toBe('equipmentInsert');
  expect(p.equipmentModel.length).toBeGreaterThanOrEqual(10);
});

test('formatMicros round-trips through toEpochMicros', () => {
  for (const m of [START, START + 1n, START + 999_999n, 0n]) expect(toEpochMicros(formatMicros(m))).toBe(m);
  expect(formatMicros(START + 123_456n)).toBe('2026-11-26T12:00:00.123456Z');
});
