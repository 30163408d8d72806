-- gridflow job "ads": Fluss DWD -> Fluss ADS (three tables) + probe hop, one statement set.
-- Needs (same session, in order): catalog.sql, then this file. Placeholder: ${fluss_database}.
--
-- latest_reading: Top-1 per equipment_id by (measured_at DESC, reading_id DESC) over the reading
--   changelog. Its input has deletes, so Flink uses the retracting Top-N: it keeps every reading of the
--   equipment in state, a deleted latest reading falls back to the previous one, and a late reading that
--   is older than the current latest never wins. Readings of unknown equipment stay in that state (they
--   win as soon as the equipment appears) but never pass the LEFT JOIN below.
--   State grows with the reading count (~1 KB heap per reading on the hashmap backend; see NOTES.md).
-- equipment_health: every equipment LEFT JOIN its latest reading (NULL latest_* without a reading).
-- ads_capacity_planning and ads_grid_dashboard aggregate the Fluss table ads_equipment_health (the
-- contract's own definition: alarm/attention counts come from ads_equipment_health.risk_level). Reading
-- the view instead would make the planner build the Top-N and the join three times (each INSERT prunes
-- different columns, so the sub-plans are not reused), i.e. three copies of every reading in state.
-- No non-deterministic function is used on the data path (see NOTES.md, updated_at).

CREATE TEMPORARY VIEW latest_reading AS
SELECT equipment_id, load_mw, temperature_c, measured_at
FROM (
  SELECT equipment_id, load_mw, temperature_c, measured_at,
         ROW_NUMBER() OVER (PARTITION BY equipment_id ORDER BY measured_at DESC, reading_id DESC) AS rn
  FROM fluss_catalog.${fluss_database}.dwd_equipment_reading
)
WHERE rn = 1;

CREATE TEMPORARY VIEW equipment_latest AS
SELECT e.equipment_id, e.equipment_name, e.equipment_type, e.region, e.status, e.rated_capacity_mw,
       r.load_mw       AS latest_load_mw,
       r.temperature_c AS latest_temperature_c,
       r.measured_at   AS latest_measured_at,
       CASE WHEN e.rated_capacity_mw IS NULL OR e.rated_capacity_mw = 0 OR r.load_mw IS NULL
            THEN CAST(NULL AS DECIMAL(20, 4))
            ELSE CAST(ROUND(r.load_mw / e.rated_capacity_mw, 4) AS DECIMAL(20, 4)) END AS load_ratio
FROM fluss_catalog.${fluss_database}.dwd_power_equipment AS e
LEFT JOIN latest_reading AS r ON r.equipment_id = e.equipment_id;

CREATE TEMPORARY VIEW equipment_scored AS
SELECT l.*,
       GREATEST(0, 100
         - CASE WHEN latest_temperature_c > 80 THEN 40 WHEN latest_temperature_c > 65 THEN 20 ELSE 0 END
         - CASE WHEN load_ratio > 1.0 THEN 40 WHEN load_ratio > 0.9 THEN 20 ELSE 0 END
         - CASE status WHEN '检修' THEN 10 WHEN '停运' THEN 50 ELSE 0 END) AS health_score
FROM equipment_latest AS l;

CREATE TEMPORARY VIEW equipment_health AS
SELECT s.*,
       CASE WHEN health_score >= 80 THEN '正常' WHEN health_score >= 60 THEN '关注' ELSE '告警' END AS risk_level
FROM equipment_scored AS s;

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO fluss_catalog.${fluss_database}.ads_equipment_health
  SELECT equipment_id, equipment_name, equipment_type, region, status, rated_capacity_mw,
         latest_load_mw, latest_temperature_c, latest_measured_at, load_ratio, health_score, risk_level
  FROM equipment_health;

  INSERT INTO fluss_catalog.${fluss_database}.ads_capacity_planning
  SELECT region, installed_capacity_mw, current_load_mw, utilization,
         CAST(installed_capacity_mw - current_load_mw AS DECIMAL(20, 3)) AS headroom_mw,
         COALESCE(utilization > 0.85, FALSE)                              AS overload_alert
  FROM (
    SELECT region, installed_capacity_mw, current_load_mw,
           CASE WHEN installed_capacity_mw = 0 THEN CAST(NULL AS DECIMAL(20, 4))
                ELSE CAST(ROUND(current_load_mw / installed_capacity_mw, 4) AS DECIMAL(20, 4)) END AS utilization
    FROM (
      SELECT region,
             CAST(COALESCE(SUM(rated_capacity_mw) FILTER (WHERE status IN ('运行', '备用')), 0) AS DECIMAL(20, 2))
               AS installed_capacity_mw,
             CAST(COALESCE(SUM(latest_load_mw), 0) AS DECIMAL(20, 3)) AS current_load_mw
      FROM fluss_catalog.${fluss_database}.ads_equipment_health
      GROUP BY region
    )
  );

  -- A global aggregate: no row until the first equipment arrives, -D when the last one is deleted.
  INSERT INTO fluss_catalog.${fluss_database}.ads_grid_dashboard
  SELECT 'grid'                                                              AS dashboard_id,
         COUNT(*)                                                            AS equipment_total,
         COUNT(*) FILTER (WHERE status = '运行')                             AS running_total,
         CAST(COALESCE(SUM(rated_capacity_mw), 0) AS DECIMAL(20, 2))         AS installed_capacity_mw,
         CAST(COALESCE(SUM(latest_load_mw), 0) AS DECIMAL(20, 3))            AS current_load_mw,
         COUNT(*) FILTER (WHERE risk_level = '告警')                         AS alarm_count,
         COUNT(*) FILTER (WHERE risk_level = '关注')                         AS attention_count
  FROM fluss_catalog.${fluss_database}.ads_equipment_health;

  -- probe hop: stateless, keyed by probe_id end to end
  INSERT INTO fluss_catalog.${fluss_database}.ads_gridflow_probe
  SELECT probe_id, sent_at, dws_at, CURRENT_TIMESTAMP AS ads_at
  FROM fluss_catalog.${fluss_database}.dws_gridflow_probe;
END;
