import { durationMs, parseSpec, SpecError } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

describe('PipelineSpec', () => {
  test('defaults fill what an operator leaves out', () => {
    const spec = parseSpec(testSpec({ savepoints: undefined, watch: undefined }));
    expect(spec.version).toBe(1);
    expect(spec.source.schema).toBe('public');
    // Named after the pipeline, so two pipelines never share them; sgcc keeps the contract's names.
    expect(spec.fluss.database).toBe('wf');
    expect(spec.sink.schema).toBe('dw_wf');
    const sgcc = parseSpec(testSpec({ name: 'sgcc' }));
    expect([sgcc.fluss.database, sgcc.sink.schema]).toEqual(['sgcc', 'dw']);
    const named = parseSpec(testSpec({ sink: { connection: 'sink', schema: 'east_dw' }, fluss: { cluster: 'local', database: 'east' } }));
    expect([named.fluss.database, named.sink.schema]).toEqual(['east', 'east_dw']);
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
    [{ savepointDir: 'file://tmp/sp' }, /savepointDir: an absolute URI: file:\/\/\/an\/absolute\/path/],
    [{ checkpointInterval: '2h' }, /checkpointInterval: between 100ms and 1h/],
    [{ watch: { interval: '1h' } }, /watch\.interval: between 100ms and 10min/],
    [{ watch: { readinessTimeout: '0s' } }, /watch\.readinessTimeout: between 1s and 1h/],
    [{ savepoints: { every: '1s' } }, /savepoints\.every: 0s \(off\) or at least 10s/],
    [{ checkpointInterval: '5min', watch: { checkpointStallAfter: '2min' } }, /watch\.checkpointStallAfter: 2min must be longer than checkpointInterval \(5min\)/],
    [{ jobs: { ingest: { parallelism: 64 }, dws: { parallelism: 64 }, ads: { parallelism: 64 } } }, /jobs: the jobs need 193 task slots; the local provisioner starts at most 128/],
    [{ sink: { connection: 'sink', schema: 'Bad' } }, /sink\.schema: a lower-case identifier/],
    // Clusters by name (issue 11): an address where a name belongs, a malformed name, a missing one.
    [{ fluss: { bootstrap: '127.0.0.1:9123' } }, /fluss\.bootstrap: an address does not belong in a spec; name a cluster configured on the worker/],
    [{ flink: { restUrl: 'http://10.0.0.9:8081', gatewayUrl: 'http://10.0.0.9:8083' } }, /flink: addresses \(restUrl, gatewayUrl\) do not belong in a spec/],
    [{ flink: 'http://10.0.0.9:8081' }, /flink: "http:\/\/10\.0\.0\.9:8081" is an address; name a cluster configured on the worker/],
    [{ fluss: '10.0.0.9:9123' }, /fluss: "10\.0\.0\.9:9123" is an address/],
    [{ flink: 'Prod East' }, /flink: "Prod East" is not a cluster name/],
    [{ flink: 42 }, /flink: the name of a cluster configured on the worker \(e\.g\. "local"\), got number/],
    [{ flink: undefined }, /flink: required: the name of a cluster/],
    [{ fluss: { cluster: 'local', replicas: 3 } }, /fluss: unknown field "replicas"/],
    [{ fluss: { cluster: 'local', database: 'Sgcc' } }, /fluss\.database: a lower-case identifier/],
    [{ source: { connection: 'source_admin', cdcConnection: 'source_cdc', password: 'x' } }, /source: unknown field "password"/],
    [{ provisioner: 'kubernetes' }, /provisioner: Invalid enum value/],
    // Flink options the control plane relies on, or that break the contract, are refused with the key and why.
    [{ jobs: { dws: { config: { 'table.exec.state.ttl': '1h' } } } }, /jobs\.dws\.config\.table\.exec\.state\.ttl: table\.exec\.state\.ttl cannot be set here: the aggregates would forget rows/],
    [{ jobs: { ads: { config: { 'pipeline.name': 'mine' } } } }, /jobs\.ads\.config\.pipeline\.name: .*finds its jobs by this name/],
    [{ jobs: { ads: { config: { 'execution.state-recovery.ignore-unclaimed-state': 'true' } } } }, /execution\.state-recovery\.ignore-unclaimed-state cannot be set here: a restore that drops state it cannot map would lose data silently/],
    [{ jobs: { ads: { config: { 'execution.state-recovery.path': 'file:///x' } } } }, /execution\.state-recovery\.path cannot be set here: gridflow chooses the restore point/],
    [{ jobs: { ingest: { config: { 'execution.checkpointing.externalized-checkpoint-retention': 'DELETE_ON_CANCELLATION' } } } }, /the retained checkpoints are what a lost job restarts from/],
    [{ jobs: { sink: { config: { 'table.local-time-zone': 'Asia/Shanghai' } } } }, /table\.local-time-zone cannot be set here/],
    [{ jobs: { sink: { config: { 'parallelism.default': '2' } } } }, /set jobs\.<job>\.parallelism instead/],
    [{ jobs: { sink: { config: { 'table.exec.resource.default-parallelism': '4' } } } }, /set jobs\.<job>\.parallelism instead/],
    [{ jobs: { ads: { config: { 'execution.state-recovery.claim-mode': 'CLAIM' } } } }, /Flink may delete the savepoint a rollback restores from/],
    [{ jobs: { ads: { config: { 'state.savepoints.dir': 'file:///elsewhere' } } } }, /the pipeline's own folder/],
  ])('a bad spec is refused naming the field: %j', (override, message) => {
    expect(() => parseSpec(testSpec(override))).toThrow(SpecError);
    expect(() => parseSpec(testSpec(override))).toThrow(message);
  });

  test('job settings that keep the contract are accepted (mini-batch, its latency, the agg strategy)', () => {
    const spec = parseSpec(
      testSpec({ jobs: { ads: { config: { 'table.exec.mini-batch.allow-latency': '1s', 'table.optimizer.agg-phase-strategy': 'ONE_PHASE' } } } }),
    );
    expect(spec.jobs.ads.config).toEqual({ 'table.exec.mini-batch.allow-latency': '1s', 'table.optimizer.agg-phase-strategy': 'ONE_PHASE' });
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
