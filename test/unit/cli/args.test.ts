import { UsageError, allowFlags, intFlag, parseArgs } from '../../../src/cli/args';

test('positionals, boolean flags, valued flags in both spellings', () => {
  const a = parseArgs(['stack', 'logs', 'temporal', '-n', '20', '--json', '--rate=5', '-f'], ['n', 'rate']);
  expect(a.positionals).toEqual(['stack', 'logs', 'temporal']);
  expect(a.flags).toEqual({ n: '20', json: true, rate: '5', f: true });
});

test('errors name the flag', () => {
  expect(() => parseArgs(['--rate'], ['rate'])).toThrow('--rate needs a value');
  expect(() => parseArgs(['--json=yes'])).toThrow('--json takes no value');
  expect(() => allowFlags(parseArgs(['--purg']), ['purge'])).toThrow(new UsageError('unknown option --purg'));
  expect(() => intFlag(parseArgs(['--n=x'], ['n']), 'n', 1, 1)).toThrow('--n must be an integer ≥ 1');
  expect(intFlag(parseArgs([]), 'n', 7)).toBe(7);
});
