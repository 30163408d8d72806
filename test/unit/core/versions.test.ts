import { parseSpec } from '../../../src/core/spec';
import { flussDatabaseOf, jobNameOf, sinkSearchPath, versionSchemaOf, versionTag } from '../../../src/core/versions';
import { ownedObjects } from '../../../src/core/ownership';
import { testSpec } from '../../workflows/doubles';

const spec = parseSpec(testSpec({ name: 'east' }));

test('generation 0 is every name a pipeline had before versions, and is what a spec without one runs as', () => {
  expect(spec.generation).toBeUndefined();
  expect(versionTag(spec)).toBe('east');
  expect(flussDatabaseOf(spec)).toBe(spec.fluss.database);
  expect(jobNameOf(spec, 'sink')).toBe('gridflow/east/sink');
  expect(versionSchemaOf(spec)).toBe('dw_east_v0');
});

test('generation n names its own objects, and claims them (the readers’ schema is every version’s)', () => {
  const v3 = { ...spec, generation: 3 };
  expect(versionTag(v3)).toBe('east_v3');
  expect(flussDatabaseOf(v3)).toBe(`${spec.fluss.database}_v3`);
  expect(jobNameOf(v3, 'ingest')).toBe('gridflow/east/v3/ingest');
  expect(sinkSearchPath(v3)).toEqual(['dw_east_v3', 'dw_east', 'gridflow']);
  const owned = ownedObjects(v3, ['power_equipment']).map((o) => `${o.kind}:${o.name}`);
  expect(owned).toEqual(
    expect.arrayContaining(['fluss-database:east_v3', 'sink-schema:dw_east', 'sink-schema:dw_east_v3', 'replication-slot:gridflow_east_v3_power_equipment', 'publication:gridflow_east_v3_power_equipment']),
  );
});

test('a spec may carry its generation (a workflow continuing as new); a negative one is refused', () => {
  expect(parseSpec({ ...testSpec({ name: 'east' }), generation: 2 }).generation).toBe(2);
  expect(() => parseSpec({ ...testSpec({ name: 'east' }), generation: -1 })).toThrow(/generation/);
});
