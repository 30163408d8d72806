import * as fs from 'node:fs';
import * as path from 'node:path';
import { fillPlaceholders, identifier, isDml, literal, placeholdersOf, splitStatements, TemplateError } from '../../../src/warehouse/sql';

describe('splitStatements', () => {
  test('semicolons inside quotes and comments do not split; a statement set stays whole', () => {
    const sql = `-- a comment; with a semicolon
CREATE TABLE t (x STRING) WITH ('k' = 'a;b', 'q' = 'it''s');
EXECUTE STATEMENT SET
BEGIN
  INSERT INTO a SELECT * FROM t;
  INSERT INTO b SELECT * FROM t; -- trailing comment
END;
SELECT 1`;
    const parts = splitStatements(sql);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe("CREATE TABLE t (x STRING) WITH ('k' = 'a;b', 'q' = 'it''s')");
    expect(parts[1]).toMatch(/^EXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO a SELECT \* FROM t;\n  INSERT INTO b SELECT \* FROM t;[\s\S]*END$/);
    expect(parts[2]).toBe('SELECT 1');
    expect(isDml(parts[1])).toBe(true);
    expect(isDml(parts[0])).toBe(false);
  });

  test('malformed input is an error, not a silent mis-split', () => {
    expect(() => splitStatements("SELECT 'open")).toThrow(TemplateError);
    expect(() => splitStatements('EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1;')).toThrow(/without END/);
  });

  test('every job file splits into temporary DDL and exactly one DML', () => {
    for (const job of ['ingest', 'dws', 'ads', 'sink']) {
      const statements = splitStatements(fs.readFileSync(path.join(__dirname, '../../../sql/flink', `${job}.sql`), 'utf8'));
      expect(statements.filter(isDml)).toHaveLength(1);
      for (const s of statements.filter((x) => !isDml(x))) expect(s).toMatch(/^(CREATE TEMPORARY (TABLE|VIEW|FUNCTION)|SET ')/);
    }
  });
});

describe('fillPlaceholders', () => {
  test('identifiers are validated, literals quoted so a value cannot end its string', () => {
    const out = fillPlaceholders("'${user}' ${db}", { user: literal("o'brien"), db: identifier('sgcc') });
    expect(out).toBe("'o''brien' sgcc");
  });

  test('refuses values that are not what the placeholder needs', () => {
    expect(() => fillPlaceholders('${db}', { db: identifier('sgcc; DROP') })).toThrow(/placeholder \$\{db\}: .* is not an identifier/);
    expect(() => fillPlaceholders('${h}', { h: { kind: 'host', value: 'a b' } })).toThrow(/not a host name/);
    expect(() => fillPlaceholders('${u}', { u: { kind: 'jdbcUrl', value: 'jdbc:mysql://x:1/db' } })).toThrow(/jdbc:postgresql/);
    expect(() => fillPlaceholders('${p}', { p: literal('a\nb') })).toThrow(/control characters/);
  });

  test('a placeholder without a value is an error', () => {
    expect(() => fillPlaceholders('${missing}', {})).toThrow('placeholder ${missing} has no value');
    expect(placeholdersOf('${b} ${a} ${b}')).toEqual(['a', 'b']);
  });
});
