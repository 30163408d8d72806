/**
 * The sink database: its DDL (sql/sink/dw.sql, sql/sink/ops.sql) and the control plane's records in the
 * `gridflow` ops schema. Each record function is one write an activity makes, safe to repeat: a retried
 * activity never adds a second row.
 */
import { z } from 'zod';
import { PgConnection } from '../config';
import { IDENTIFIER } from '../constants';
import { applySqlFile, inTransaction, query, quoteIdent, withClient } from './connection';
import { WAREHOUSE_TABLE_NAMES } from './warehouse-tables';

/**
 * ops.sql then dw.sql for the pipeline's schema, each in one transaction, as the sink role (which then
 * owns what it creates). A schema name Postgres reserves is refused: the JDBC sink does not quote it.
 */
export async function applySinkSchema(sinkConn: PgConnection, schema: string): Promise<void> {
  await withClient(sinkConn, async (client) => {
    const reserved = await query<{ catdesc: string }>(client, 'check the sink schema name', "SELECT catdesc FROM pg_get_keywords() WHERE word = $1 AND catcode <> 'U'", [schema]);
    if (reserved.rows.length) {
      throw new SinkSchemaError(`sink.schema ${schema} is a PostgreSQL keyword (${reserved.rows[0].catdesc}); the JDBC sink writes it unquoted: choose another name`);
    }
    await applySqlFile(client, 'sink/ops.sql');
    await applySqlFile(client, 'sink/dw.sql', { sink_schema: schema });
  });
}

/** The sink cannot be prepared as the spec says: retrying cannot help. */
class SinkSchemaError extends Error {
  override readonly name = 'SinkSchemaError';
  readonly transient = false;
}

/**
 * Empty the pipeline's derived tables (its warehouse schema, its probe arrivals) before it rebuilds them
 * from a fresh source snapshot. The ops records (events, savepoints, verification runs) are history
 * and stay; another pipeline's rows are not touched.
 */
export async function truncateWarehouse(sinkConn: PgConnection, pipeline: string, schema: string): Promise<void> {
  const tables = WAREHOUSE_TABLE_NAMES.map((t) => `${quoteIdent(schema)}.${quoteIdent(t)}`);
  await withClient(sinkConn, (client) =>
    inTransaction(client, async () => {
      await query(client, 'truncate the warehouse tables', `TRUNCATE ${tables.join(', ')}`);
      await query(client, 'forget probe arrivals', 'DELETE FROM gridflow.probe_hops WHERE pipeline = $1', [pipeline]);
    }),
  );
}

const pipelineName = z.string().regex(IDENTIFIER, 'a pipeline name (lower-case identifier)');
/** Timestamps cross activity boundaries as ISO strings or Dates; stored as timestamptz. */
const instant = z.union([z.date(), z.string().datetime({ offset: true })]).transform((v) => (v instanceof Date ? v.toISOString() : v));

function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid ${what}: ${issue.path.join('.') || '(input)'}: ${issue.message}`);
  }
  return parsed.data;
}

function parseRow<S extends z.ZodTypeAny>(schema: S, row: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`unexpected row from ${what}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------

const EventInput = z.object({
  pipeline: pipelineName,
  kind: z.string().min(1).max(64),
  message: z.string().min(1).max(4000),
  /**
   * When it happened, chosen by the caller (the workflow's clock), not by the database: together with
   * pipeline, kind and message it identifies the event, so a retried activity finds its earlier write.
   */
  at: instant,
});
type EventInput = z.input<typeof EventInput>;

const EventRow = z.object({
  id: z.string(),
  pipeline: z.string(),
  at: z.string(),
  kind: z.string(),
  message: z.string(),
});
type StoredEvent = z.output<typeof EventRow>;

/**
 * Append an event. Idempotent: the same (pipeline, at, kind, message) is written once. gridflow.events has
 * no caller-supplied unique key, so the check-then-insert is serialised per pipeline by an advisory lock.
 */
export async function writeEvent(sinkConn: PgConnection, input: EventInput): Promise<{ id: string; inserted: boolean }> {
  const e = parseInput(EventInput, input, 'event');
  return withClient(sinkConn, (client) =>
    inTransaction(client, async () => {
      await query(client, 'lock events', 'SELECT pg_advisory_xact_lock(hashtext($1))', [`gridflow:events:${e.pipeline}`]);
      const found = await query<{ id: string }>(
        client,
        'find event',
        'SELECT id::text FROM gridflow.events WHERE pipeline = $1 AND at = $2::timestamptz AND kind = $3 AND message = $4 LIMIT 1',
        [e.pipeline, e.at, e.kind, e.message],
      );
      if (found.rows[0]) return { id: found.rows[0].id, inserted: false };
      const res = await query<{ id: string }>(
        client,
        'record event',
        'INSERT INTO gridflow.events (pipeline, at, kind, message) VALUES ($1, $2::timestamptz, $3, $4) RETURNING id::text',
        [e.pipeline, e.at, e.kind, e.message],
      );
      return { id: res.rows[0].id, inserted: true };
    }),
  );
}

/**
 * Append several events of one pipeline in one transaction (a workflow step's notes). Idempotent like
 * writeEvent: an event already there (same pipeline, at, kind, message) is not written again, so a
 * retried batch adds nothing. Returns how many were new.
 */
export async function writeEvents(sinkConn: PgConnection, pipeline: string, events: ReadonlyArray<Omit<EventInput, 'pipeline'>>): Promise<number> {
  const parsed = events.map((e) => parseInput(EventInput, { ...e, pipeline }, 'event'));
  if (parsed.length === 0) return 0;
  return withClient(sinkConn, (client) =>
    inTransaction(client, async () => {
      await query(client, 'lock events', 'SELECT pg_advisory_xact_lock(hashtext($1))', [`gridflow:events:${pipeline}`]);
      let inserted = 0;
      for (const e of parsed) {
        const res = await query(
          client,
          'record event',
          `INSERT INTO gridflow.events (pipeline, at, kind, message)
           SELECT $1, $2::timestamptz, $3, $4
           WHERE NOT EXISTS (SELECT 1 FROM gridflow.events WHERE pipeline = $1 AND at = $2::timestamptz AND kind = $3 AND message = $4)`,
          [e.pipeline, e.at, e.kind, e.message],
        );
        inserted += res.rowCount ?? 0;
      }
      return inserted;
    }),
  );
}

/** A pipeline's events, newest first. */
export async function listEvents(sinkConn: PgConnection, pipeline: string, limit = 50): Promise<StoredEvent[]> {
  parseInput(pipelineName, pipeline, 'pipeline');
  const res = await withClient(sinkConn, (client) =>
    query(
      client,
      'list events',
      'SELECT id::text, pipeline, at::text, kind, message FROM gridflow.events WHERE pipeline = $1 ORDER BY at DESC, id DESC LIMIT $2',
      [pipeline, checkLimit(limit)],
    ),
  );
  return res.rows.map((r) => parseRow(EventRow, r, 'gridflow.events'));
}

// ---------------------------------------------------------------------------------------------------
// Savepoints
// ---------------------------------------------------------------------------------------------------

const SavepointInput = z.object({
  pipeline: pipelineName,
  job: z.string().regex(IDENTIFIER, 'a job name'),
  /** As Flink reported it (file:///..., s3://...). */
  path: z.string().min(1).max(2000),
  kind: z.enum(['savepoint', 'stop-with-savepoint', 'checkpoint']),
  /** Default: now. */
  takenAt: instant.optional(),
  /** The Flink job instance it was taken from. */
  jobId: z.string().regex(/^[0-9a-f]{32}$/, 'a Flink job id').optional(),
  /** The job's SQL fingerprint when the savepoint was taken (a later version cannot trust it blindly). */
  fingerprint: z.string().min(1).max(200).optional(),
  /** Replication slot → confirmed_flush_lsn once the ingest job had stopped (stop-with-savepoint only). */
  sourcePositions: z.record(z.string().regex(IDENTIFIER, 'a slot name'), z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, 'an LSN')).optional(),
});
type SavepointInput = z.input<typeof SavepointInput>;

const SavepointRow = z.object({
  id: z.string(),
  pipeline: z.string(),
  job: z.string(),
  path: z.string(),
  taken_at: z.string(),
  kind: z.string(),
  job_id: z.string().nullable(),
  fingerprint: z.string().nullable(),
  source_positions: z.record(z.string()).nullable(),
});
interface StoredSavepoint {
  id: string;
  pipeline: string;
  job: string;
  path: string;
  takenAt: string;
  kind: string;
  jobId: string | null;
  fingerprint: string | null;
  sourcePositions: Record<string, string> | null;
}

/**
 * Record a savepoint. Idempotent on (pipeline, job, path), the table's unique key: a repeat keeps the
 * first row's kind and time, and only fills in a fingerprint or source positions it did not have.
 */
export async function writeSavepoint(sinkConn: PgConnection, input: SavepointInput): Promise<{ id: string; inserted: boolean }> {
  const s = parseInput(SavepointInput, input, 'savepoint');
  return withClient(sinkConn, async (client) => {
    const res = await query<{ id: string; inserted: boolean }>(
      client,
      'record savepoint',
      `INSERT INTO gridflow.savepoints AS t (pipeline, job, path, kind, taken_at, fingerprint, source_positions, job_id)
       VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6, $7::jsonb, $8)
       ON CONFLICT (pipeline, job, path) DO UPDATE
         SET job_id = coalesce(t.job_id, EXCLUDED.job_id),
             fingerprint = coalesce(t.fingerprint, EXCLUDED.fingerprint),
             source_positions = coalesce(t.source_positions, EXCLUDED.source_positions)
       RETURNING t.id::text, (t.xmax = 0) AS inserted`,
      [s.pipeline, s.job, s.path, s.kind, s.takenAt ?? null, s.fingerprint ?? null, s.sourcePositions ? JSON.stringify(s.sourcePositions) : null, s.jobId ?? null],
    );
    return { id: res.rows[0].id, inserted: res.rows[0].inserted };
  });
}

/** A pipeline's savepoints (optionally of one job), newest first. */
export async function listSavepoints(
  sinkConn: PgConnection,
  pipeline: string,
  options: { job?: string; limit?: number } = {},
): Promise<StoredSavepoint[]> {
  parseInput(pipelineName, pipeline, 'pipeline');
  const res = await withClient(sinkConn, (client) =>
    query(
      client,
      'list savepoints',
      `SELECT id::text, pipeline, job, path, taken_at::text, kind, job_id, fingerprint, source_positions FROM gridflow.savepoints
       WHERE pipeline = $1 AND ($2::text IS NULL OR job = $2)
       ORDER BY taken_at DESC, id DESC LIMIT $3`,
      [pipeline, options.job ?? null, checkLimit(options.limit ?? 100)],
    ),
  );
  return res.rows.map((r) => {
    const row = parseRow(SavepointRow, r, 'gridflow.savepoints');
    return {
      id: row.id,
      pipeline: row.pipeline,
      job: row.job,
      path: row.path,
      takenAt: row.taken_at,
      kind: row.kind,
      jobId: row.job_id,
      fingerprint: row.fingerprint,
      sourcePositions: row.source_positions,
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Verification runs
// ---------------------------------------------------------------------------------------------------

const VerificationInput = z.object({
  /** Caller-chosen (e.g. the workflow id + run number), so every retry addresses the same row. */
  id: z.string().min(1).max(200),
  pipeline: pipelineName,
  startedAt: instant,
  finishedAt: instant.optional(),
  /** Undefined while running. */
  ok: z.boolean().optional(),
  freshnessMs: z.number().finite().nonnegative().optional(),
  details: z.record(z.unknown()).optional(),
});
type VerificationInput = z.input<typeof VerificationInput>;

const VerificationRow = z.object({
  id: z.string(),
  pipeline: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  ok: z.boolean().nullable(),
  freshness_ms: z.number().nullable(),
  details: z.record(z.unknown()),
});
export interface StoredVerificationRun {
  id: string;
  pipeline: string;
  startedAt: string;
  finishedAt: string | null;
  ok: boolean | null;
  freshnessMs: number | null;
  details: Record<string, unknown>;
}

/**
 * Record (start or finish) a verification run; returns its id. An upsert on the caller's id: a later call
 * fills in what an earlier one left open (finished_at, ok, freshness, details) and a repeated or late
 * "started" call never erases a result. The same id under another pipeline is refused.
 */
/** Verification runs older than this are deleted when a newer run of the pipeline is recorded. */
const VERIFICATION_RETENTION_DAYS = 30;

export async function writeVerificationRun(sinkConn: PgConnection, input: VerificationInput): Promise<string> {
  const v = parseInput(VerificationInput, input, 'verification run');
  return withClient(sinkConn, async (client) => {
    const res = await query<{ id: string }>(
      client,
      'record verification run',
      `INSERT INTO gridflow.verification_runs AS r (id, pipeline, started_at, finished_at, ok, freshness_ms, details)
       VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5, $6, coalesce($7::jsonb, '{}'::jsonb))
       ON CONFLICT (id) DO UPDATE SET
         finished_at  = coalesce(EXCLUDED.finished_at, r.finished_at),
         ok           = coalesce(EXCLUDED.ok, r.ok),
         freshness_ms = coalesce(EXCLUDED.freshness_ms, r.freshness_ms),
         details      = CASE WHEN $7::jsonb IS NULL THEN r.details ELSE EXCLUDED.details END
       WHERE r.pipeline = EXCLUDED.pipeline
       RETURNING id`,
      [v.id, v.pipeline, v.startedAt, v.finishedAt ?? null, v.ok ?? null, v.freshnessMs ?? null, v.details ? JSON.stringify(v.details) : null],
    );
    if (!res.rows[0]) {
      throw new Error(`verification run ${v.id} already exists for another pipeline than ${v.pipeline}: choose a unique id per run`);
    }
    // Retention: at one run every 5 minutes the table would grow ~370 MB a year; keep 30 days.
    if (v.finishedAt) {
      await query(
        client,
        'prune old verification runs',
        `DELETE FROM gridflow.verification_runs WHERE pipeline = $1 AND started_at < now() - interval '${VERIFICATION_RETENTION_DAYS} days'`,
        [v.pipeline],
      );
    }
    return res.rows[0].id;
  });
}

/** A pipeline's verification runs, newest first. */
export async function listVerificationRuns(sinkConn: PgConnection, pipeline: string, limit = 20): Promise<StoredVerificationRun[]> {
  parseInput(pipelineName, pipeline, 'pipeline');
  const res = await withClient(sinkConn, (client) =>
    query(
      client,
      'list verification runs',
      `SELECT id, pipeline, started_at::text, finished_at::text, ok, freshness_ms, details
       FROM gridflow.verification_runs WHERE pipeline = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
      [pipeline, checkLimit(limit)],
    ),
  );
  return res.rows.map((r) => {
    const row = parseRow(VerificationRow, r, 'gridflow.verification_runs');
    return {
      id: row.id,
      pipeline: row.pipeline,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      ok: row.ok,
      freshnessMs: row.freshness_ms,
      details: row.details,
    };
  });
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`limit must be an integer 1..10000, got ${limit}`);
  return limit;
}
