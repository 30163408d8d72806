-- Same roles as `gridflow stack up` creates (src/stack/components/postgres.ts).
CREATE ROLE gridflow_writer LOGIN PASSWORD 'gridflow';
ALTER DATABASE sgcc_dw OWNER TO gridflow_writer;
