-- gridflow control-plane records, schema `gridflow` in the sink database (sgcc_dw). Idempotent.

CREATE SCHEMA IF NOT EXISTS gridflow;

-- The freshness probe (src/postgres/probe.ts). The control plane writes a reading of equipment
-- '~gridflow-probe' into the source (recorded in gridflow.probes); the pipeline carries it like any
-- reading, and the sink job writes it, out of each ADS table it went through, into gridflow.probe_hops
-- (one row per pipeline and hop). probe_value is the probe's number: seconds after 2020-01-01 UTC at
-- which it was sent, in milliseconds. Every write of a hop is logged in gridflow.probe_log with the
-- database's arrival time, so a probe superseded by a newer one still has an arrival (the newer one's).
CREATE TABLE IF NOT EXISTS gridflow.probes (
  pipeline    text          NOT NULL,
  reading_id  bigint        NOT NULL,
  probe_value numeric(20,3) NOT NULL,
  sent_at     timestamptz   NOT NULL,
  PRIMARY KEY (pipeline, reading_id)
);

CREATE TABLE IF NOT EXISTS gridflow.probe_hops (
  pipeline    text          NOT NULL,
  hop         text          NOT NULL,            -- health | capacity | dashboard
  probe_value numeric(20,3),
  arrived_at  timestamptz   NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (pipeline, hop)
);

CREATE TABLE IF NOT EXISTS gridflow.probe_log (
  pipeline    text          NOT NULL,
  hop         text          NOT NULL,
  probe_value numeric(20,3) NOT NULL,
  arrived_at  timestamptz   NOT NULL,
  PRIMARY KEY (pipeline, hop, probe_value)
);

CREATE OR REPLACE FUNCTION gridflow.log_probe_hop() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.arrived_at := clock_timestamp();
  IF NEW.probe_value IS NOT NULL THEN
    INSERT INTO gridflow.probe_log (pipeline, hop, probe_value, arrived_at)
    VALUES (NEW.pipeline, NEW.hop, NEW.probe_value, NEW.arrived_at)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgname = 'log_probe_hop' AND tgrelid = 'gridflow.probe_hops'::regclass) THEN
    CREATE TRIGGER log_probe_hop BEFORE INSERT OR UPDATE ON gridflow.probe_hops
      FOR EACH ROW EXECUTE FUNCTION gridflow.log_probe_hop();
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
-- What a later workflow needs to resume from a savepoint it did not take (src/core/resume.ts): the
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

-- Who owns what (src/core/ownership.ts): every object a pipeline creates or destroys — its Fluss
-- database, sink schema, replication slots, publications, savepoint folder, Flink job names, probe
-- records — claimed at deploy, checked before every destructive step, released when the pipeline is
-- dropped (decommission --drop-slots). One owner per object.
CREATE TABLE IF NOT EXISTS gridflow.ownership (
  kind       text        NOT NULL,
  name       text        NOT NULL,
  pipeline   text        NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, name)
);
CREATE INDEX IF NOT EXISTS ownership_pipeline ON gridflow.ownership (pipeline);
