-- gridflow job "ingest": Postgres CDC (pgoutput) -> Fluss DWD, one statement set.
-- Needs (same session, in order): catalog.sql, then this file. ddl.sql must have run once before.
-- Source preparation: sql/source/schema.sql (REPLICA IDENTITY FULL) and sql/source/publication.sql.
-- ${source_tls_options}: nothing, or the Debezium TLS options of the CDC connection's sslmode/sslrootcert.
-- Placeholders: ${slot_tag}, ${fluss_database}, ${source_host}, ${source_port}, ${source_database},
--               ${source_schema}, ${source_user}, ${source_password}.
--
-- One replication slot and one publication per captured table, both named gridflow_${slot_tag}_<table>
-- (the pipeline's name, or <name>_v<n> for its version n: src/core/versions.ts).
-- The freshness probe is a reading too (equipment ${probe_equipment}, which no equipment row has): it
-- takes the readings' own slot, reader and writers, so it waits behind whatever they wait behind.
-- changelog-mode 'all' (needs REPLICA IDENTITY FULL): updates arrive as -U/+U with full before-images
-- and deletes as -D with the full row, so no ChangelogNormalize (no state) is needed in this job.
-- Incremental snapshot ON with backfill skipped: the snapshot is chunked and checkpointable, and no
-- extra per-reader "<slot>_<subtask>" backfill slot is ever created; the snapshot is at-least-once,
-- which converges because every DWD table is a primary-key (upsert) table.
-- 'debezium.poll.interval.ms' = '100': Debezium sleeps this long whenever the replication stream has no
-- pending message (default 500 ms, measured as ~250 ms average added latency).
-- 'heartbeat.interval.ms' = '10s': lets an idle table's slot confirm the server's current LSN, so WAL
-- written by other tables is not retained behind it (observed: all three slots advance together).
-- The slots advance only when checkpoints complete (scan.lsn-commit.checkpoints-num-delay after the
-- snapshot): run this job with checkpointing on.

-- dwd_reading_by_equipment's key (equipment_id, reading_id) is not the source's (reading_id): the planner
-- then sends -U/+U (the Fluss sink writes -U as a delete, so a reading moved to another equipment leaves
-- its old key) and, by default, adds a SinkUpsertMaterializer that keeps every reading in state. Its
-- only use is to reorder changes of one key that arrive through different paths; here each key has
-- one path (one CDC reader, in commit order), so it is not needed.
SET 'table.exec.sink.upsert-materialize' = 'NONE';

CREATE TEMPORARY TABLE src_power_equipment (
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
) WITH (
  'connector' = 'postgres-cdc',
  'hostname' = '${source_host}',
  'port' = '${source_port}',
  'username' = '${source_user}',
  'password' = '${source_password}',
  'database-name' = '${source_database}',
  'schema-name' = '${source_schema}',
  'table-name' = 'power_equipment',
  'slot.name' = 'gridflow_${slot_tag}_power_equipment',
  'decoding.plugin.name' = 'pgoutput',
  'debezium.publication.autocreate.mode' = 'disabled',
  'debezium.publication.name' = 'gridflow_${slot_tag}_power_equipment',
  'changelog-mode' = 'all',
  'scan.incremental.snapshot.enabled' = 'true',
  'scan.incremental.snapshot.backfill.skip' = 'true',
  'heartbeat.interval.ms' = '10s',
  'debezium.poll.interval.ms' = '100'${source_tls_options}
);

CREATE TEMPORARY TABLE src_equipment_reading (
  reading_id    BIGINT NOT NULL,
  equipment_id  STRING NOT NULL,
  load_mw       DECIMAL(12, 3) NOT NULL,
  temperature_c DECIMAL(6, 2) NOT NULL,
  voltage_kv    DECIMAL(8, 3),
  measured_at   TIMESTAMP_LTZ(6) NOT NULL,
  PRIMARY KEY (reading_id) NOT ENFORCED
) WITH (
  'connector' = 'postgres-cdc',
  'hostname' = '${source_host}',
  'port' = '${source_port}',
  'username' = '${source_user}',
  'password' = '${source_password}',
  'database-name' = '${source_database}',
  'schema-name' = '${source_schema}',
  'table-name' = 'equipment_reading',
  'slot.name' = 'gridflow_${slot_tag}_equipment_reading',
  'decoding.plugin.name' = 'pgoutput',
  'debezium.publication.autocreate.mode' = 'disabled',
  'debezium.publication.name' = 'gridflow_${slot_tag}_equipment_reading',
  'changelog-mode' = 'all',
  'scan.incremental.snapshot.enabled' = 'true',
  'scan.incremental.snapshot.backfill.skip' = 'true',
  'heartbeat.interval.ms' = '10s',
  'debezium.poll.interval.ms' = '100'${source_tls_options}
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO fluss_catalog.${fluss_database}.dwd_power_equipment
  SELECT equipment_id, equipment_name, equipment_type, region, voltage_level_kv, rated_capacity_mw,
         status, commissioned_on, last_maintenance_on, updated_at
  FROM src_power_equipment;

  INSERT INTO fluss_catalog.${fluss_database}.dwd_equipment_reading
  SELECT reading_id, equipment_id, load_mw, temperature_c, voltage_kv, measured_at
  FROM src_equipment_reading;

  INSERT INTO fluss_catalog.${fluss_database}.dwd_reading_by_equipment
  SELECT equipment_id, reading_id, measured_at, load_mw, temperature_c
  FROM src_equipment_reading;
END;
