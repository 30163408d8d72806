/** `gridflow alerts` and the spec's alerts field on the command line: bad input is refused before anything connects. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-cli-alerts-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const err: string[] = [];
  const out: string[] = [];
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  try {
    return { code: await main(argv), stderr: err.join(''), stdout: out.join('') };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

const specFile = (alerts: unknown) => {
  const f = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(
    f,
    JSON.stringify({ name: 'grid_east', source: { connection: 'source_admin', cdcConnection: 'source_cdc' }, sink: { connection: 'sink' }, fluss: 'local', flink: 'local', savepointDir: 'file:///tmp/sp', alerts }),
  );
  return f;
};

test('gridflow alerts --help says where webhook URLs live', async () => {
  const r = await run(['alerts', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/GRIDFLOW_WEBHOOK_<NAME>=https:/);
});

test.each([
  [['alerts'], /gridflow alerts — /, 'stdout'],
  [['alerts', 'frob'], /unknown alerts command frob \(status, test\)/, 'stderr'],
  [['alerts', 'status', '--text', 'x'], /unknown option --text/, 'stderr'],
  [['alerts', 'status', 'extra'], /alerts status takes no further arguments; got "extra"/, 'stderr'],
  [['alerts', 'test', '--timeout', '0'], /--timeout must be an integer ≥ 1/, 'stderr'],
  [['alerts', 'test', '--text', 'LONG'], /--text needs a message of at most 2000 characters/, 'stderr'],
] as const)('gridflow %s → exit 2', async (argv, message, stream) => {
  const r = await run(argv.map((a) => (a === 'LONG' ? 'x'.repeat(2001) : a)));
  expect(r.code).toBe(2);
  expect(stream === 'stdout' ? r.stdout : r.stderr).toMatch(message);
});

test('a spec that puts a webhook URL where a name belongs is refused with the reason', async () => {
  const r = await run(['deploy', '--spec', specFile({ webhooks: [{ name: 'https://oapi.dingtalk.com/robot/send?access_token=abc', format: 'dingtalk' }] })]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/alerts\.webhooks\.0\.name: .* is an address; name a webhook configured on the worker/);
  expect(r.stderr).not.toContain('access_token=abc');
});
