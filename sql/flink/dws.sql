-- gridflow job "dws": Fluss DWD -> Fluss DWS (three group aggregates, and every equipment with its
-- latest reading), one statement set.
-- Needs (same session, in order): catalog.sql, then this file.
-- Placeholders: ${fluss_bootstrap}, ${fluss_database} (quoted, in SQL), ${fluss_database_name} (inside a string). Needs the gridflow function jar (sql/udf).
--
-- Reads dwd_power_equipment as a full changelog (+I/-U/+U/-D, Fluss 'full' startup = snapshot + log).
-- A group aggregate retracts the old row of a moved equipment from its old group, and when a group's
-- row count reaches 0 it emits -D, which deletes the group's row in Fluss (and later in the sink).
-- Averages are SUM / COUNT on a DECIMAL(20,2) sum: Flink's AVG(DECIMAL) rounds to 6 decimals before
-- ROUND(.., 2) (double rounding); this division keeps 20 decimals, like Postgres avg(numeric).
-- ROUND on DECIMAL is HALF_UP (half away from zero), as Postgres round(numeric).
--
-- dws_equipment_latest: one row per equipment id that has an equipment row or readings, with the
-- equipment's attributes (NULL without a row) and its latest reading (NULL without readings), by
-- EQUIPMENT_LATEST over the union of both changelogs grouped by equipment_id: the join of the two is an
-- aggregate, so this job can run with mini-batch, and its state is a few hundred bytes per equipment
-- whatever the number of readings (sql/udf/gridflow/udf/EquipmentLatest.java, sql/NOTES.md).
-- Mini-batch: each aggregate folds what arrived for a key in the last 500 ms into one update, so ten
-- thousand readings a second of a few hundred equipment leave this job as a few hundred updates.
-- No non-deterministic function is used on the data path (see NOTES.md, updated_at).

SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '500ms';
SET 'table.exec.mini-batch.size' = '20000';

CREATE TEMPORARY FUNCTION equipment_latest AS 'gridflow.udf.EquipmentLatest';

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO fluss_catalog.${fluss_database}.dws_equipment_latest
  SELECT equipment_id, e.equipment_name, e.equipment_type, e.region, e.status, e.rated_capacity_mw,
         e.reading_id, e.measured_at, e.load_mw, e.temperature_c
  FROM (
    SELECT equipment_id,
           equipment_latest(equipment_id, reading_id, measured_at, load_mw, temperature_c,
                            equipment_name, equipment_type, region, status, rated_capacity_mw,
                            '${fluss_bootstrap}', '${fluss_database_name}', 'dwd_reading_by_equipment') AS e
    FROM (
      SELECT equipment_id, reading_id, measured_at, load_mw, temperature_c,
             CAST(NULL AS STRING) AS equipment_name, CAST(NULL AS STRING) AS equipment_type,
             CAST(NULL AS STRING) AS region, CAST(NULL AS STRING) AS status,
             CAST(NULL AS DECIMAL(12, 2)) AS rated_capacity_mw
      FROM fluss_catalog.${fluss_database}.dwd_reading_by_equipment
      UNION ALL
      -- the equipment row: its reading_id is NULL
      SELECT equipment_id, CAST(NULL AS BIGINT), CAST(NULL AS TIMESTAMP_LTZ(6)), CAST(NULL AS DECIMAL(12, 3)),
             CAST(NULL AS DECIMAL(6, 2)), equipment_name, equipment_type, region, status, rated_capacity_mw
      FROM fluss_catalog.${fluss_database}.dwd_power_equipment
    )
    GROUP BY equipment_id
  );

  INSERT INTO fluss_catalog.${fluss_database}.dws_equipment_type_stats
  SELECT equipment_type,
         COUNT(*)                                                    AS equipment_count,
         COUNT(*) FILTER (WHERE status = '运行')                     AS running_count,
         CAST(SUM(rated_capacity_mw) AS DECIMAL(20, 2))              AS total_capacity_mw,
         CAST(ROUND(CAST(SUM(rated_capacity_mw) AS DECIMAL(20, 2))
                    / NULLIF(COUNT(rated_capacity_mw), 0), 2) AS DECIMAL(20, 2)) AS avg_capacity_mw
  FROM fluss_catalog.${fluss_database}.dwd_power_equipment
  GROUP BY equipment_type;

  INSERT INTO fluss_catalog.${fluss_database}.dws_region_stats
  SELECT region,
         COUNT(*)                                                    AS equipment_count,
         COUNT(*) FILTER (WHERE status = '运行')                     AS running_count,
         COUNT(*) FILTER (WHERE status = '检修')                     AS maintenance_count,
         COUNT(*) FILTER (WHERE status = '停运')                     AS outage_count,
         CAST(SUM(rated_capacity_mw) AS DECIMAL(20, 2))              AS total_capacity_mw
  FROM fluss_catalog.${fluss_database}.dwd_power_equipment
  GROUP BY region;

  INSERT INTO fluss_catalog.${fluss_database}.dws_voltage_level_stats
  SELECT voltage_level_kv,
         COUNT(*)                                                    AS equipment_count,
         CAST(SUM(rated_capacity_mw) AS DECIMAL(20, 2))              AS total_capacity_mw,
         CAST(ROUND(CAST(SUM(rated_capacity_mw) AS DECIMAL(20, 2))
                    / NULLIF(COUNT(rated_capacity_mw), 0), 2) AS DECIMAL(20, 2)) AS avg_capacity_mw
  FROM fluss_catalog.${fluss_database}.dwd_power_equipment
  GROUP BY voltage_level_kv;
END;
