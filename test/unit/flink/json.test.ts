import { parseJsonLossless } from '../../../src/flink/json';
import { fixture } from './fixture-server';

test('BIGINT values from a real result page keep every digit', () => {
  const rec = fixture('gateway-query-stream-payload');
  const raw = rec.rawBody as string;
  const page = parseJsonLossless(raw) as { results: { data: { fields: unknown[] }[] } };
  const ids = page.results.data.map((r) => r.fields[0]);
  const rawIds = [...raw.matchAll(/"fields":\[(-?\d+),/g)].map((m) => m[1]);
  expect(rawIds.length).toBeGreaterThan(0);
  expect(ids).toEqual(rawIds);
  // ...which plain JSON.parse does not manage:
  const lossy = (JSON.parse(raw) as typeof page).results.data.map((r) => String(r.fields[0]));
  expect(lossy).not.toEqual(rawIds);
});

test('ordinary numbers stay numbers; strings are untouched', () => {
  expect(parseJsonLossless('{"a":1,"b":-2.25,"c":1.5e300,"d":"12345678901234567890","e":[9007199254740991]}')).toEqual({
    a: 1,
    b: -2.25,
    c: 1.5e300,
    d: '12345678901234567890',
    e: [9007199254740991],
  });
});

test('numbers a double would round become strings', () => {
  expect(parseJsonLossless('[9007199254740993, -9223372036854775808, 12345678901234567.5, 0.1234567890123456789, 1.50]')).toEqual([
    '9007199254740993',
    '-9223372036854775808',
    '12345678901234567.5',
    '0.1234567890123456789',
    1.5,
  ]);
});

test('escaped quotes inside strings do not confuse the scanner', () => {
  expect(parseJsonLossless('{"s":"a \\" 12345678901234567890 \\\\","n":12345678901234567890}')).toEqual({
    s: 'a " 12345678901234567890 \\',
    n: '12345678901234567890',
  });
});
