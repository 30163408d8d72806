import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceColumn, driftSentence, readColumns, schemaDrift } from '../../../src/core/source-schema';

const ingest = fs.readFileSync(path.join(__dirname, '../../../sql/flink/ingest.sql'), 'utf8');
const read = readColumns(ingest);

/** The source as sql/source/schema.sql makes it (information_schema's words). */
function sourceAsShipped(): SourceColumn[] {
  const col = (table: string, column: string, dataType: string, nullable: boolean, p: number | null = null, s: number | null = null): SourceColumn => ({
    table,
    column,
    dataType,
    numericPrecision: p,
    numericScale: s,
    nullable,
  });
  return [
    col('power_equipment', 'equipment_id', 'character varying', false),
    col('power_equipment', 'equipment_name', 'character varying', false),
    col('power_equipment', 'equipment_type', 'character varying', false),
    col('power_equipment', 'region', 'character varying', false),
    col('power_equipment', 'voltage_level_kv', 'integer', false),
    col('power_equipment', 'rated_capacity_mw', 'numeric', true, 12, 2),
    col('power_equipment', 'status', 'character varying', false),
    col('power_equipment', 'commissioned_on', 'date', true),
    col('power_equipment', 'last_maintenance_on', 'date', true),
    col('power_equipment', 'updated_at', 'timestamp with time zone', false),
    col('equipment_reading', 'reading_id', 'bigint', false),
    col('equipment_reading', 'equipment_id', 'character varying', false),
    col('equipment_reading', 'load_mw', 'numeric', false, 12, 3),
    col('equipment_reading', 'temperature_c', 'numeric', false, 6, 2),
    col('equipment_reading', 'voltage_kv', 'numeric', true, 8, 3),
    col('equipment_reading', 'measured_at', 'timestamp with time zone', false),
  ];
}
const slotOf = (t: string) => `gridflow_sgcc_${t}`;

test('the ingest SQL declares what it reads: every column of both captured tables, with its type and NOT NULL', () => {
  expect(read.filter((c) => c.table === 'power_equipment').map((c) => c.column)).toEqual([
    'equipment_id', 'equipment_name', 'equipment_type', 'region', 'voltage_level_kv', 'rated_capacity_mw', 'status', 'commissioned_on', 'last_maintenance_on', 'updated_at',
  ]);
  expect(read.find((c) => c.column === 'equipment_name')).toEqual({ table: 'power_equipment', column: 'equipment_name', type: 'STRING', notNull: true });
  expect(read.find((c) => c.column === 'load_mw')).toMatchObject({ table: 'equipment_reading', type: 'DECIMAL(12,3)', notNull: true });
  expect(schemaDrift(read, sourceAsShipped())).toEqual([]);
});

test('a column added, or a nullable one dropped (last_maintenance_on: the job reads NULL): nothing', () => {
  const added = [...sourceAsShipped(), { table: 'power_equipment', column: 'owner', dataType: 'text', numericPrecision: null, numericScale: null, nullable: true }];
  expect(schemaDrift(read, added)).toEqual([]);
  expect(schemaDrift(read, sourceAsShipped().filter((c) => c.column !== 'last_maintenance_on'))).toEqual([]);
});

test('a column renamed: gone, with the new name among the columns it does not read, the slot that holds the changes, the way out', () => {
  const renamed = sourceAsShipped().map((c) => (c.column === 'equipment_name' ? { ...c, column: 'name' } : c));
  const drift = schemaDrift(read, renamed);
  expect(drift).toEqual([{ table: 'power_equipment', column: 'equipment_name', kind: 'gone', reads: 'STRING NOT NULL', found: null }]);
  const sentence = driftSentence(drift, renamed, read, slotOf)!;
  expect(sentence).toMatch(/^source schema changed: power_equipment\.equipment_name \(read by ingest as STRING NOT NULL\) is gone — dropped or renamed \(columns it does not read: name\)/);
  expect(sentence).toContain('every change since waits in gridflow_sgcc_power_equipment');
  expect(sentence).toContain('gridflow redeploy --strategy blue-green');
});

test('retyped beyond what the job declares, or made nullable under a NOT NULL: each named', () => {
  const changed = sourceAsShipped().map((c) => {
    if (c.column === 'load_mw') return { ...c, numericPrecision: 20, numericScale: 6 };
    if (c.column === 'region') return { ...c, nullable: true };
    if (c.column === 'voltage_level_kv') return { ...c, dataType: 'bigint' };
    return c;
  });
  const drift = schemaDrift(read, changed);
  expect(drift.map((d) => `${d.column}:${d.kind}`)).toEqual(['region:nullable', 'voltage_level_kv:retyped', 'load_mw:retyped']);
  expect(driftSentence(drift, changed, read, slotOf)).toContain('equipment_reading.load_mw is numeric(20, 6) NOT NULL now; ingest reads it as DECIMAL(12,3) NOT NULL');
  // A narrower numeric still fits; a varchar made text fits.
  const narrower = sourceAsShipped().map((c) => (c.column === 'load_mw' ? { ...c, numericPrecision: 10 } : c.column === 'status' ? { ...c, dataType: 'text' } : c));
  expect(schemaDrift(read, narrower)).toEqual([]);
});

test('a captured table missing altogether is not a column change (preflight and the slot say it)', () => {
  expect(schemaDrift(read, sourceAsShipped().filter((c) => c.table !== 'equipment_reading'))).toEqual([]);
  expect(driftSentence([], [], read, slotOf)).toBeNull();
});
