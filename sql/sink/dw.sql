-- gridflow sink schema ${sink_schema} (`dw` for the pipeline sgcc; PostgreSQL, database sgcc_dw): the six
-- warehouse tables of one pipeline. Idempotent. ${sink_schema} is filled by src/postgres/sink.ts (a
-- validated identifier).
-- Column types are exactly what the JDBC sink writes (sql/flink/sink.sql): STRING -> text,
-- BIGINT -> bigint, INT -> integer, DECIMAL(p,s) -> numeric(p,s), TIMESTAMP_LTZ -> timestamptz,
-- BOOLEAN -> boolean. Names are lower case: the JDBC connector does not quote identifiers.
--
-- updated_at = the time the pipeline wrote the row. It is NOT a column of the Flink sink tables: the
-- JDBC upsert (INSERT .. ON CONFLICT (pk) DO UPDATE SET <the Flink columns>) leaves it alone and the
-- trigger below stamps clock_timestamp() on every insert and update the sink job makes. So no
-- non-deterministic value ever travels through a Flink changelog (see sql/NOTES.md).

CREATE SCHEMA IF NOT EXISTS ${sink_schema};

CREATE OR REPLACE FUNCTION ${sink_schema}.stamp_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TABLE IF NOT EXISTS ${sink_schema}.dws_equipment_type_stats (
  equipment_type    text           PRIMARY KEY,
  equipment_count   bigint         NOT NULL,
  running_count     bigint         NOT NULL,
  total_capacity_mw numeric(20, 2),
  avg_capacity_mw   numeric(20, 2),
  updated_at        timestamptz    NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${sink_schema}.dws_region_stats (
  region            text           PRIMARY KEY,
  equipment_count   bigint         NOT NULL,
  running_count     bigint         NOT NULL,
  maintenance_count bigint         NOT NULL,
  outage_count      bigint         NOT NULL,
  total_capacity_mw numeric(20, 2),
  updated_at        timestamptz    NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${sink_schema}.dws_voltage_level_stats (
  voltage_level_kv  integer        PRIMARY KEY,
  equipment_count   bigint         NOT NULL,
  total_capacity_mw numeric(20, 2),
  avg_capacity_mw   numeric(20, 2),
  updated_at        timestamptz    NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${sink_schema}.ads_equipment_health (
  equipment_id         text           PRIMARY KEY,
  equipment_name       text           NOT NULL,
  equipment_type       text           NOT NULL,
  region               text           NOT NULL,
  status               text           NOT NULL,
  rated_capacity_mw    numeric(12, 2),
  latest_load_mw       numeric(12, 3),
  latest_temperature_c numeric(6, 2),
  latest_measured_at   timestamptz,
  load_ratio           numeric(20, 4),
  health_score         integer        NOT NULL,
  risk_level           text           NOT NULL,
  updated_at           timestamptz    NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${sink_schema}.ads_capacity_planning (
  region                text           PRIMARY KEY,
  installed_capacity_mw numeric(20, 2) NOT NULL,
  current_load_mw       numeric(20, 3) NOT NULL,
  utilization           numeric(20, 4),
  headroom_mw           numeric(20, 3) NOT NULL,
  overload_alert        boolean        NOT NULL,
  updated_at            timestamptz    NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${sink_schema}.ads_grid_dashboard (
  dashboard_id          text           PRIMARY KEY,
  equipment_total       bigint         NOT NULL,
  running_total         bigint         NOT NULL,
  installed_capacity_mw numeric(20, 2) NOT NULL,
  current_load_mw       numeric(20, 3) NOT NULL,
  alarm_count           bigint         NOT NULL,
  attention_count       bigint         NOT NULL,
  updated_at            timestamptz    NOT NULL DEFAULT clock_timestamp()
);

-- One BEFORE INSERT OR UPDATE trigger per table (created only when missing, so re-running this file
-- never drops a trigger under a running sink job).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['dws_equipment_type_stats', 'dws_region_stats', 'dws_voltage_level_stats',
                           'ads_equipment_health', 'ads_capacity_planning', 'ads_grid_dashboard'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                   WHERE tgname = 'stamp_updated_at' AND tgrelid = format('${sink_schema}.%I', t)::regclass) THEN
      EXECUTE format('CREATE TRIGGER stamp_updated_at BEFORE INSERT OR UPDATE ON ${sink_schema}.%I '
                     'FOR EACH ROW EXECUTE FUNCTION ${sink_schema}.stamp_updated_at()', t);
    END IF;
  END LOOP;
END
$$;
