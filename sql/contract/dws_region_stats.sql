-- Contract for dw.dws_region_stats, evaluated on the source (sgcc_source).
SELECT region,
       count(*)                                  AS equipment_count,
       count(*) FILTER (WHERE status = '运行')   AS running_count,
       count(*) FILTER (WHERE status = '检修')   AS maintenance_count,
       count(*) FILTER (WHERE status = '停运')   AS outage_count,
       sum(rated_capacity_mw)                    AS total_capacity_mw
FROM power_equipment
GROUP BY region
ORDER BY region COLLATE "C";
