/** The warehouse is data shipped with the code: files under sql/, read by name. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../config';

class SqlFileError extends Error {
  override name = 'SqlFileError';
  readonly transient = false;
}

/**
 * The text of sql/<relative> (e.g. "source/schema.sql", "flink/ads.sql"). The Flink jobs' files
 * (flink/*.sql) come from GRIDFLOW_FLINK_SQL_DIR when the worker has it: a new version of the warehouse's
 * SQL, taken by the jobs submitted from then on — a blue/green redeploy proves it against the contract
 * (sql/contract, never overridden) before readers see it.
 */
export function readSqlFile(relative: string): string {
  const flinkDir = process.env.GRIDFLOW_FLINK_SQL_DIR;
  const file = flinkDir && relative.startsWith('flink/') ? path.join(flinkDir, relative.slice('flink/'.length)) : path.join(repoRoot(), 'sql', relative);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new SqlFileError(`missing SQL file ${file}`);
  }
}
