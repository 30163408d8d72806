import { inspect } from 'node:util';
import { DatabaseError } from 'pg';
import { parseConnectionUrl } from '../../../src/config';
import { PostgresError, classifyCode, mapPostgresError } from '../../../src/postgres/errors';
import { redact } from '../../../src/core/redact';
import { withDatabase } from '../../../src/postgres/connection';

const conn = parseConnectionUrl('source_admin', 'postgres://gridflow_admin:s3cret-pw@127.0.0.1:15432/sgcc_source');

function dbError(code: string, message: string, fields: Partial<DatabaseError> = {}): DatabaseError {
  const err = new DatabaseError(message, message.length, 'error');
  err.severity = 'ERROR';
  err.code = code;
  Object.assign(err, fields);
  return err;
}

describe('mapPostgresError classifies by SQLSTATE code, never by message text', () => {
  test.each([
    ['42P01', 'undefined-table', false],
    ['55006', 'object-in-use', false],
    ['42501', 'insufficient-privilege', false],
    ['42710', 'duplicate-object', false],
    ['42704', 'undefined-object', false],
    ['3D000', 'undefined-database', false],
    ['55000', 'prerequisite', false],
    ['28P01', 'authentication', false],
    ['08006', 'connection', true],
    ['08001', 'connection', true],
    ['57P01', 'connection', true],
    ['57P03', 'connection', true],
    ['40001', 'serialization', true],
    ['40P01', 'serialization', true],
    ['55P03', 'lock-not-available', true],
    ['57014', 'timeout', true],
    ['53300', 'resources', true],
    ['23505', 'constraint-violation', false],
    ['22003', 'invalid-data', false],
    ['25006', 'read-only', false],
    ['42601', 'invalid-statement', false],
    ['XX000', 'other', false],
  ])('%s → %s (transient %s)', (code, kind, transient) => {
    const mapped = mapPostgresError(dbError(code, 'whatever the server says'), { connection: conn });
    expect(mapped).toBeInstanceOf(PostgresError);
    expect(mapped).toMatchObject({ code, kind, transient });
  });

  test('message text that suggests another kind does not change the kind', () => {
    const mapped = mapPostgresError(dbError('42501', 'relation "x" does not exist (connection refused)')) as PostgresError;
    expect(mapped.kind).toBe('insufficient-privilege');
    expect(mapped.transient).toBe(false);
    const other = mapPostgresError(dbError('42P01', 'permission denied for table x')) as PostgresError;
    expect(other.kind).toBe('undefined-table');
  });

  test('the message names the operation, the connection (no password) and the object', () => {
    const err = dbError('42P01', 'relation "dw.ads_grid_dashboard" does not exist');
    const mapped = mapPostgresError(err, { connection: conn, operation: 'read dw.ads_grid_dashboard' }) as PostgresError;
    expect(mapped.message).toBe(
      'read dw.ads_grid_dashboard on source_admin (gridflow_admin@127.0.0.1:15432/sgcc_source) failed: table does not exist (42P01): relation "dw.ads_grid_dashboard" does not exist',
    );
    expect(mapped.cause).toBe(err);

    const withFields = mapPostgresError(dbError('23514', 'new row violates check constraint', { table: 'power_equipment', schema: 'public', hint: 'check the value' })) as PostgresError;
    expect(withFields.object).toBe('public.power_equipment');
    expect(withFields.message).toContain('[public.power_equipment]');
    expect(withFields.message).toContain('(hint: check the value)');
  });

  test('never a password in the message, even when the server echoes it', () => {
    const err = dbError('42601', `syntax error at or near "s3cret-pw" in ALTER ROLE x PASSWORD 'other-secret'`);
    const mapped = mapPostgresError(err, { connection: conn }) as PostgresError;
    expect(mapped.message).not.toContain('s3cret-pw');
    expect(mapped.message).not.toContain('other-secret');
    expect(JSON.stringify(mapped)).not.toContain('s3cret-pw');
    // loggers and Temporal print the cause chain: a cause holding the secret is not kept
    expect(mapped.cause).toBeUndefined();
    expect(inspect(mapped, { depth: 5 })).not.toMatch(/s3cret-pw|other-secret/);
    expect(redact("CREATE ROLE a PASSWORD 'it''s'")).toBe("CREATE ROLE a PASSWORD '***'");
    // a mapped error attached to its connection later is redacted then
    const late = (mapPostgresError(dbError('42601', 'near "s3cret-pw"')) as PostgresError).onConnection(conn);
    expect(late.message).not.toContain('s3cret-pw');
    expect(late.connection).toContain('source_admin');
    expect(inspect(late, { depth: 5 })).not.toContain('s3cret-pw');
  });

  test('network errors are connection failures, transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(mapPostgresError(refused, { connection: conn })).toMatchObject({ kind: 'connection', transient: true, code: 'ECONNREFUSED' });
    // pg's connect timeout has no code: known to be a connection failure only from where it happened
    const timeout = new Error('timeout expired');
    expect(mapPostgresError(timeout, { connection: conn, connectionFailed: true })).toMatchObject({ kind: 'connection', transient: true });
  });

  test("errors of the caller's own making pass through unchanged", () => {
    const bug = new TypeError('x is undefined');
    expect(mapPostgresError(bug, { connection: conn })).toBe(bug);
    const already = mapPostgresError(dbError('42P01', 'x'));
    expect(mapPostgresError(already)).toBe(already);
    expect(mapPostgresError('a string')).toBe('a string');
  });

  test('classifyCode falls back by class', () => {
    expect(classifyCode('08P01').kind).toBe('connection');
    expect(classifyCode('23503').kind).toBe('constraint-violation');
    expect(classifyCode('42P10').kind).toBe('invalid-statement');
    expect(classifyCode('P0001').kind).toBe('other');
  });
});

test('withDatabase keeps the password non-enumerable', () => {
  const scratch = withDatabase(conn, 'gf_scratch');
  expect(scratch.database).toBe('gf_scratch');
  expect(scratch.password).toBe('s3cret-pw');
  expect(JSON.stringify(scratch)).not.toContain('s3cret-pw');
  expect(() => withDatabase(conn, 'Bad-Name')).toThrow(/must match/);
});
