/**
 * Bad CLI input (issue 11): every case ends with exit code 2 (usage) or 3 (configuration) and one
 * sentence naming the flag, argument or field — before anything is started, sent or stored.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-cli-bad-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const spec = (over: Record<string, unknown>) =>
  JSON.stringify({
    name: 'grid_east',
    source: { connection: 'source_admin', cdcConnection: 'source_cdc' },
    sink: { connection: 'sink' },
    fluss: 'local',
    flink: 'local',
    savepointDir: 'file:///tmp/sp',
    ...over,
  });

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), stderr: chunks.join('') };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

test.each([
  [['frobnicate'], 2, /unknown command frobnicate/],
  [['status', '--nmae', 'sgcc'], 2, /unknown option --nmae/],
  [['status', '--name'], 2, /--name needs a value/],
  [['status', '--json=yes'], 2, /--json takes no value/],
  [['redeploy', '--jobs', 'ads,reporting'], 2, /reporting/],
  [['redeploy', '--mode', 'yolo'], 2, /mode/],
  // --request-id takes a value (it was parsed as a switch, its value dropped as a stray word: bench/chaos found it).
  [['redeploy', '--request-id', 'bad id'], 2, /--request-id needs 1–100 characters/],
  [['redeploy', '--request-id', 'ok-1', '--mode', 'yolo'], 2, /--mode must be one of/],
  [['status', 'sgcc'], 2, /status takes no arguments; got "sgcc"/],
  [['verify', 'history', '-n', '0'], 2, /-n must be an integer ≥ 1/],
  [['verify', 'schedule', '--every', '1s'], 2, /--every/],
  [['verify', 'frob'], 2, /unknown verify command frob/],
  [['stack', 'explode'], 2, /stack/],
  [['dashboard', 'explode'], 2, /unknown dashboard command explode/],
  [['dashboard', '--prot', '9000'], 2, /unknown option --prot/],
  [['dashboard', 'start', '--port', '99999'], 2, /--port must be a port number 1\.\.65535, got "99999"/],
  [['dashboard', 'stop', '--port', '9000'], 2, /unknown option --port/],
  [['deploy', '--spec', '/nonexistent/spec.yaml'], 2, /cannot read --spec \/nonexistent\/spec\.yaml/],
  [['deploy', '--spec', 'BROKEN_YAML'], 2, /--spec .*broken\.yaml is not valid YAML/],
  [['deploy', '--spec', 'ADDRESS'], 2, /flink: "http:\/\/10\.0\.0\.9:8081" is an address; name a cluster configured on the worker/],
  [['deploy', '--spec', 'UNKNOWN_CLUSTER'], 2, /flink: cluster "west" is not configured on this worker \(configured Flink clusters: local\)/],
  [['deploy', '--spec', 'UPPER'], 2, /name: a lower-case identifier/],
  [['deploy', '--spec', 'LONG'], 2, /name: at most 36 characters/],
])('gridflow %j → exit %i, naming the problem', async (argv, code, message) => {
  const files: Record<string, string> = {
    BROKEN_YAML: file('broken.yaml', 'name: [unclosed\n  - x: : :'),
    ADDRESS: file('address.json', spec({ flink: 'http://10.0.0.9:8081' })),
    UNKNOWN_CLUSTER: file('west.json', spec({ flink: 'west' })),
    UPPER: file('upper.json', spec({ name: 'GridEast' })),
    LONG: file('long.json', spec({ name: `g${'x'.repeat(40)}` })),
  };
  const result = await run(argv.map((a) => files[a] ?? a));
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(code);
  expect(result.stderr.split('\n').filter(Boolean).length).toBeGreaterThan(0);
});
