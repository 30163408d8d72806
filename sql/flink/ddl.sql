-- gridflow: Fluss tables (DWD, DWS, ADS), all primary-key tables. Idempotent.
-- Run once per pipeline (after catalog.sql), before any job is submitted. Placeholder: ${fluss_database}.
-- Fluss types: STRING instead of VARCHAR(n) (Fluss rejects bounded VARCHAR), TIMESTAMP_LTZ for timestamptz.
-- Every table also carries Fluss client options (ALTER TABLE .. SET at the end; Fluss stores them as table
-- properties and every reader/writer of the table picks them up, so the job SQL needs no hints).
-- Aggregates are stored as DECIMAL(20,s): wide enough for any realistic grid and exactly the types the
-- JDBC sink writes to dw.* (see sql/sink/dw.sql). Fluss holds the contract values only; updated_at is
-- stamped by the sink database when the row is written (see sql/NOTES.md).

-- DWD: the CDC changelog as is -------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dwd_power_equipment (
  equipment_id        STRING NOT NULL,
  equipment_name      STRING NOT NULL,
  equipment_type      STRING NOT NULL,
  region              STRING NOT NULL,
  voltage_level_kv    INT NOT NULL,
  rated_capacity_mw   DECIMAL(12, 2),
  status              STRING NOT NULL,
  commissioned_on     DATE,
  last_maintenance_on DATE,
  updated_at          TIMESTAMP_LTZ(6) NOT NULL,
  PRIMARY KEY (equipment_id) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dwd_equipment_reading (
  reading_id    BIGINT NOT NULL,
  equipment_id  STRING NOT NULL,
  load_mw       DECIMAL(12, 3) NOT NULL,
  temperature_c DECIMAL(6, 2) NOT NULL,
  voltage_kv    DECIMAL(8, 3),
  measured_at   TIMESTAMP_LTZ(6) NOT NULL,
  PRIMARY KEY (reading_id) NOT ENFORCED
);

-- The readings again, keyed and bucketed by equipment: the history that the latest reading falls back to.
-- Written by the ingest job beside dwd_equipment_reading; its own changelog feeds EQUIPMENT_LATEST in the
-- dws job, which looks the equipment's readings up here (prefix lookup on the bucket key) when deletes
-- have emptied the few it keeps. Both must be this table: a lookup into a table with another writer
-- could see an older state than the change being aggregated (sql/udf/gridflow/udf/EquipmentLatest.java).
CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dwd_reading_by_equipment (
  equipment_id  STRING NOT NULL,
  reading_id    BIGINT NOT NULL,
  measured_at   TIMESTAMP_LTZ(6) NOT NULL,
  load_mw       DECIMAL(12, 3) NOT NULL,
  temperature_c DECIMAL(6, 2) NOT NULL,
  PRIMARY KEY (equipment_id, reading_id) NOT ENFORCED
) WITH ('bucket.key' = 'equipment_id');

-- DWS ------------------------------------------------------------------------------------------------
-- Every equipment id that has an equipment row or readings: the equipment's attributes (NULL without a
-- row) and its latest reading (NULL without readings, or for a moment while EQUIPMENT_LATEST catches up
-- after deletes). Written by the dws job; the ads job scores the rows that have an equipment row.
CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dws_equipment_latest (
  equipment_id      STRING NOT NULL,
  equipment_name    STRING,
  equipment_type    STRING,
  region            STRING,
  status            STRING,
  rated_capacity_mw DECIMAL(12, 2),
  reading_id        BIGINT,
  measured_at       TIMESTAMP_LTZ(6),
  load_mw           DECIMAL(12, 3),
  temperature_c     DECIMAL(6, 2),
  PRIMARY KEY (equipment_id) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dws_equipment_type_stats (
  equipment_type    STRING NOT NULL,
  equipment_count   BIGINT NOT NULL,
  running_count     BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  avg_capacity_mw   DECIMAL(20, 2),
  PRIMARY KEY (equipment_type) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dws_region_stats (
  region            STRING NOT NULL,
  equipment_count   BIGINT NOT NULL,
  running_count     BIGINT NOT NULL,
  maintenance_count BIGINT NOT NULL,
  outage_count      BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  PRIMARY KEY (region) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.dws_voltage_level_stats (
  voltage_level_kv  INT NOT NULL,
  equipment_count   BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  avg_capacity_mw   DECIMAL(20, 2),
  PRIMARY KEY (voltage_level_kv) NOT ENFORCED
);

-- ADS ------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.ads_equipment_health (
  equipment_id         STRING NOT NULL,
  equipment_name       STRING NOT NULL,
  equipment_type       STRING NOT NULL,
  region               STRING NOT NULL,
  status               STRING NOT NULL,
  rated_capacity_mw    DECIMAL(12, 2),
  latest_load_mw       DECIMAL(12, 3),
  latest_temperature_c DECIMAL(6, 2),
  latest_measured_at   TIMESTAMP_LTZ(6),
  load_ratio           DECIMAL(20, 4),
  health_score         INT NOT NULL,
  risk_level           STRING NOT NULL,
  PRIMARY KEY (equipment_id) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.ads_capacity_planning (
  region                STRING NOT NULL,
  installed_capacity_mw DECIMAL(20, 2) NOT NULL,
  current_load_mw       DECIMAL(20, 3) NOT NULL,
  utilization           DECIMAL(20, 4),
  headroom_mw           DECIMAL(20, 3) NOT NULL,
  overload_alert        BOOLEAN NOT NULL,
  PRIMARY KEY (region) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS fluss_catalog.${fluss_database}.ads_grid_dashboard (
  dashboard_id          STRING NOT NULL,
  equipment_total       BIGINT NOT NULL,
  running_total         BIGINT NOT NULL,
  installed_capacity_mw DECIMAL(20, 2) NOT NULL,
  current_load_mw       DECIMAL(20, 3) NOT NULL,
  alarm_count           BIGINT NOT NULL,
  attention_count       BIGINT NOT NULL,
  PRIMARY KEY (dashboard_id) NOT ENFORCED
);

-- Latency tuning, applied to every table (idempotent; re-run after changing a value, then restart the
-- jobs that read or write the table, since clients read the options when a job is planned).
-- * client.scanner.log.fetch.wait-max-time (default 500ms): Fluss 0.9 does not complete a waiting log
--   fetch when new records are appended (apache/fluss#3455), so every Fluss hop waited up to 500 ms
--   (measured ~400 ms per hop). 100ms costs ~10 idle fetch requests per second per bucket and reader.
-- * client.writer.batch-timeout (default 100ms): how long a writer lingers before sending a batch.
-- * client.writer.buffer.memory-size (default 64mb) / client.writer.batch-size (default 2mb): every Fluss
--   sink has its own writer whose heap page pool grows lazily to this size and keeps its pages; with the
--   default, 11 Fluss sinks in one TaskManager may pin 704 MB of heap. Observed: a 20k-row burst killed a
--   TaskManager with 384 MB task heap (OutOfMemoryError: Java heap space). 8mb keeps it at 88 MB.
ALTER TABLE fluss_catalog.${fluss_database}.dwd_power_equipment SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dwd_equipment_reading SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dwd_reading_by_equipment SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dws_equipment_latest SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dws_equipment_type_stats SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dws_region_stats SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.dws_voltage_level_stats SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.ads_equipment_health SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.ads_capacity_planning SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
ALTER TABLE fluss_catalog.${fluss_database}.ads_grid_dashboard SET ('client.scanner.log.fetch.wait-max-time' = '100ms', 'client.writer.batch-timeout' = '20ms',
  'client.writer.buffer.memory-size' = '8mb', 'client.writer.batch-size' = '1mb');
