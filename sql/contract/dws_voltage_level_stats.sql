-- Contract for dw.dws_voltage_level_stats, evaluated on the source (sgcc_source).
SELECT voltage_level_kv,
       count(*)                                  AS equipment_count,
       sum(rated_capacity_mw)                    AS total_capacity_mw,
       round(avg(rated_capacity_mw), 2)          AS avg_capacity_mw
FROM power_equipment
GROUP BY voltage_level_kv
ORDER BY voltage_level_kv;
