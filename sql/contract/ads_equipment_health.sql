-- Contract for dw.ads_equipment_health, evaluated on the source (sgcc_source).
-- Latest reading = the existing reading with the greatest (measured_at, reading_id).
WITH latest AS (
  SELECT DISTINCT ON (equipment_id) equipment_id, load_mw, temperature_c, measured_at
  FROM equipment_reading
  ORDER BY equipment_id, measured_at DESC, reading_id DESC
), scored AS (
  SELECT e.equipment_id, e.equipment_name, e.equipment_type, e.region, e.status, e.rated_capacity_mw,
         l.load_mw       AS latest_load_mw,
         l.temperature_c AS latest_temperature_c,
         l.measured_at   AS latest_measured_at,
         CASE WHEN e.rated_capacity_mw IS NULL OR e.rated_capacity_mw = 0 OR l.load_mw IS NULL THEN NULL
              ELSE round(l.load_mw / e.rated_capacity_mw, 4) END AS load_ratio
  FROM power_equipment e
  LEFT JOIN latest l ON l.equipment_id = e.equipment_id
), health AS (
  SELECT s.*,
         greatest(0, 100
           - CASE WHEN latest_temperature_c > 80 THEN 40 WHEN latest_temperature_c > 65 THEN 20 ELSE 0 END
           - CASE WHEN load_ratio > 1.0 THEN 40 WHEN load_ratio > 0.9 THEN 20 ELSE 0 END
           - CASE status WHEN '检修' THEN 10 WHEN '停运' THEN 50 ELSE 0 END) AS health_score
  FROM scored s
)
SELECT equipment_id, equipment_name, equipment_type, region, status, rated_capacity_mw,
       latest_load_mw, latest_temperature_c, latest_measured_at, load_ratio, health_score,
       CASE WHEN health_score >= 80 THEN '正常' WHEN health_score >= 60 THEN '关注' ELSE '告警' END AS risk_level
FROM health
ORDER BY equipment_id COLLATE "C";
