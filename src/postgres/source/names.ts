/**
 * Names in the source that sql/flink/ingest.sql and sql/source/publication.sql use: the captured
 * tables, and the slot and publication of each (`gridflow_<pipeline>_<table>`); and the one error a
 * refusal about the source's state raises.
 */
import { IDENTIFIER } from '../../constants';
import { artifactNameOf } from '../../core/ownership';

/** The tables sql/flink/ingest.sql captures, in its order. */
export const CAPTURED_TABLES = ['power_equipment', 'equipment_reading'] as const;

/**
 * Tables earlier versions captured (the freshness probe had a table and slot of its own; it is a
 * reading now). prepareSource drops their slot and publication, so no slot is left pinning WAL.
 */
export const RETIRED_CAPTURED_TABLES = ['gridflow_probe'] as const;

/** changelog-mode of every CDC source in sql/flink/ingest.sql; 'all' needs full before-images. */
export const CHANGELOG_MODE: 'all' | 'upsert' = 'all';

/** Postgres truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;

/** Slot and publication name of one captured table: `gridflow_<pipeline>_<table>` (as in sql/flink/ingest.sql). */
export function artifactName(pipeline: string, table: string): string {
  checkIdentifier('pipeline', pipeline);
  checkIdentifier('table', table);
  const name = artifactNameOf(pipeline, table);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new Error(
      `slot/publication name ${name} is longer than ${MAX_NAME_BYTES} bytes and Postgres would truncate it: ` +
        `use a pipeline name of at most ${MAX_NAME_BYTES - 'gridflow__'.length - table.length} characters`,
    );
  }
  return name;
}

export function checkIdentifier(field: string, value: string): void {
  if (!IDENTIFIER.test(value)) throw new Error(`${field} ${JSON.stringify(value)} must match ${IDENTIFIER}`);
}

/** A refusal about the state of the source (not a database error): retrying alone cannot help. */
export class SourceStateError extends Error {
  override readonly name = 'SourceStateError';
  readonly transient = false;
  constructor(
    readonly kind: 'not-ready' | 'slot-active' | 'slot-conflict',
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}
