/**
 * Clusters by name (issue 11): a spec names a Flink and a Fluss cluster; only the worker's configuration
 * says where they are, so a spec (or a raw Temporal client) cannot send the job SQL — and the passwords in
 * it — to an address the worker was not given.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { ClusterError, Clusters, resolveEndpoints } from '../../../src/core/clusters';
import { SpecError, parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

const clusters: Clusters = {
  flink: { local: { restUrl: 'http://127.0.0.1:8081', gatewayUrl: 'http://127.0.0.1:8083' }, east: { restUrl: 'http://jm.east:8081', gatewayUrl: 'http://gw.east:8083' } },
  fluss: { local: { bootstrap: '127.0.0.1:9123' }, east: { bootstrap: 'fluss-1.east:9123,fluss-2.east:9123' } },
};

describe('resolving cluster names', () => {
  test('a name resolves to the configured addresses; both spellings of fluss parse to the same spec', () => {
    const short = parseSpec(testSpec({ flink: 'east', fluss: 'east' }));
    const long = parseSpec(testSpec({ flink: { cluster: 'east' }, fluss: { cluster: 'east' } }));
    expect(short).toEqual(long);
    expect(short.fluss).toEqual({ cluster: 'east', database: 'wf' });
    expect(resolveEndpoints(short, clusters)).toEqual({
      flink: { name: 'east', restUrl: 'http://jm.east:8081', gatewayUrl: 'http://gw.east:8083' },
      fluss: { name: 'east', bootstrap: 'fluss-1.east:9123,fluss-2.east:9123' },
    });
  });

  test('a cluster the worker does not know is refused naming it and the ones it knows', () => {
    const spec = parseSpec(testSpec({ flink: 'west' }));
    expect(() => resolveEndpoints(spec, clusters)).toThrow(ClusterError);
    expect(() => resolveEndpoints(spec, clusters)).toThrow('flink: cluster "west" is not configured on this worker (configured Flink clusters: east, local); add it to GRIDFLOW_CLUSTERS');
    // Names are looked up as own keys only: no prototype names.
    expect(() => resolveEndpoints(parseSpec(testSpec({ fluss: 'constructor' })), clusters)).toThrow(/fluss: cluster "constructor" is not configured/);
  });

  test('an old workflow input with addresses resolves only to the configured cluster with exactly those addresses', () => {
    const legacy = { flink: { restUrl: 'http://127.0.0.1:8081/', gatewayUrl: 'http://127.0.0.1:8083' }, fluss: { bootstrap: '127.0.0.1:9123', database: 'sgcc' } };
    // Names only for anything a person or client sends...
    expect(() => parseSpec(testSpec(legacy))).toThrow(SpecError);
    // ...the workflow reads old inputs, and the worker maps them to a cluster it was given.
    const old = parseSpec(testSpec(legacy), 'addresses-too');
    expect(resolveEndpoints(old, clusters)).toMatchObject({ flink: { name: 'local' }, fluss: { name: 'local', bootstrap: '127.0.0.1:9123' } });
    const elsewhere = parseSpec(testSpec({ ...legacy, flink: { restUrl: 'http://evil.example:8081', gatewayUrl: 'http://127.0.0.1:8083' } }), 'addresses-too');
    expect(() => resolveEndpoints(elsewhere, clusters)).toThrow(/flink: the spec names addresses \(http:\/\/evil\.example:8081, http:\/\/127\.0\.0\.1:8083\) that are not a cluster configured on this worker/);
    const otherFluss = parseSpec(testSpec({ ...legacy, fluss: { bootstrap: 'evil.example:9123' } }), 'addresses-too');
    expect(() => resolveEndpoints(otherFluss, clusters)).toThrow(/fluss: the spec names the address evil\.example:9123, which is not a cluster configured/);
  });
});

describe('the worker configuration of clusters', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-clusters-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, body: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, body);
    return f;
  };

  test('local is the stack (or GRIDFLOW_FLINK_REST / _SQL_GATEWAY / _FLUSS_BOOTSTRAP); GRIDFLOW_CLUSTERS adds more', () => {
    expect(loadConfig({}).clusters).toEqual({
      flink: { local: { restUrl: 'http://127.0.0.1:8081', gatewayUrl: 'http://127.0.0.1:8083' } },
      fluss: { local: { bootstrap: '127.0.0.1:9123' } },
    });
    const extra = file('ok.json', JSON.stringify({ flink: { east: clusters.flink.east }, fluss: { east: clusters.fluss.east } }));
    const config = loadConfig({ GRIDFLOW_CLUSTERS: extra, GRIDFLOW_FLUSS_BOOTSTRAP: 'fluss.local:9123' });
    expect(config.clusters.flink.east).toEqual(clusters.flink.east);
    expect(config.clusters.fluss).toEqual({ local: { bootstrap: 'fluss.local:9123' }, east: clusters.fluss.east });
    expect(config.fluss.bootstrap).toBe('fluss.local:9123');
  });

  test.each([
    ['missing.json', null, /GRIDFLOW_CLUSTERS: cannot read .*missing\.json: .*ENOENT/],
    ['broken.json', '{"flink": ', /GRIDFLOW_CLUSTERS: cannot read .*broken\.json: .*JSON/],
    ['badname.json', JSON.stringify({ flink: { 'Prod East': clusters.flink.east } }), /GRIDFLOW_CLUSTERS \(.*badname\.json\) flink\.Prod East: a cluster name/],
    ['badurl.json', JSON.stringify({ flink: { east: { restUrl: 'jm.east', gatewayUrl: 'http://gw.east:8083' } } }), /flink\.east\.restUrl: Invalid url/],
    ['badfluss.json', JSON.stringify({ fluss: { east: { bootstrap: 'fluss-1.east' } } }), /fluss\.east\.bootstrap: host:port/],
    ['unknown.json', JSON.stringify({ kafka: {} }), /GRIDFLOW_CLUSTERS \(.*unknown\.json\): unknown field kafka/],
  ])('a bad GRIDFLOW_CLUSTERS file (%s) is refused naming the file and the field', (name, body, message) => {
    const f = body === null ? path.join(dir, name) : file(name, body);
    expect(() => loadConfig({ GRIDFLOW_CLUSTERS: f })).toThrow(ConfigError);
    expect(() => loadConfig({ GRIDFLOW_CLUSTERS: f })).toThrow(message);
  });
});
