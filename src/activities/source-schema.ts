/**
 * The source's columns against what the ingest job reads (src/core/source-schema.ts judges): asked by
 * the watch every round, a read of information_schema for the captured tables. Read-only.
 */
import { PipelineSpec } from '../core/spec';
import { SchemaDrift, SourceColumn, driftSentence, readColumns, schemaDrift } from '../core/source-schema';
import { versionTag } from '../core/versions';
import { query, withClient } from '../postgres/connection';
import { CAPTURED_TABLES, artifactName } from '../postgres/source/names';
import { readSqlFile } from '../warehouse/files';
import { ActivityDeps } from './context';
import { classified } from './classify';

export function createSourceSchemaActivities(deps: ActivityDeps) {
  return {
    /** What changed under the columns the warehouse reads, and the sentence the pipeline says it with (null: nothing). */
    async checkSourceSchema(spec: PipelineSpec): Promise<{ drift: SchemaDrift[]; sentence: string | null }> {
      return classified('check the source schema', async () => {
        const read = readColumns(readSqlFile('flink/ingest.sql'));
        const source = await withClient(
          deps.connection(spec.source.connection),
          async (c) =>
            (
              await query<{ table: string; column: string; data_type: string; p: number | null; s: number | null; nullable: boolean }>(
                c,
                'read the captured tables’ columns',
                `SELECT table_name AS table, column_name AS column, data_type, numeric_precision AS p, numeric_scale AS s, is_nullable = 'YES' AS nullable
                   FROM information_schema.columns WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name, ordinal_position`,
                [spec.source.schema, [...CAPTURED_TABLES]],
              )
            ).rows,
          { statementTimeoutMs: 10_000 },
        );
        const columns: SourceColumn[] = source.map((r) => ({ table: r.table, column: r.column, dataType: r.data_type, numericPrecision: r.p, numericScale: r.s, nullable: r.nullable }));
        const drift = schemaDrift(read, columns);
        return { drift, sentence: driftSentence(drift, columns, read, (t) => artifactName(versionTag(spec), t)) };
      });
    },
  };
}
