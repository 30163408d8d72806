-- gridflow: Fluss catalog and database. Run first in EVERY gateway session that submits a job
-- (catalogs live in the session). Placeholders: ${fluss_bootstrap}, ${fluss_database}.
-- The catalog holds only Fluss tables; CDC sources and JDBC sinks are TEMPORARY tables in
-- default_catalog.default_database (the session's current catalog stays default_catalog).

CREATE CATALOG IF NOT EXISTS fluss_catalog WITH (
  'type' = 'fluss',
  'bootstrap.servers' = '${fluss_bootstrap}'
);

CREATE DATABASE IF NOT EXISTS fluss_catalog.${fluss_database};
