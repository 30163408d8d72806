-- Contract for dw.ads_capacity_planning, evaluated on the source (sgcc_source).
WITH latest AS (
  SELECT DISTINCT ON (equipment_id) equipment_id, load_mw
  FROM equipment_reading
  ORDER BY equipment_id, measured_at DESC, reading_id DESC
), per_region AS (
  SELECT e.region,
         coalesce(sum(e.rated_capacity_mw) FILTER (WHERE e.status IN ('运行', '备用')), 0) AS installed_capacity_mw,
         coalesce(sum(l.load_mw), 0)                                                     AS current_load_mw
  FROM power_equipment e
  LEFT JOIN latest l ON l.equipment_id = e.equipment_id
  GROUP BY e.region
), u AS (
  SELECT p.*,
         CASE WHEN installed_capacity_mw = 0 THEN NULL
              ELSE round(current_load_mw / installed_capacity_mw, 4) END AS utilization
  FROM per_region p
)
SELECT region, installed_capacity_mw, current_load_mw, utilization,
       installed_capacity_mw - current_load_mw AS headroom_mw,
       coalesce(utilization > 0.85, false)     AS overload_alert
FROM u
ORDER BY region COLLATE "C";
