-- Contract for dw.ads_grid_dashboard, evaluated on the source (sgcc_source).
-- One row 'grid'; no row at all while power_equipment is empty (HAVING count(*) > 0).
WITH latest AS (
  SELECT DISTINCT ON (equipment_id) equipment_id, load_mw, temperature_c
  FROM equipment_reading
  ORDER BY equipment_id, measured_at DESC, reading_id DESC
), health AS (
  SELECT e.status, e.rated_capacity_mw, l.load_mw,
         greatest(0, 100
           - CASE WHEN l.temperature_c > 80 THEN 40 WHEN l.temperature_c > 65 THEN 20 ELSE 0 END
           - CASE WHEN r.load_ratio > 1.0 THEN 40 WHEN r.load_ratio > 0.9 THEN 20 ELSE 0 END
           - CASE e.status WHEN '检修' THEN 10 WHEN '停运' THEN 50 ELSE 0 END) AS health_score
  FROM power_equipment e
  LEFT JOIN latest l ON l.equipment_id = e.equipment_id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN e.rated_capacity_mw IS NULL OR e.rated_capacity_mw = 0 OR l.load_mw IS NULL THEN NULL
                ELSE round(l.load_mw / e.rated_capacity_mw, 4) END AS load_ratio) r
)
SELECT 'grid'::text                                AS dashboard_id,
       count(*)                                    AS equipment_total,
       count(*) FILTER (WHERE status = '运行')     AS running_total,
       coalesce(sum(rated_capacity_mw), 0)         AS installed_capacity_mw,
       coalesce(sum(load_mw), 0)                   AS current_load_mw,
       count(*) FILTER (WHERE health_score < 60)                        AS alarm_count,     -- 告警
       count(*) FILTER (WHERE health_score >= 60 AND health_score < 80) AS attention_count  -- 关注
FROM health
HAVING count(*) > 0
ORDER BY dashboard_id;
