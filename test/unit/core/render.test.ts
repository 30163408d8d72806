import { parseConnectionUrl } from '../../../src/config';
import { renderFlussDdl, renderJob } from '../../../src/warehouse/render';
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

const conns = {
  sourceCdc: parseConnectionUrl('source_cdc', "postgres://gridflow_cdc:s3cret'pw@127.0.0.1:15432/sgcc_source"),
  sink: parseConnectionUrl('sink', 'postgres://gridflow_writer:w-pw@127.0.0.1:15433/sgcc_dw'),
  flussBootstrap: 'fluss-1:9123,fluss-2:9123',
};

describe('rendering the SGCC warehouse for a spec', () => {
  const spec = parseSpec(testSpec({ name: 'grid_east', fluss: { cluster: 'local', database: 'east' } }));

  test('ingest: one slot and publication per table named after the pipeline; the password quoted', () => {
    const job = renderJob(spec, 'ingest', conns);
    expect(job.flinkName).toBe('gridflow/grid_east/ingest');
    const ddl = job.setup.join('\n');
    expect(ddl).toContain("'bootstrap.servers' = 'fluss-1:9123,fluss-2:9123'");
    expect(ddl).toContain("'slot.name' = 'gridflow_grid_east_power_equipment'");
    expect(ddl).toContain("'debezium.publication.name' = 'gridflow_grid_east_equipment_reading'");
    expect(ddl).toContain("'password' = 's3cret''pw'");
    expect(ddl).toContain("'decoding.plugin.name' = 'pgoutput'");
    expect(job.dml).toMatch(/^EXECUTE STATEMENT SET/);
    expect(job.dml).toContain('fluss_catalog.`east`.dwd_power_equipment');
  });

  test('names are quoted in SQL and plain inside strings: the dws job hands its UDF the database name itself', () => {
    const dws = renderJob(parseSpec(testSpec({ name: 'grid_east', fluss: { cluster: 'local', database: 'order' } })), 'dws', conns);
    expect(dws.dml).toContain('fluss_catalog.`order`.dws_equipment_latest');
    expect(dws.dml).toContain("'fluss-1:9123,fluss-2:9123', 'order', 'dwd_reading_by_equipment'");
    // No quoted identifier may land inside a string literal (a UDF or option would get `name`).
    for (const job of ['ingest', 'dws', 'ads', 'sink'] as const) {
      const text = [...renderJob(spec, job, conns).setup, renderJob(spec, job, conns).dml].join('\n');
      expect(text).not.toMatch(/'[^'\n]*`[^'\n]*'/);
    }
  });

  test('each job is submitted with its own settings, restore path only when restoring', () => {
    const fresh = renderJob(spec, 'ads', conns);
    expect(fresh.executionConfig).toMatchObject({
      'pipeline.name': 'gridflow/grid_east/ads',
      'parallelism.default': '1',
      'execution.checkpointing.interval': '10000 ms',
      'table.local-time-zone': 'UTC',
    });
    expect(fresh.executionConfig['execution.state-recovery.path']).toBeUndefined();
    const restored = renderJob(spec, 'ads', conns, 'file:///sp/savepoint-1');
    expect(restored.executionConfig['execution.state-recovery.path']).toBe('file:///sp/savepoint-1');
    expect(restored.fingerprint).toBe(fresh.fingerprint);
  });

  test('the fingerprint changes with the job definition, not with secrets or other jobs', () => {
    const base = renderJob(spec, 'ads', conns).fingerprint;
    const moreParallel = parseSpec(testSpec({ name: 'grid_east', fluss: { cluster: 'local', database: 'east' }, jobs: { ads: { parallelism: 2 } } }));
    expect(renderJob(moreParallel, 'ads', conns).fingerprint).not.toBe(base);
    expect(renderJob(moreParallel, 'dws', conns).fingerprint).toBe(renderJob(spec, 'dws', conns).fingerprint);
    const otherPassword = { ...conns, sourceCdc: parseConnectionUrl('source_cdc', 'postgres://gridflow_cdc:other@127.0.0.1:15432/sgcc_source') };
    expect(renderJob(spec, 'ingest', otherPassword).fingerprint).toBe(renderJob(spec, 'ingest', conns).fingerprint);
    expect(JSON.stringify(renderJob(spec, 'ingest', conns).fingerprint)).not.toContain('s3cret');
  });

  test('sink: JDBC URL from the connection; the Fluss DDL creates every table in the spec database', () => {
    const sink = renderJob(spec, 'sink', conns);
    expect(sink.setup.join('\n')).toContain("'url' = 'jdbc:postgresql://127.0.0.1:15433/sgcc_dw?currentSchema=dw_grid_east_v0%2Cdw_grid_east%2Cgridflow'");
    const ddl = renderFlussDdl(spec, conns).join('\n');
    for (const t of ['dwd_power_equipment', 'dwd_equipment_reading', 'dws_region_stats', 'ads_grid_dashboard']) {
      expect(ddl).toContain(`fluss_catalog.\`east\`.${t}`);
    }
  });
});

describe('a version of the pipeline beside another (src/core/versions.ts)', () => {
  const base = parseSpec(testSpec({ name: 'grid_east', fluss: { cluster: 'local', database: 'east' } }));
  const v2 = { ...base, generation: 2 };

  test('generation 0 keeps the names pipelines had before versions', () => {
    expect(renderJob(base, 'ingest', conns).setup.join('\n')).toContain("'slot.name' = 'gridflow_grid_east_power_equipment'");
    expect(renderJob(base, 'dws', conns).flinkName).toBe('gridflow/grid_east/dws');
    expect(renderFlussDdl(base, conns).join('\n')).toContain('fluss_catalog.`east`');
  });

  test('generation n: its own slots, publications, Fluss database and job names; the same statements otherwise', () => {
    const ingest = renderJob(v2, 'ingest', conns);
    expect(ingest.flinkName).toBe('gridflow/grid_east/v2/ingest');
    expect(ingest.executionConfig['pipeline.name']).toBe('gridflow/grid_east/v2/ingest');
    const ddl = ingest.setup.join('\n');
    expect(ddl).toContain("'slot.name' = 'gridflow_grid_east_v2_power_equipment'");
    expect(ddl).toContain("'debezium.publication.name' = 'gridflow_grid_east_v2_equipment_reading'");
    expect(ingest.dml).toContain('fluss_catalog.`east_v2`.dwd_power_equipment');
    expect(ingest.dml).not.toContain('`east`');
    expect(renderFlussDdl(v2, conns).join('\n')).toContain('CREATE DATABASE IF NOT EXISTS fluss_catalog.`east_v2`');
    expect(ingest.fingerprint).not.toBe(renderJob(base, 'ingest', conns).fingerprint);
  });

  test("the sink writes unqualified names through its version's search path; the probe goes by the pipeline's name", () => {
    const sink = renderJob(v2, 'sink', conns);
    const setup = sink.setup.join('\n');
    expect(setup).toContain('currentSchema=dw_grid_east_v2%2Cdw_grid_east%2Cgridflow');
    expect(setup).toMatch(/'table-name' = 'ads_equipment_health'/);
    expect(setup).toMatch(/'table-name' = 'probe_hops'/);
    expect(setup).not.toMatch(/'table-name' = '[a-z_]+\./);
    expect(sink.dml).toContain("'grid_east'");
    expect(sink.dml).toContain('fluss_catalog.`east_v2`');
  });
});
