/** The source's schema (sql/source/schema.sql) and the SGCC sample (sql/source/sample.sql). */
import { PgConnection } from '../../config';
import { applySqlFile, query, withClient } from '../connection';
import { CAPTURED_TABLES } from './names';

// ---------------------------------------------------------------------------------------------------
// Schema and sample data
// ---------------------------------------------------------------------------------------------------

/**
 * sql/source/schema.sql: the contract tables, REPLICA IDENTITY FULL. Idempotent.
 *
 * Returns whether it ran the file. Skipped when the three tables already exist with REPLICA IDENTITY FULL:
 * the file would change nothing, but its unconditional ALTER TABLE .. REPLICA IDENTITY takes an ACCESS
 * EXCLUSIVE lock on every run, which on a live source queues every writer behind it (and behind any long
 * snapshot query the CDC source is running).
 */
export async function applySourceSchema(adminConn: PgConnection): Promise<boolean> {
  return withClient(adminConn, async (client) => {
    // Resolved through search_path, exactly where the file's unqualified CREATE TABLEs go.
    const ready = await query<{ n: number }>(
      client,
      'check the source schema',
      `SELECT count(*)::int AS n FROM unnest($1::text[]) AS t(name)
       JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
       WHERE c.relkind = 'r' AND c.relreplident = 'f'`,
      [CAPTURED_TABLES],
    );
    if (ready.rows[0].n === CAPTURED_TABLES.length) return false;
    await applySqlFile(client, 'source/schema.sql');
    return true;
  });
}

/** sql/source/sample.sql: 300 equipment and their readings, deterministic. Idempotent. */
export async function loadSampleData(adminConn: PgConnection): Promise<void> {
  await withClient(adminConn, (client) => applySqlFile(client, 'source/sample.sql'));
}
