-- gridflow job "sink": Fluss DWS/ADS (+ probe) -> PostgreSQL sink (JDBC upsert), one statement set.
-- Needs (same session, in order): catalog.sql, then this file.
-- Placeholders: ${fluss_database}, ${sink_jdbc_url}, ${sink_user}, ${sink_password}.
-- Sink schema: sql/sink/dw.sql and sql/sink/ops.sql must have run before.
--
-- Table names are unqualified: ${sink_jdbc_url} sets the search path to this version's schema, the
-- readers' schema, then gridflow (src/core/versions.ts). The job finds its own tables whether they are
-- the live ones (in the readers' schema) or a version's beside them, so a switch between versions moves
-- tables in one transaction and no sink job stops or writes the other version's rows. probe_hops is
-- gridflow.probe_hops while the version is live, its version schema's own table while it is not.
--
-- Each sink declares the table's PRIMARY KEY NOT ENFORCED, which makes the JDBC connector an upsert
-- sink (INSERT .. ON CONFLICT (pk) DO UPDATE) that also executes DELETEs, so a group that disappears
-- from Fluss disappears from Postgres. The Fluss source's upsert key equals the sink key, so the
-- planner adds no SinkUpsertMaterializer and the job is stateless (only source offsets in checkpoints).
-- updated_at is not written from Flink: the sink tables stamp it in a trigger (sql/sink/dw.sql).
-- Timestamps: flink-connector-jdbc 3.3 cannot write TIMESTAMP_LTZ (UnsupportedOperationException at
-- runtime), so TIMESTAMP_LTZ is cast to TIMESTAMP in the session time zone and written into timestamptz
-- columns through java.sql.Timestamp, which the driver interprets in the TaskManager JVM's zone.
-- Submit this job with 'table.local-time-zone' = 'UTC' and run TaskManagers with -Duser.timezone=UTC
-- (any zone works as long as the two are equal).

CREATE TEMPORARY TABLE sink_dws_equipment_type_stats (
  equipment_type    STRING NOT NULL,
  equipment_count   BIGINT NOT NULL,
  running_count     BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  avg_capacity_mw   DECIMAL(20, 2),
  PRIMARY KEY (equipment_type) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'dws_equipment_type_stats',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE sink_dws_region_stats (
  region            STRING NOT NULL,
  equipment_count   BIGINT NOT NULL,
  running_count     BIGINT NOT NULL,
  maintenance_count BIGINT NOT NULL,
  outage_count      BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  PRIMARY KEY (region) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'dws_region_stats',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE sink_dws_voltage_level_stats (
  voltage_level_kv  INT NOT NULL,
  equipment_count   BIGINT NOT NULL,
  total_capacity_mw DECIMAL(20, 2),
  avg_capacity_mw   DECIMAL(20, 2),
  PRIMARY KEY (voltage_level_kv) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'dws_voltage_level_stats',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE sink_ads_equipment_health (
  equipment_id         STRING NOT NULL,
  equipment_name       STRING NOT NULL,
  equipment_type       STRING NOT NULL,
  region               STRING NOT NULL,
  status               STRING NOT NULL,
  rated_capacity_mw    DECIMAL(12, 2),
  latest_load_mw       DECIMAL(12, 3),
  latest_temperature_c DECIMAL(6, 2),
  latest_measured_at   TIMESTAMP(6),
  load_ratio           DECIMAL(20, 4),
  health_score         INT NOT NULL,
  risk_level           STRING NOT NULL,
  PRIMARY KEY (equipment_id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'ads_equipment_health',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE sink_ads_capacity_planning (
  region                STRING NOT NULL,
  installed_capacity_mw DECIMAL(20, 2) NOT NULL,
  current_load_mw       DECIMAL(20, 3) NOT NULL,
  utilization           DECIMAL(20, 4),
  headroom_mw           DECIMAL(20, 3) NOT NULL,
  overload_alert        BOOLEAN NOT NULL,
  PRIMARY KEY (region) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'ads_capacity_planning',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE sink_ads_grid_dashboard (
  dashboard_id          STRING NOT NULL,
  equipment_total       BIGINT NOT NULL,
  running_total         BIGINT NOT NULL,
  installed_capacity_mw DECIMAL(20, 2) NOT NULL,
  current_load_mw       DECIMAL(20, 3) NOT NULL,
  alarm_count           BIGINT NOT NULL,
  attention_count       BIGINT NOT NULL,
  PRIMARY KEY (dashboard_id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'ads_grid_dashboard',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

-- Where the freshness probe comes out: one row per pipeline and hop (the ADS table it came through),
-- the probe's number (its latest_load_mw / current_load_mw) and, through ads_equipment_health, its
-- sent_at. The sink database stamps arrived_at and logs every arrival (sql/sink/ops.sql).
CREATE TEMPORARY TABLE sink_probe_hops (
  pipeline    STRING NOT NULL,
  hop         STRING NOT NULL,
  probe_value DECIMAL(20, 3),
  PRIMARY KEY (pipeline, hop) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = '${sink_jdbc_url}',
  'username' = '${sink_user}',
  'password' = '${sink_password}',
  'table-name' = 'probe_hops',
  'sink.buffer-flush.interval' = '200ms',
  'sink.buffer-flush.max-rows' = '1000',
  'sink.max-retries' = '5'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO sink_dws_equipment_type_stats
  SELECT equipment_type, equipment_count, running_count, total_capacity_mw, avg_capacity_mw
  FROM fluss_catalog.${fluss_database}.dws_equipment_type_stats;

  INSERT INTO sink_dws_region_stats
  SELECT region, equipment_count, running_count, maintenance_count, outage_count, total_capacity_mw
  FROM fluss_catalog.${fluss_database}.dws_region_stats;

  INSERT INTO sink_dws_voltage_level_stats
  SELECT voltage_level_kv, equipment_count, total_capacity_mw, avg_capacity_mw
  FROM fluss_catalog.${fluss_database}.dws_voltage_level_stats;

  INSERT INTO sink_ads_equipment_health
  SELECT equipment_id, equipment_name, equipment_type, region, status, rated_capacity_mw,
         latest_load_mw, latest_temperature_c, CAST(latest_measured_at AS TIMESTAMP(6)), load_ratio,
         health_score, risk_level
  FROM fluss_catalog.${fluss_database}.ads_equipment_health
  WHERE equipment_id <> '${probe_equipment}';

  INSERT INTO sink_ads_capacity_planning
  SELECT region, installed_capacity_mw, current_load_mw, utilization, headroom_mw, overload_alert
  FROM fluss_catalog.${fluss_database}.ads_capacity_planning
  WHERE region <> '${probe_equipment}';

  INSERT INTO sink_ads_grid_dashboard
  SELECT dashboard_id, equipment_total, running_total, installed_capacity_mw, current_load_mw,
         alarm_count, attention_count
  FROM fluss_catalog.${fluss_database}.ads_grid_dashboard
  WHERE dashboard_id <> '${probe_equipment}';

  -- The probe, out of each ADS table (filters on the key, so every version of a row goes the same way).
  INSERT INTO sink_probe_hops
  SELECT '${pipeline}', 'health', latest_load_mw
  FROM fluss_catalog.${fluss_database}.ads_equipment_health
  WHERE equipment_id = '${probe_equipment}';

  INSERT INTO sink_probe_hops
  SELECT '${pipeline}', 'capacity', current_load_mw
  FROM fluss_catalog.${fluss_database}.ads_capacity_planning
  WHERE region = '${probe_equipment}';

  INSERT INTO sink_probe_hops
  SELECT '${pipeline}', 'dashboard', current_load_mw
  FROM fluss_catalog.${fluss_database}.ads_grid_dashboard
  WHERE dashboard_id = '${probe_equipment}';
END;
