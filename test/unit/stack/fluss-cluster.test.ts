/** The local stack's Fluss as one tablet server or a small cluster (GRIDFLOW_FLUSS_TABLETS). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import { startedReplicationFactor } from '../../../src/stack/components/fluss';
import { StackError, components, createContext, flussReplicationFactor } from '../../../src/stack/manager';

const tablets = (env: Record<string, string>) =>
  components(createContext(loadConfig({ GRIDFLOW_HOME: '/nonexistent/gridflow-fluss-cluster', ...env }), () => undefined))
    .filter((c) => c.name.startsWith('fluss-tablet-'))
    .map((c) => `${c.name} ${c.address}`);

test('three tablet servers by default, on their own ports; one with GRIDFLOW_FLUSS_TABLETS=1', () => {
  expect(tablets({})).toEqual(['fluss-tablet-0 127.0.0.1:9124', 'fluss-tablet-1 127.0.0.1:9125', 'fluss-tablet-2 127.0.0.1:9126']);
  expect(tablets({ GRIDFLOW_FLUSS_TABLETS: '1' })).toEqual(['fluss-tablet-0 127.0.0.1:9124']);
  expect(tablets({ GRIDFLOW_FLUSS_TABLETS: '3', GRIDFLOW_PORT_OFFSET: '20000' })[2]).toBe('fluss-tablet-2 127.0.0.1:29126');
});

test('replication factor: min(tablet servers, 3) unless set; more copies than servers is refused, naming both', () => {
  expect(flussReplicationFactor(1, undefined)).toBe(1);
  expect(flussReplicationFactor(3, undefined)).toBe(3);
  expect(flussReplicationFactor(5, undefined)).toBe(3);
  expect(flussReplicationFactor(5, 2)).toBe(2);
  expect(() => flussReplicationFactor(1, 3)).toThrow(StackError);
  expect(() => flussReplicationFactor(1, 3)).toThrow(/GRIDFLOW_FLUSS_REPLICATION=3 needs at least 3 tablet servers; the stack has 1/);
});

test('a bad tablet count is a configuration error naming the variable', () => {
  expect(() => loadConfig({ GRIDFLOW_FLUSS_TABLETS: '0' })).toThrow(/GRIDFLOW_FLUSS_TABLETS/);
  expect(() => loadConfig({ GRIDFLOW_FLUSS_TABLETS: 'three' })).toThrow(/GRIDFLOW_FLUSS_TABLETS/);
});

test('the replication factor a running server was started with is read back from its server.yaml', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-fluss-'));
  try {
    expect(startedReplicationFactor(dir, 'fluss-coordinator')).toBeUndefined();
    fs.mkdirSync(path.join(dir, 'fluss-coordinator', 'conf'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'fluss-coordinator', 'conf', 'server.yaml'), 'zookeeper.address: x:1\ndefault.replication.factor: 3\n');
    expect(startedReplicationFactor(dir, 'fluss-coordinator')).toBe(3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
