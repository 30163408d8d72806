/** The warehouse is data shipped with the code: files under sql/, read by name. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../config';

class SqlFileError extends Error {
  override name = 'SqlFileError';
  readonly transient = false;
}

/** The text of sql/<relative> (e.g. "source/schema.sql", "flink/ads.sql"). */
export function readSqlFile(relative: string): string {
  const file = path.join(repoRoot(), 'sql', relative);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new SqlFileError(`missing SQL file ${file}`);
  }
}
