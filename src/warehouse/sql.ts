/**
 * The warehouse SQL lives in sql/ as readable files with ${placeholders} for names and connections
 * only. This module splits a file into statements and fills the placeholders, refusing anything that
 * is not a validated value: identifiers must match IDENTIFIER, literals are quoted, hosts and ports
 * are checked. A template naming a placeholder nobody supplies is an error, not an empty string.
 */
import { HOST_PORTS, IDENTIFIER } from '../constants';

export type PlaceholderValue =
  | { kind: 'identifier'; value: string }
  /** An identifier Flink SQL reads quoted (`order` is a valid database name and a reserved word). */
  | { kind: 'flinkIdentifier'; value: string }
  | { kind: 'literal'; value: string }
  | { kind: 'host'; value: string }
  | { kind: 'port'; value: number }
  | { kind: 'hostPorts'; value: string }
  | { kind: 'jdbcUrl'; value: string }
  /** Extra connector options appended to a WITH list: `,\n  'k' = 'v'` each (nothing when empty). */
  | { kind: 'options'; value: Array<[string, string]> };

export const identifier = (value: string): PlaceholderValue => ({ kind: 'identifier', value });
export const flinkIdentifier = (value: string): PlaceholderValue => ({ kind: 'flinkIdentifier', value });
export const literal = (value: string): PlaceholderValue => ({ kind: 'literal', value });

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function check(name: string, v: PlaceholderValue): string {
  const bad = (why: string) => new TemplateError(`placeholder \${${name}}: ${why}`);
  switch (v.kind) {
    case 'identifier':
      if (!IDENTIFIER.test(v.value)) throw bad(`${JSON.stringify(v.value)} is not an identifier matching ${IDENTIFIER}`);
      return v.value;
    case 'flinkIdentifier':
      if (!IDENTIFIER.test(v.value)) throw bad(`${JSON.stringify(v.value)} is not an identifier matching ${IDENTIFIER}`);
      return `\`${v.value}\``;
    case 'literal':
      // Every literal placeholder sits inside '...': double the quotes so a value cannot end it.
      if (/[\u0000-\u001f]/.test(v.value)) throw bad('control characters are not allowed');
      return v.value.replace(/'/g, "''");
    case 'host':
      // A host name, an IPv4 address, or a bare IPv6 address (::1).
      if (!/^[A-Za-z0-9.-]+$/.test(v.value) && !/^[0-9A-Fa-f:.]+$/.test(v.value)) throw bad(`${JSON.stringify(v.value)} is not a host name`);
      return v.value;
    case 'port':
      if (!Number.isInteger(v.value) || v.value < 1 || v.value > 65535) throw bad(`${v.value} is not a port`);
      return String(v.value);
    case 'hostPorts':
      if (!HOST_PORTS.test(v.value)) throw bad(`${JSON.stringify(v.value)} is not host:port[,host:port]`);
      return v.value;
    case 'options':
      return v.value
        .map(([k, x]) => {
          if (!/^[a-z][a-z0-9.-]*$/.test(k)) throw bad(`${JSON.stringify(k)} is not an option key`);
          if (/[\u0000-\u001f]/.test(x)) throw bad('control characters are not allowed');
          return `,\n  '${k}' = '${x.replace(/'/g, "''")}'`;
        })
        .join('');
    case 'jdbcUrl':
      // The database percent-encoded (upper case, or any character Postgres allows), IPv6 hosts bracketed.
      if (!/^jdbc:postgresql:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d+\/[A-Za-z0-9_.~%-]+(\?[A-Za-z0-9=&_.%\/-]*)?$/.test(v.value)) {
        throw bad(`${JSON.stringify(v.value)} is not a jdbc:postgresql://host:port/database URL`);
      }
      return v.value;
  }
}

/** Fill ${name} placeholders. Every placeholder must have a value; unused values are fine. */
export function fillPlaceholders(template: string, values: Record<string, PlaceholderValue>): string {
  return template.replace(/\$\{([a-z_][a-z0-9_]*)\}/g, (_m, name: string) => {
    const v = values[name];
    if (!v) throw new TemplateError(`placeholder \${${name}} has no value`);
    return check(name, v);
  });
}

/** Placeholder names a template uses (for tests and for listing what a deployment needs). */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(/\$\{([a-z_][a-z0-9_]*)\}/g)].map((m) => m[1]))].sort();
}

/**
 * Split SQL into statements at top-level semicolons, skipping -- comments and quoted text, keeping
 * `EXECUTE STATEMENT SET BEGIN ...; ...; END` together (one statement for the SQL Gateway).
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  let inSet = false;
  const flush = () => {
    const s = current.trim();
    if (s) statements.push(s);
    current = '';
  };
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      current += '\n';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new TemplateError(`unterminated ${ch} quote starting at: ${sql.slice(i, i + 40)}`);
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      if (inSet) {
        // Inside a statement set, only `END;` ends the statement.
        current += ch;
        if (/\bEND\s*;$/i.test(current)) {
          current = current.replace(/;$/, '');
          inSet = false;
          flush();
        }
      } else {
        flush();
      }
      i++;
      continue;
    }
    current += ch;
    if (!inSet && /^\s*EXECUTE\s+STATEMENT\s+SET\s+BEGIN\b/i.test(current)) inSet = true;
    i++;
  }
  if (inSet) {
    if (/\bEND\s*$/i.test(current)) inSet = false;
    else throw new TemplateError('EXECUTE STATEMENT SET without END');
  }
  flush();
  return statements;
}

/** The statement set or INSERT that makes a job; the rest of a job file is its temporary DDL. */
export function isDml(statement: string): boolean {
  return /^\s*(EXECUTE\s+STATEMENT\s+SET|INSERT\s+INTO|EXECUTE\s+INSERT)/i.test(statement);
}
