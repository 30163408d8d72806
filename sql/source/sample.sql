-- gridflow sample data (deterministic, idempotent). Apply after schema.sql.
--   300 equipment over 4 types x 6 regions x 6 voltage levels, all four statuses,
--   some NULL and some 0 capacities; 1..5 readings for 90% of them (none for every 10th),
--   out-of-order and equal measured_at timestamps, and readings for 3 unknown equipment ids.
-- Every value is a pure function of the row number, so re-running the file changes nothing.

INSERT INTO power_equipment (equipment_id, equipment_name, equipment_type, region, voltage_level_kv,
                             rated_capacity_mw, status, commissioned_on, last_maintenance_on, updated_at)
SELECT (ARRAY['GEN','TRF','LIN','DST'])[i % 4 + 1] || '-' || lpad(i::text, 4, '0'),
       (ARRAY['华北','华东','华中','东北','西北','西南'])[(i * 7 + i / 4) % 6 + 1]
         || (ARRAY['发电机','变压器','输电线路','配电设备'])[i % 4 + 1] || ' #' || i,
       (ARRAY['发电机','变压器','输电线路','配电设备'])[i % 4 + 1],
       (ARRAY['华北','华东','华中','东北','西北','西南'])[(i * 7 + i / 4) % 6 + 1],
       (ARRAY[10, 35, 110, 220, 500, 1000])[(i * 3 + i / 6) % 6 + 1],
       CASE WHEN i % 17 = 0 THEN NULL                                  -- capacity unknown
            WHEN i % 23 = 0 THEN 0                                     -- capacity 0 (no load_ratio)
            ELSE round(((ARRAY[300, 120, 800, 15])[i % 4 + 1] * (0.4 + (i * 37 % 100) / 80.0))::numeric, 2)
       END,
       CASE WHEN i % 11 = 0 THEN '检修' WHEN i % 13 = 0 THEN '停运' WHEN i % 7 = 0 THEN '备用' ELSE '运行' END,
       DATE '2005-01-01' + (i * 53 % 7000),
       CASE WHEN i % 9 = 0 THEN NULL ELSE DATE '2025-01-01' + (i * 29 % 300) END,
       TIMESTAMPTZ '2026-01-01 00:00:00+08'
FROM generate_series(1, 300) AS g(i)
ON CONFLICT (equipment_id) DO NOTHING;

-- Readings: reading_id = equipment number * 10 + k (k = 1..n). measured_at rises with k, except that
-- for every 6th equipment the highest reading_id carries the OLDEST timestamp (late arrival must not win),
-- and for every 8th equipment the two newest readings share one measured_at (reading_id breaks the tie).
-- load = capacity * factor, factor 0.30..1.19, so some load ratios exceed 0.9 and 1.0;
-- temperatures 35..94 C, so some exceed 65 and 80.
INSERT INTO equipment_reading (reading_id, equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
SELECT i * 10 + k,
       (ARRAY['GEN','TRF','LIN','DST'])[i % 4 + 1] || '-' || lpad(i::text, 4, '0'),
       round((coalesce(nullif((ARRAY[300, 120, 800, 15])[i % 4 + 1] * (0.4 + (i * 37 % 100) / 80.0), 0), 50)
              * (0.30 + ((i * 13 + k * 29) % 90) / 100.0))::numeric, 3),
       round((35 + ((i * 17 + k * 11) % 60) + ((i + k) % 4) * 0.25)::numeric, 2),
       round(((ARRAY[10, 35, 110, 220, 500, 1000])[(i * 3 + i / 6) % 6 + 1] * (0.95 + ((i + k) % 10) / 100.0))::numeric, 3),
       TIMESTAMPTZ '2026-01-01 08:00:00+08' + (i % 60) * INTERVAL '1 second'
         + CASE WHEN i % 6 = 0 AND k = 1 + i % 5 THEN INTERVAL '0'          -- newest id, oldest time
                WHEN i % 8 = 0 AND k = i % 5 THEN (k + 1) * INTERVAL '5 minutes'  -- ties with k + 1
                ELSE k * INTERVAL '5 minutes' END
FROM generate_series(1, 300) AS g(i), generate_series(1, 5) AS r(k)
WHERE i % 10 <> 0 AND k <= 1 + i % 5
ON CONFLICT (reading_id) DO NOTHING;

-- Telemetry for equipment that is not (yet) in power_equipment: ignored by the per-equipment tables.
INSERT INTO equipment_reading (reading_id, equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
SELECT 900000 + j, 'UNK-' || lpad(j::text, 4, '0'), 12.5 * j, 40 + j, 110,
       TIMESTAMPTZ '2026-01-01 09:00:00+08' + j * INTERVAL '1 minute'
FROM generate_series(1, 3) AS u(j)
ON CONFLICT (reading_id) DO NOTHING;

-- Keep the BIGSERIAL ahead of the explicit ids (never moves it backwards).
SELECT setval(pg_get_serial_sequence('equipment_reading', 'reading_id'),
              greatest((SELECT max(reading_id) FROM equipment_reading),
                       (SELECT last_value FROM equipment_reading_reading_id_seq)));
