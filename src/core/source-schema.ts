/**
 * Source schema changes, judged: the columns the warehouse reads from each captured table (as the ingest
 * job's SQL declares them) against the columns the source has now. A column added is nothing, nor is one
 * declared nullable that is gone (the job reads NULL). A NOT NULL column that is gone (dropped, or
 * renamed), one retyped to something its declared type cannot take, or one made nullable where the job
 * declares NOT NULL, is a change the ingest job will fail on as
 * soon as a row of the new shape arrives — and then restart in a loop, with every change behind it
 * waiting in the replication slot. The watch says so first, naming the table, the column and the jobs.
 * Pure; no Node built-ins (workflow sandbox).
 */

/** A column of a captured table as the ingest job reads it. */
interface ReadColumn {
  table: string;
  column: string;
  /** The Flink type as declared, e.g. STRING, DECIMAL(12, 2), TIMESTAMP_LTZ(6). */
  type: string;
  notNull: boolean;
}

/** A column of a captured table as the source has it (information_schema.columns). */
export interface SourceColumn {
  table: string;
  column: string;
  /** information_schema's data_type, e.g. character varying, numeric, timestamp with time zone. */
  dataType: string;
  numericPrecision: number | null;
  numericScale: number | null;
  nullable: boolean;
}

export interface SchemaDrift {
  table: string;
  column: string;
  kind: 'gone' | 'retyped' | 'nullable';
  /** How the job reads it. */
  reads: string;
  /** What the source has now (null: no such column). */
  found: string | null;
}

/**
 * The columns each `CREATE TEMPORARY TABLE … WITH ('table-name' = '<table>', …)` of the ingest SQL
 * declares (constraints and the PRIMARY KEY clause are not columns).
 */
export function readColumns(ingestSql: string): ReadColumn[] {
  const out: ReadColumn[] = [];
  const tableRe = /CREATE TEMPORARY TABLE\s+\w+\s*\(([\s\S]*?)\)\s*WITH\s*\(([\s\S]*?)\);/g;
  for (const m of ingestSql.matchAll(tableRe)) {
    const table = /'table-name'\s*=\s*'([^']+)'/.exec(m[2])?.[1];
    if (!table) continue;
    for (const line of m[1].split('\n')) {
      const col = /^\s*([a-z_][a-z0-9_]*)\s+([A-Z_]+(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)(\s+NOT NULL)?\s*,?\s*$/.exec(line);
      if (!col || col[1] === 'primary') continue;
      out.push({ table, column: col[1], type: col[2].replace(/\s+/g, ''), notNull: Boolean(col[3]) });
    }
  }
  return out;
}

/** Can a column of the source's type be read as the Flink type? (The CDC connector's conversions.) */
function typeFits(flinkType: string, c: SourceColumn): boolean {
  const base = flinkType.replace(/\(.*$/, '');
  const t = c.dataType;
  switch (base) {
    case 'STRING':
    case 'VARCHAR':
      return ['text', 'character varying', 'character'].includes(t);
    case 'INT':
      return ['integer', 'smallint'].includes(t);
    case 'BIGINT':
      return ['bigint', 'integer', 'smallint'].includes(t);
    case 'DECIMAL': {
      if (t !== 'numeric') return false;
      const [p, s] = (/\((\d+),?(\d+)?\)/.exec(flinkType) ?? []).slice(1).map(Number);
      // An unconstrained numeric may hold what the declared precision cannot; a narrower one fits.
      return c.numericPrecision !== null && c.numericPrecision - (c.numericScale ?? 0) <= p - (s || 0) && (c.numericScale ?? 0) <= (s || 0);
    }
    case 'DATE':
      return t === 'date';
    case 'TIMESTAMP_LTZ':
      return t === 'timestamp with time zone';
    case 'TIMESTAMP':
      return t === 'timestamp without time zone';
    case 'DOUBLE':
      return ['double precision', 'real'].includes(t);
    case 'BOOLEAN':
      return t === 'boolean';
    default:
      return true;
  }
}

const shown = (c: SourceColumn) =>
  `${c.dataType}${c.numericPrecision !== null && c.dataType === 'numeric' ? `(${c.numericPrecision}, ${c.numericScale ?? 0})` : ''}${c.nullable ? '' : ' NOT NULL'}`;

/** What the source changed under the columns the warehouse reads; nothing for columns added. */
export function schemaDrift(read: readonly ReadColumn[], source: readonly SourceColumn[]): SchemaDrift[] {
  const tables = new Set(source.map((c) => c.table));
  const out: SchemaDrift[] = [];
  for (const r of read) {
    // A captured table missing altogether is preflight's to say (and the slot's): not a column change.
    if (!tables.has(r.table)) continue;
    const c = source.find((x) => x.table === r.table && x.column === r.column);
    const reads = `${r.type}${r.notNull ? ' NOT NULL' : ''}`;
    // Gone under a nullable declaration: the job reads NULL and goes on (whatever depends on it, verification shows).
    if (!c) {
      if (r.notNull) out.push({ table: r.table, column: r.column, kind: 'gone', reads, found: null });
    }
    else if (!typeFits(r.type, c)) out.push({ table: r.table, column: r.column, kind: 'retyped', reads, found: shown(c) });
    else if (r.notNull && c.nullable) out.push({ table: r.table, column: r.column, kind: 'nullable', reads, found: shown(c) });
  }
  return out;
}

/**
 * The sentence the pipeline is DEGRADED with while the source's shape differs from what the warehouse
 * reads: each column, what changed, the jobs affected, that nothing is lost, and the way out.
 */
export function driftSentence(drift: readonly SchemaDrift[], source: readonly SourceColumn[], read: readonly ReadColumn[], slotOf: (table: string) => string): string | null {
  if (!drift.length) return null;
  const parts = drift.map((d) => {
    const unread = source.filter((c) => c.table === d.table && !read.some((r) => r.table === c.table && r.column === c.column)).map((c) => c.column);
    switch (d.kind) {
      case 'gone':
        return `${d.table}.${d.column} (read by ingest as ${d.reads}) is gone — dropped or renamed${unread.length ? ` (columns it does not read: ${unread.join(', ')})` : ''}`;
      case 'retyped':
        return `${d.table}.${d.column} is ${d.found} now; ingest reads it as ${d.reads}`;
      default:
        return `${d.table}.${d.column} may be NULL now (${d.found}); ingest reads it as ${d.reads}`;
    }
  });
  const slots = [...new Set(drift.map((d) => slotOf(d.table)))];
  return (
    `source schema changed: ${parts.join('; ')}. Jobs affected: ingest fails on the first row of the new shape, and dws, ads, sink get no change after it; ` +
    `readers keep the last numbers. Nothing is lost: every change since waits in ${slots.join(', ')}. Way out: a version whose SQL reads the new shape ` +
    '(the Flink SQL changed, GRIDFLOW_FLINK_SQL_DIR, then gridflow redeploy --strategy blue-green: it reads a snapshot of the source as it is, proven equal before readers switch); ' +
    'or undo the change in the source — if a row was written in the new shape meanwhile, ingest still cannot read it from the slot: then gridflow repair --from source (the same SQL, a new snapshot, beside the live version)'
  );
}
