-- Same roles as `gridflow stack up` creates (src/stack/components/postgres.ts).
CREATE ROLE gridflow_cdc LOGIN REPLICATION PASSWORD 'gridflow';
GRANT CONNECT ON DATABASE sgcc_source TO gridflow_cdc;
GRANT USAGE ON SCHEMA public TO gridflow_cdc;
ALTER DEFAULT PRIVILEGES FOR ROLE gridflow_admin IN SCHEMA public GRANT SELECT ON TABLES TO gridflow_cdc;
