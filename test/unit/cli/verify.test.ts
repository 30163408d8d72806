/** `gridflow verify`: argument checks and the one-sentence error when Temporal is not there. */
import * as net from 'node:net';
import { UsageError, parseCommandLine } from '../../../src/cli/args';
import { TemporalUnavailable } from '../../../src/cli/common';
import { Out } from '../../../src/cli/output';
import { VERIFY_COMMAND, everyFlag, verifyCommand, verifyScheduleId } from '../../../src/cli/verify';

const args = (...argv: string[]) => parseCommandLine(VERIFY_COMMAND, argv);

test('--every: default 5m, durations as the spec writes them, at least 10 s', () => {
  expect(everyFlag(args('verify', 'schedule'))).toEqual({ text: '5m', ms: 300_000 });
  expect(everyFlag(args('verify', 'schedule', '--every', '90s')).ms).toBe(90_000);
  expect(everyFlag(args('verify', 'schedule', '--every', '1h')).ms).toBe(3_600_000);
  expect(() => everyFlag(args('verify', 'schedule', '--every', 'often'))).toThrow(new UsageError('--every must be a duration such as 30s, 5m or 1h, got "often"'));
  expect(() => everyFlag(args('verify', 'schedule', '--every', '5s'))).toThrow('--every must be at least 10s, got 5s');
});

test('the schedule id is verify:<name>', () => {
  expect(verifyScheduleId('sgcc')).toBe('verify:sgcc');
});

test('an unknown subcommand or option is a usage error', async () => {
  const out = new Out(false, true);
  await expect(verifyCommand(args('verify', 'sometimes'), out)).rejects.toThrow(/unknown verify command sometimes/);
  await expect(verifyCommand(args('verify', 'now', '--every', '5m'), out)).rejects.toThrow(new UsageError('unknown option --every'));
});

test('Temporal unreachable: one sentence naming the address and `gridflow stack up`', async () => {
  // A port nobody listens on: bind, read the port, close.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const saved = process.env.GRIDFLOW_TEMPORAL_ADDRESS;
  process.env.GRIDFLOW_TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  try {
    const err = await verifyCommand(args('verify', 'unschedule', '--name', 'sgcc'), new Out(false, true)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalUnavailable);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach Temporal at 127\\.0\\.0\\.1:${port} .*\`gridflow stack up\``));
  } finally {
    if (saved === undefined) delete process.env.GRIDFLOW_TEMPORAL_ADDRESS;
    else process.env.GRIDFLOW_TEMPORAL_ADDRESS = saved;
  }
}, 30_000);
