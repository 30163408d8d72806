/**
 * Which schema the dashboard reads: the pipeline's own sink schema, never a repair's working schema
 * (`<schema>_repair` filling, `<schema>_replaced` holding the old tables) that the same pipeline claims
 * in the ownership registry while a repair runs. A throwaway PostgreSQL with the sink's own DDL.
 */
import { Pool } from 'pg';
import { gridKpis } from '../../../src/dashboard/data';
import { withClient } from '../../../src/postgres/connection';
import { claimObjects } from '../../../src/postgres/ownership';
import { applySinkSchema } from '../../../src/postgres/sink';
import { ThrowawayPostgres, startThrowawayPostgres } from '../../support/throwaway-postgres';

jest.setTimeout(60_000);

let pg: ThrowawayPostgres;
let pool: Pool;
const sql = (text: string) => withClient(pg.admin, (c) => c.query(text));

beforeAll(async () => {
  pg = await startThrowawayPostgres({});
  pool = new Pool({ host: pg.admin.host, port: pg.admin.port, user: pg.admin.user, password: pg.admin.password, database: pg.admin.database, max: 2 });
  await applySinkSchema(pg.admin, 'dw');
  await claimObjects(pg.admin, 'sgcc', [{ kind: 'sink-schema', name: 'dw' }]);
  await sql(
    `INSERT INTO dw.ads_grid_dashboard (dashboard_id, equipment_total, running_total, installed_capacity_mw, current_load_mw, alarm_count, attention_count)
     VALUES ('grid', 300, 280, 1234.5, 567.8, 2, 5)`,
  );
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

test('a repair claiming its working schemas after the live one leaves the dashboard on the live tables', async () => {
  // What claimShadow does at a repair's start: later claims, same kind, same pipeline; the shadow is empty.
  await new Promise((r) => setTimeout(r, 20));
  await applySinkSchema(pg.admin, 'dw_repair');
  await claimObjects(pg.admin, 'sgcc', [
    { kind: 'sink-schema', name: 'dw_repair' },
    { kind: 'sink-schema', name: 'dw_replaced' },
  ]);
  const deps = { config: {} as never, sink: pool, temporal: null, pipelines: ['sgcc'], now: () => Date.now() } as never;
  const read = await gridKpis(deps, 'sgcc');
  expect(read.kpis).not.toBeNull();
  expect(read.kpis!.equipmentTotal).toBe(300);
});
