/**
 * The freshness probe, on both databases. A probe is a reading of equipment PROBE_EQUIPMENT_ID written
 * into the source's equipment_reading: it takes the readings' own replication slot, CDC reader, Fluss
 * writers, the dws job's LATEST_READING aggregate, the ads job's health writer and both ADS aggregates,
 * and the sink job's readers of the three ADS tables, which route it to gridflow.probe_hops (one row per
 * pipeline and hop) instead of dw. It changes no contract value: no equipment row has that id.
 *
 * The probe's load_mw is its number: the seconds after PROBE_EPOCH_S at which it was sent, to the
 * millisecond (measured_at is the same instant). The number survives every hop, sums included, so each
 * hop says which probe it carried; a hop that carried a newer probe has carried the older one's data
 * too (LATEST_READING keeps only the newest probe). Arrival times are the sink database's clock
 * (gridflow.probe_log), sending times the source's: on two hosts their skew adds to the figure.
 */
import { PgConnection } from '../config';
import { PROBE_EPOCH_S, PROBE_EQUIPMENT_ID } from '../constants';
import { quoteIdent, query, withClient } from './connection';

/** The ADS tables the probe comes out of, in the sink job (sql/flink/sink.sql). */
export const PROBE_HOPS = ['health', 'capacity', 'dashboard'] as const;
type ProbeHop = (typeof PROBE_HOPS)[number];

export interface SentProbe {
  readingId: string;
  /** numeric(12,3) as text: seconds after PROBE_EPOCH_S. */
  value: string;
  /** Epoch ms, the source's clock. */
  sentAt: number;
}

/** When the probe (or a newer one) came out of each hop, epoch ms of the sink's clock; null: not yet. */
type HopArrivals = Record<ProbeHop, number | null>;

export function probeSentAt(value: string | number): number {
  return Math.round((PROBE_EPOCH_S + Number(value)) * 1000);
}

/**
 * Write one probe into the source and record it in the sink (so cleanupProbes finds it by key). With
 * sink null the probe is not recorded: the caller deletes it (deleteProbes), as a benchmark does.
 */
export async function sendProbe(source: PgConnection, sink: PgConnection | null, pipeline: string, schema: string): Promise<SentProbe> {
  const sent = await withClient(source, async (client) => {
    const res = await query<{ reading_id: string; value: string }>(
      client,
      'write freshness probe',
      `INSERT INTO ${quoteIdent(schema)}.equipment_reading (equipment_id, load_mw, temperature_c, voltage_kv, measured_at)
       SELECT $1, round((extract(epoch FROM t) - $2)::numeric, 3), 0, NULL, t
       FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS t) now
       RETURNING reading_id::text, load_mw::text AS value`,
      [PROBE_EQUIPMENT_ID, PROBE_EPOCH_S],
    );
    const row = res.rows[0];
    return { readingId: row.reading_id, value: row.value, sentAt: probeSentAt(row.value) };
  });
  if (!sink) return sent;
  await withClient(sink, (client) =>
    query(
      client,
      'record freshness probe',
      `INSERT INTO gridflow.probes (pipeline, reading_id, probe_value, sent_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
       ON CONFLICT DO NOTHING`,
      [pipeline, sent.readingId, sent.value, sent.sentAt],
    ),
  );
  return sent;
}

/** Per hop, the first arrival of this probe or a newer one. */
export async function probeArrivals(sink: PgConnection, pipeline: string, value: string): Promise<HopArrivals> {
  return withClient(sink, async (client) => {
    const res = await query<{ hop: string; arrived_ms: number }>(
      client,
      'read probe arrivals',
      `SELECT hop, (extract(epoch FROM min(arrived_at)) * 1000)::float8 AS arrived_ms
       FROM gridflow.probe_log WHERE pipeline = $1 AND probe_value >= $2::numeric GROUP BY hop`,
      [pipeline, value],
    );
    const arrivals: HopArrivals = { health: null, capacity: null, dashboard: null };
    for (const row of res.rows) if ((PROBE_HOPS as readonly string[]).includes(row.hop)) arrivals[row.hop as ProbeHop] = Math.round(row.arrived_ms);
    return arrivals;
  });
}

interface ProbeLag {
  /** How far behind the sink is, by the probes: see measureProbeLag. Null: no probe sent yet. */
  lagMs: number | null;
  /** The newest probe that has come out of every hop, and how long it took. */
  newestArrived: { value: string; sentAt: number; latencyMs: number } | null;
  /** The oldest probe sent after it that has not come out of every hop yet. */
  oldestPending: { value: string; sentAt: number } | null;
}

/**
 * How far behind the sink is, from the probes already sent (newest `window` of them), read at `now`
 * (epoch ms): the latency of the newest probe that has arrived everywhere, or, when an older probe is
 * still on its way, at least how long that one has been travelling. The second is what makes a
 * backlog visible before the probe comes out.
 */
export async function measureProbeLag(sink: PgConnection, pipeline: string, now: number, window = 20): Promise<ProbeLag> {
  return withClient(sink, async (client) => {
    const res = await query<{ value: string; sent_ms: number; arrived_ms: number | null; hops: number }>(
      client,
      'measure probe lag',
      `SELECT p.probe_value::text AS value, (extract(epoch FROM p.sent_at) * 1000)::float8 AS sent_ms,
              (SELECT (extract(epoch FROM max(first_arrival)) * 1000)::float8 FROM (
                 SELECT min(l.arrived_at) AS first_arrival FROM gridflow.probe_log l
                 WHERE l.pipeline = p.pipeline AND l.probe_value >= p.probe_value GROUP BY l.hop) h) AS arrived_ms,
              (SELECT count(DISTINCT l.hop)::int FROM gridflow.probe_log l
                 WHERE l.pipeline = p.pipeline AND l.probe_value >= p.probe_value) AS hops
       FROM (SELECT * FROM gridflow.probes WHERE pipeline = $1 ORDER BY sent_at DESC LIMIT $2) p
       ORDER BY p.sent_at`,
      [pipeline, window],
    );
    return judgeProbeLag(
      res.rows.map((r) => ({ value: r.value, sentAt: Math.round(r.sent_ms), arrivedAt: r.hops >= PROBE_HOPS.length && r.arrived_ms !== null ? Math.round(r.arrived_ms) : null })),
      now,
    );
  });
}

/** The pure part of measureProbeLag: probes oldest first, each with when it had come out of every hop. */
export function judgeProbeLag(probes: ReadonlyArray<{ value: string; sentAt: number; arrivedAt: number | null }>, now: number): ProbeLag {
  let newest = -1;
  for (let i = probes.length - 1; i >= 0; i--) {
    if (probes[i].arrivedAt !== null) {
      newest = i;
      break;
    }
  }
  const arrived = newest >= 0 ? probes[newest] : null;
  const pending = probes[newest + 1] ?? null;
  const newestArrived = arrived ? { value: arrived.value, sentAt: arrived.sentAt, latencyMs: Math.max(0, arrived.arrivedAt! - arrived.sentAt) } : null;
  const oldestPending = pending ? { value: pending.value, sentAt: pending.sentAt } : null;
  const candidates = [newestArrived?.latencyMs, oldestPending ? Math.max(0, now - oldestPending.sentAt) : undefined].filter((x): x is number => x !== undefined);
  return { lagMs: candidates.length ? Math.max(...candidates) : null, newestArrived, oldestPending };
}

/** Delete probes by reading id (never a reading of another equipment). */
export async function deleteProbes(source: PgConnection, schema: string, readingIds: readonly string[]): Promise<void> {
  if (readingIds.length === 0) return;
  await withClient(source, (client) =>
    query(client, 'delete probes', `DELETE FROM ${quoteIdent(schema)}.equipment_reading WHERE reading_id = ANY($1::bigint[]) AND equipment_id = $2`, [
      readingIds,
      PROBE_EQUIPMENT_ID,
    ]),
  );
}

/**
 * Delete this pipeline's recorded probes but the newest `keep` from the source (by primary key: no scan
 * of the readings) and their records, and arrivals logged more than an hour ago. Returns how many went.
 */
export async function cleanupProbes(source: PgConnection, sink: PgConnection, pipeline: string, schema: string, keep: number): Promise<number> {
  const old = await withClient(sink, async (client) =>
    (
      await query<{ reading_id: string; probe_value: string }>(
        client,
        'list old probes',
        `SELECT reading_id::text, probe_value::text FROM gridflow.probes WHERE pipeline = $1 ORDER BY sent_at DESC, reading_id DESC OFFSET $2`,
        [pipeline, keep],
      )
    ).rows,
  );
  await deleteProbes(
    source,
    schema,
    old.map((p) => p.reading_id),
  );
  await withClient(sink, async (client) => {
    if (old.length) {
      await query(client, 'forget old probes', 'DELETE FROM gridflow.probes WHERE pipeline = $1 AND reading_id = ANY($2::bigint[])', [pipeline, old.map((p) => p.reading_id)]);
    }
    // By age, not by probe: arrivals of probes someone else sent (a benchmark) stay readable meanwhile.
    await query(client, 'forget old probe arrivals', "DELETE FROM gridflow.probe_log WHERE pipeline = $1 AND arrived_at < now() - interval '1 hour'", [pipeline]);
  });
  return old.length;
}
