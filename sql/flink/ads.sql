-- gridflow job "ads": Fluss DWS -> Fluss ADS (three tables), one statement set.
-- Needs (same session, in order): catalog.sql, then this file. Placeholders: ${fluss_database},
-- ${probe_equipment}.
--
-- equipment_health: every equipment with its latest reading, scored — a stateless projection of
-- dws_equipment_latest (the dws job has done the join as an aggregate), keeping the rows that have an
-- equipment row. The filter is on a non-key column, so the planner sends -U/+U and the Fluss sink
-- deletes a row whose equipment went (EXPLAIN shows no DropUpdateBefore before it). Plus the freshness
-- probe: a reading of equipment ${probe_equipment}, which has no equipment row, passes as a row of its own
-- (region and dashboard group ${probe_equipment}), so it goes through this job's writers and both
-- aggregates like the equipment rows; the sink job sends it to gridflow.probe_hops, never to dw.
-- ads_capacity_planning and ads_grid_dashboard aggregate that same view (one scan of
-- dws_equipment_latest; the contract's alarm/attention counts are ads_equipment_health.risk_level).
-- Mini-batch, as in the dws job: this job has no join, so nothing here meets Flink 1.20's mini-batch
-- join (which loses retractions); never add a regular join to a job that runs with mini-batch.
-- No non-deterministic function is used on the data path (see NOTES.md, updated_at).

SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '200ms';
SET 'table.exec.mini-batch.size' = '20000';

CREATE TEMPORARY VIEW equipment_latest AS
SELECT equipment_id,
       CASE WHEN equipment_id = '${probe_equipment}' THEN 'gridflow freshness probe' ELSE equipment_name END AS equipment_name,
       CASE WHEN equipment_id = '${probe_equipment}' THEN '${probe_equipment}' ELSE equipment_type END AS equipment_type,
       CASE WHEN equipment_id = '${probe_equipment}' THEN '${probe_equipment}' ELSE region END AS region,
       CASE WHEN equipment_id = '${probe_equipment}' THEN '运行' ELSE status END AS status,
       rated_capacity_mw,
       load_mw       AS latest_load_mw,
       temperature_c AS latest_temperature_c,
       measured_at   AS latest_measured_at,
       CASE WHEN rated_capacity_mw IS NULL OR rated_capacity_mw = 0 OR load_mw IS NULL
            THEN CAST(NULL AS DECIMAL(20, 4))
            ELSE CAST(ROUND(load_mw / rated_capacity_mw, 4) AS DECIMAL(20, 4)) END AS load_ratio
FROM fluss_catalog.${fluss_database}.dws_equipment_latest
WHERE equipment_name IS NOT NULL OR equipment_id = '${probe_equipment}';

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
      FROM equipment_health
      GROUP BY region
    )
  );

  -- One group, 'grid': no row until the first equipment arrives, -D when the last one is deleted. The
  -- probe's row is a group of its own (the sink job does not write it to dw.ads_grid_dashboard).
  INSERT INTO fluss_catalog.${fluss_database}.ads_grid_dashboard
  SELECT dashboard_id,
         COUNT(*)                                                            AS equipment_total,
         COUNT(*) FILTER (WHERE status = '运行')                             AS running_total,
         CAST(COALESCE(SUM(rated_capacity_mw), 0) AS DECIMAL(20, 2))         AS installed_capacity_mw,
         CAST(COALESCE(SUM(latest_load_mw), 0) AS DECIMAL(20, 3))            AS current_load_mw,
         COUNT(*) FILTER (WHERE risk_level = '告警')                         AS alarm_count,
         COUNT(*) FILTER (WHERE risk_level = '关注')                         AS attention_count
  FROM (
    SELECT CASE WHEN equipment_id = '${probe_equipment}' THEN '${probe_equipment}' ELSE 'grid' END AS dashboard_id,
           status, rated_capacity_mw, latest_load_mw, risk_level
    FROM equipment_health
  )
  GROUP BY dashboard_id;
END;
