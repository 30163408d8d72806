-- The inputs of every contract row, evaluated on the source (sgcc_source) in the same snapshot as the
-- contract: per equipment, what its groups are, its power_equipment row version (xmin) and its latest
-- reading as the contract defines it (the greatest (measured_at, reading_id), the same DISTINCT ON as
-- contract/ads_*.sql) with that row's version. Verification derives each warehouse key's version from
-- these (src/postgres/cut.ts): a key whose version is the same in two snapshots did not change between
-- them. Readings of equipment without a power_equipment row are left out, as the contract leaves them out.
WITH latest AS (
  SELECT DISTINCT ON (equipment_id) equipment_id, reading_id, xmin AS reading_xmin
  FROM equipment_reading
  ORDER BY equipment_id, measured_at DESC, reading_id DESC
)
SELECT e.equipment_id, e.equipment_type, e.region, e.voltage_level_kv,
       e.xmin::text           AS pe_xmin,
       l.reading_id::text     AS reading_id,
       l.reading_xmin::text   AS reading_xmin
FROM power_equipment e
LEFT JOIN latest l ON l.equipment_id = e.equipment_id;
