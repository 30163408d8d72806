-- gridflow source schema (PostgreSQL 15, database sgcc_source). Idempotent.
-- The two contract tables exactly as in PIPELINE.md (the freshness probe is a reading, see below).
-- REPLICA IDENTITY FULL: the CDC sources run with changelog-mode 'all' (see sql/NOTES.md), which needs
-- the complete before-image of every UPDATE and DELETE in the WAL.

CREATE TABLE IF NOT EXISTS power_equipment (
  equipment_id        VARCHAR(32)  PRIMARY KEY,          -- 'GEN-0001', 'TRF-0042', ...
  equipment_name      VARCHAR(128) NOT NULL,
  equipment_type      VARCHAR(32)  NOT NULL,             -- 发电机 | 变压器 | 输电线路 | 配电设备 (open set)
  region              VARCHAR(64)  NOT NULL,             -- 华北 | 华东 | 华中 | 东北 | 西北 | 西南 (open set)
  voltage_level_kv    INTEGER      NOT NULL CHECK (voltage_level_kv > 0),
  rated_capacity_mw   NUMERIC(12,2) CHECK (rated_capacity_mw >= 0),   -- NULL = unknown
  status              VARCHAR(16)  NOT NULL CHECK (status IN ('运行','检修','停运','备用')),
  commissioned_on     DATE,
  last_maintenance_on DATE,
  updated_at          TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS equipment_reading (           -- telemetry, high volume, mostly inserts
  reading_id     BIGSERIAL     PRIMARY KEY,
  equipment_id   VARCHAR(32)   NOT NULL,                  -- no FK: telemetry may precede master data
  load_mw        NUMERIC(12,3) NOT NULL,
  temperature_c  NUMERIC(6,2)  NOT NULL,
  voltage_kv     NUMERIC(8,3),
  measured_at    TIMESTAMPTZ   NOT NULL
);

-- The freshness probe is a reading of equipment '~gridflow-probe' (src/constants.ts PROBE_EQUIPMENT_ID),
-- which no equipment row has: it changes no contract value and travels the readings' own path.

-- Only when not FULL already: ALTER TABLE takes an ACCESS EXCLUSIVE lock even when nothing changes,
-- which would queue every writer of a live source behind it.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['power_equipment', 'equipment_reading'] LOOP
    IF (SELECT relreplident FROM pg_class WHERE oid = to_regclass(t)) <> 'f' THEN
      EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', t);
    END IF;
  END LOOP;
END $$;
