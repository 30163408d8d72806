import { MASK, redact, redactDeep } from '../../../src/core/redact';

describe('one redactor for every form a secret takes', () => {
  test.each([
    ["'password' = 's3cr''et'", "'password' = '***'"],
    ["'database.password'='hunter22'", "'database.password'='***'"],
    [`"password" = 'hunter22'`, `"password" = '***'`],
    [`{"user":"gridflow","password":"hun\\"ter22","port":5432}`, `{"user":"gridflow","password":"***","port":5432}`],
    [`{"sslPassword" : "abc"}`, `{"sslPassword" : "***"}`],
    ['password=hunter22 user=x', 'password=*** user=x'],
    ['connect failed: password: hunter22', 'connect failed: password: ***'],
    ['{database.password=hunter22, database.user=cdc}', '{database.password=***, database.user=cdc}'],
    ['GRIDFLOW_PG_SINK=postgres://writer:w-pw%2C1@127.0.0.1:5432/sgcc_dw', 'GRIDFLOW_PG_SINK=postgres://writer:***@127.0.0.1:5432/sgcc_dw'],
    ['jdbc:postgresql://u:pw@h:5432/db', 'jdbc:postgresql://u:***@h:5432/db'],
    ["ALTER ROLE gridflow_cdc PASSWORD 'abc''def'", "ALTER ROLE gridflow_cdc PASSWORD '***'"],
    ['Authorization: Bearer eyJhbGciOi.xyz', 'Authorization: Bearer ***'],
    ['temporal --api-key tk_live_123 --namespace x', 'temporal --api-key *** --namespace x'],
    ['"api_key":"tk_live_123"', '"api_key":"***"'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test('a known secret is blanked wherever it appears, commas included (exception text quoting it back)', () => {
    const text = 'FATAL: role "cdc" failed: could not parse "s3,cr;et pw" as a number; password=s3,cr;et pw';
    const out = redact(text, ['s3,cr;et pw']);
    expect(out).not.toContain('s3,cr');
    expect(out).not.toContain('et pw');
  });

  test('text without secrets is left alone', () => {
    for (const t of ['job ads is RUNNING (3 restarts)', 'tests passed: 5', "'slot.name' = 'gridflow_sgcc_equipment_reading'", 'postgres://127.0.0.1:5432/db', 'token bucket refill']) {
      expect(redact(t)).toBe(t);
    }
  });

  test('idempotent', () => {
    const once = redact("'password' = 'x', password=y, postgres://u:z@h/db");
    expect(redact(once)).toBe(once);
    expect(once.match(/\*\*\*/g)).toHaveLength(3);
  });

  test('deep: strings inside events and statuses, and values under secret keys', () => {
    const event = { kind: 'error', message: "submit: 'password' = 'x'", detail: { password: 'plain', nested: ['postgres://a:b@c/d'] }, n: 3 };
    expect(redactDeep(event)).toEqual({ kind: 'error', message: `submit: 'password' = '${MASK}'`, detail: { password: MASK, nested: [`postgres://a:${MASK}@c/d`] }, n: 3 });
  });
});
