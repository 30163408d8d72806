-- gridflow: one publication per captured source table, created BEFORE the ingest job starts.
-- The CDC sources run with 'debezium.publication.autocreate.mode' = 'disabled' and
-- 'debezium.publication.name' = the names below, so Debezium never creates or rewrites a publication
-- (its default autocreate is FOR ALL TABLES, and 'filtered' rewrites a shared publication's table list).
-- Placeholders: ${pipeline}, ${source_schema}. Idempotent. Needs the table owner or a superuser.
-- Names: gridflow_${pipeline}_<table>; Postgres truncates identifiers at 63 bytes, so keep
-- ${pipeline} at most 36 characters (the replication slots use the same names, see sql/flink/ingest.sql).
-- Removing a pipeline: DROP PUBLICATION IF EXISTS ... for the two names, and drop the two slots
-- (SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
--   WHERE slot_name IN ('gridflow_${pipeline}_power_equipment', ...) AND NOT active).

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['power_equipment', 'equipment_reading'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'gridflow_${pipeline}_' || t) THEN
      EXECUTE format('CREATE PUBLICATION %I FOR TABLE %I.%I', 'gridflow_${pipeline}_' || t, '${source_schema}', t);
    END IF;
  END LOOP;
END
$$;
