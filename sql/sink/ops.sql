-- gridflow control-plane records, schema `gridflow` in the sink database (sgcc_dw). Idempotent.

CREATE SCHEMA IF NOT EXISTS gridflow;

-- Written by the sink job (sql/flink/sink.sql) from the probe path. The control plane inserts
-- (probe_id, sent_at) into the source table gridflow_probe and waits for the row to appear here.
-- dws_at / ads_at: when the dws and ads jobs forwarded the probe (Flink CURRENT_TIMESTAMP);
-- arrived_at: when the sink job wrote the row (stamped by the database, like dw.*.updated_at).
-- freshness_ms = arrived_at - sent_at. Deleting a probe in the source deletes it here too.
CREATE TABLE IF NOT EXISTS gridflow.probe_arrivals (
  probe_id     text        PRIMARY KEY,
  sent_at      timestamptz NOT NULL,
  dws_at       timestamptz,
  ads_at       timestamptz,
  arrived_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  freshness_ms double precision GENERATED ALWAYS AS (extract(epoch FROM (arrived_at - sent_at)) * 1000) STORED
);

CREATE OR REPLACE FUNCTION gridflow.stamp_arrived_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.arrived_at := clock_timestamp();
  RETURN NEW;
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgname = 'stamp_arrived_at' AND tgrelid = 'gridflow.probe_arrivals'::regclass) THEN
    CREATE TRIGGER stamp_arrived_at BEFORE INSERT OR UPDATE ON gridflow.probe_arrivals
      FOR EACH ROW EXECUTE FUNCTION gridflow.stamp_arrived_at();
  END IF;
END
$$;

-- One row per verification (sink compared with the contract evaluated on the source).
-- id is chosen by the caller (e.g. the workflow/activity id), so a retried write is an upsert.
CREATE TABLE IF NOT EXISTS gridflow.verification_runs (
  id           text        PRIMARY KEY,
  pipeline     text        NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  ok           boolean,                       -- NULL while running
  freshness_ms double precision,
  details      jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS verification_runs_pipeline_started
  ON gridflow.verification_runs (pipeline, started_at DESC);

-- Savepoints and retained checkpoints the control plane took or relies on, newest last.
CREATE TABLE IF NOT EXISTS gridflow.savepoints (
  id        bigserial   PRIMARY KEY,
  pipeline  text        NOT NULL,
  job       text        NOT NULL,           -- ingest | dws | ads | sink
  path      text        NOT NULL,
  taken_at  timestamptz NOT NULL DEFAULT now(),
  kind      text        NOT NULL,           -- e.g. savepoint | stop-with-savepoint | checkpoint
  UNIQUE (pipeline, job, path)
);
CREATE INDEX IF NOT EXISTS savepoints_pipeline_job_taken
  ON gridflow.savepoints (pipeline, job, taken_at DESC);
-- What a later workflow needs to resume from a savepoint it did not take (src/pipeline/resume.ts): the
-- Flink job id, the job's SQL fingerprint, and for the ingest job stopped with a savepoint, where each
-- replication slot stood once the job had stopped ({"slot": "0/1A2B3C"}). Added after the first
-- release, hence ALTER.
ALTER TABLE gridflow.savepoints ADD COLUMN IF NOT EXISTS job_id text;
ALTER TABLE gridflow.savepoints ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE gridflow.savepoints ADD COLUMN IF NOT EXISTS source_positions jsonb;

-- Operational event log (deploys, heals, upgrades, failures), human readable.
CREATE TABLE IF NOT EXISTS gridflow.events (
  id        bigserial   PRIMARY KEY,
  pipeline  text        NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  kind      text        NOT NULL,
  message   text        NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pipeline_at ON gridflow.events (pipeline, at DESC);
