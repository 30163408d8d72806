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

test('display width counts CJK characters as two columns', () => {
  const { displayWidth } = require('../../../src/cli/output') as typeof import('../../../src/cli/output');
  expect(displayWidth('发电机')).toBe(6);
  expect(displayWidth('GEN-0001')).toBe(8);
  expect(displayWidth('华东发电机 #260')).toBe(15);
});
