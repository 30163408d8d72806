import { durationMs, parseSpec, SpecError } from '../../../src/pipeline/spec';
import { testSpec } from '../../workflows/doubles';

describe('PipelineSpec', () => {
  test('defaults fill what an operator leaves out', () => {
    const spec = parseSpec(testSpec({ savepoints: undefined, watch: undefined }));
    expect(spec.version).toBe(1);
    expect(spec.source.schema).toBe('public');
    expect(spec.fluss.database).toBe('sgcc');
    expect(spec.jobs.ads).toEqual({ parallelism: 1, config: {} });
    expect(spec.checkpointInterval).toBe('10s');
    expect(spec.savepoints).toEqual({ every: '30min', retain: 3 });
    expect(spec.watch.readinessTimeout).toBe('3min');
  });

  test.each([
    [{ name: 'SGCC' }, /invalid pipeline spec: name: a lower-case identifier/],
    [{ name: 'a'.repeat(37) }, /name: at most 36 characters/],
    [{ name: 'x; drop table' }, /name: a lower-case identifier/],
    [{ jobs: { ads: { parallelism: 0 } } }, /jobs\.ads\.parallelism: Number must be greater than or equal to 1/],
    [{ jobs: { reporting: {} } }, /jobs: unknown field "reporting"/],
    [{ checkpointInterval: 'soon' }, /checkpointInterval: a duration such as 500ms, 10s, 5min or 1h/],
    [{ savepointDir: '/tmp/sp' }, /savepointDir: a URI such as file:\/\/\/data\/savepoints/],
    [{ fluss: { bootstrap: 'localhost' } }, /fluss\.bootstrap: host:port/],
    [{ source: { connection: 'source_admin', cdcConnection: 'source_cdc', password: 'x' } }, /source: unknown field "password"/],
    [{ provisioner: 'kubernetes' }, /provisioner: Invalid enum value/],
  ])('a bad spec is refused naming the field: %j', (override, message) => {
    expect(() => parseSpec(testSpec(override))).toThrow(SpecError);
    expect(() => parseSpec(testSpec(override))).toThrow(message);
  });

  test('durations', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('10s')).toBe(10_000);
    expect(durationMs('5min')).toBe(300_000);
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('1h')).toBe(3_600_000);
    expect(() => durationMs('5 days')).toThrow(/not a duration/);
  });
});
