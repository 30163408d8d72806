-- gridflow job "dws": Fluss DWD -> Fluss DWS (three group aggregates) + probe hop, one statement set.
-- Needs (same session, in order): catalog.sql, then this file. Placeholder: ${fluss_database}.
--
-- Reads dwd_power_equipment as a full changelog (+I/-U/+U/-D, Fluss 'full' startup = snapshot + log).
-- A group aggregate retracts the old row of a moved equipment from its old group, and when a group's
-- row count reaches 0 it emits -D, which deletes the group's row in Fluss (and later in the sink).
-- Averages are SUM / COUNT on a DECIMAL(20,2) sum: Flink's AVG(DECIMAL) rounds to 6 decimals before
-- ROUND(.., 2) (double rounding); this division keeps 20 decimals, like Postgres avg(numeric).
-- ROUND on DECIMAL is HALF_UP (half away from zero), as Postgres round(numeric).
-- No non-deterministic function is used on the data path (see NOTES.md, updated_at).

EXECUTE STATEMENT SET
BEGIN
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

  -- probe hop: stateless, keyed by probe_id end to end (the timestamp never meets a stateful operator)
  INSERT INTO fluss_catalog.${fluss_database}.dws_gridflow_probe
  SELECT probe_id, sent_at, CURRENT_TIMESTAMP AS dws_at
  FROM fluss_catalog.${fluss_database}.dwd_gridflow_probe;
END;
