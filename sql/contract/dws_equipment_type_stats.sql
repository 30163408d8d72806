-- Contract for dw.dws_equipment_type_stats, evaluated on the source (sgcc_source).
-- Compared columns only (no updated_at), ordered by the primary key (byte order, COLLATE "C").
SELECT equipment_type,
       count(*)                                  AS equipment_count,
       count(*) FILTER (WHERE status = '运行')   AS running_count,
       sum(rated_capacity_mw)                    AS total_capacity_mw,
       round(avg(rated_capacity_mw), 2)          AS avg_capacity_mw
FROM power_equipment
GROUP BY equipment_type
ORDER BY equipment_type COLLATE "C";
