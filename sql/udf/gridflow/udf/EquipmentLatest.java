/*
 * gridflow warehouse function EQUIPMENT_LATEST: one equipment's attributes and its latest reading, from
 * the changelog of both, with state that does not grow with the number of readings.
 *
 * The dws job groups the union of the equipment changelog and the readings changelog by equipment_id
 * and aggregates each group with this function (sql/flink/dws.sql). A row whose reading_id is NULL is
 * the equipment row (its attributes; a retraction removes them), any other row is a reading. Doing the
 * "join" here, in an aggregate, lets the job run with mini-batch: Flink 1.20's mini-batch join
 * (MiniBatchStreamingJoinOperator) loses retractions, and its plain outer join counts an upsert
 * input's updates as extra matches (a deleted latest reading then leaves no row at all).
 *
 * The contract's latest reading is the existing reading with the greatest (measured_at, reading_id);
 * a deleted latest reading falls back to the previous one. Flink's retracting Top-N keeps every
 * reading in state and rewrites its sorted map on every update, so its cost per reading grows with
 * history. Fluss already stores every reading: this function keeps only the newest few per equipment
 * (LatestReadings) and, in the rare case that deletes or updates have emptied that list while readings
 * remain, asks Fluss for the equipment's readings with a prefix lookup on the very table whose
 * changelog it aggregates.
 *
 * Why that lookup is never older than the change being aggregated: Fluss flushes a primary-key table's
 * key-value store up to the new high watermark before it advances the watermark (Replica
 * #maybeIncrementLeaderHW), lookups read that store, and readers see the changelog only below the
 * watermark. A lookup into a table with another writer could be older: never point it elsewhere.
 *
 * Arguments: equipment_id, reading_id, measured_at, load_mw, temperature_c, equipment_name,
 * equipment_type, region, status, rated_capacity_mw, then the lookup target as constants (Fluss
 * bootstrap servers, database, table). The table must have primary key (equipment_id, reading_id),
 * bucket key equipment_id, and columns reading_id BIGINT, measured_at TIMESTAMP_LTZ(6),
 * load_mw DECIMAL(12, 3), temperature_c DECIMAL(6, 2).
 */
package gridflow.udf;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

@FunctionHint(
        input = {
            @DataTypeHint("STRING"),
            @DataTypeHint("BIGINT"),
            @DataTypeHint("TIMESTAMP_LTZ(6)"),
            @DataTypeHint("DECIMAL(12, 3)"),
            @DataTypeHint("DECIMAL(6, 2)"),
            @DataTypeHint("STRING"),
            @DataTypeHint("STRING"),
            @DataTypeHint("STRING"),
            @DataTypeHint("STRING"),
            @DataTypeHint("DECIMAL(12, 2)"),
            @DataTypeHint("STRING"),
            @DataTypeHint("STRING"),
            @DataTypeHint("STRING")
        },
        output =
                @DataTypeHint(
                        "ROW<equipment_name STRING, equipment_type STRING, region STRING, status STRING, rated_capacity_mw DECIMAL(12, 2), "
                                + "reading_id BIGINT, measured_at TIMESTAMP_LTZ(6), load_mw DECIMAL(12, 3), temperature_c DECIMAL(6, 2)>"))
public class EquipmentLatest extends AggregateFunction<Row, EquipmentLatest.Acc> {

    private static final long serialVersionUID = 1L;

    /** Per equipment: its attributes (while its row exists) and its newest readings. */
    public static class Acc {
        /** Equipment rows alive (0 or 1; a count, so that a retraction and its update can come in either order). */
        public long equipment;
        public String name;
        public String type;
        public String region;
        public String status;

        @DataTypeHint("DECIMAL(12, 2)")
        public BigDecimal capacity;

        /** Readings alive. */
        public long readings;
        /** LatestReadings' list, newest first, as bytes. */
        public byte[] top;

        public Acc() {
            this.top = new byte[0];
        }
    }

    private transient FlussReadingLookup lookup;
    private transient long lookups;

    @Override
    public Acc createAccumulator() {
        return new Acc();
    }

    public void accumulate(
            Acc acc,
            String equipmentId,
            Long readingId,
            Instant measuredAt,
            BigDecimal loadMw,
            BigDecimal temperatureC,
            String name,
            String type,
            String region,
            String status,
            BigDecimal capacity,
            String bootstrap,
            String database,
            String table) {
        if (readingId == null) {
            acc.equipment++;
            acc.name = name;
            acc.type = type;
            acc.region = region;
            acc.status = status;
            acc.capacity = capacity;
            return;
        }
        LatestReadings.State s = state(acc);
        if (LatestReadings.add(s, reading(readingId, measuredAt, loadMw, temperatureC), equipmentId, lookup(bootstrap, database, table))) lookups++;
        save(acc, s);
    }

    public void retract(
            Acc acc,
            String equipmentId,
            Long readingId,
            Instant measuredAt,
            BigDecimal loadMw,
            BigDecimal temperatureC,
            String name,
            String type,
            String region,
            String status,
            BigDecimal capacity,
            String bootstrap,
            String database,
            String table) {
        if (readingId == null) {
            acc.equipment--;
            if (acc.equipment <= 0) {
                acc.equipment = 0;
                acc.name = null;
                acc.type = null;
                acc.region = null;
                acc.status = null;
                acc.capacity = null;
            }
            return;
        }
        LatestReadings.State s = state(acc);
        if (LatestReadings.remove(s, readingId, equipmentId, lookup(bootstrap, database, table))) lookups++;
        save(acc, s);
    }

    public Row getValue(Acc acc) {
        long[] latest = LatestReadings.latest(state(acc));
        boolean present = acc.equipment > 0;
        return Row.of(
                present ? acc.name : null,
                present ? acc.type : null,
                present ? acc.region : null,
                present ? acc.status : null,
                present ? acc.capacity : null,
                latest == null ? null : latest[1],
                latest == null ? null : Instant.ofEpochSecond(Math.floorDiv(latest[0], 1_000_000L), Math.floorMod(latest[0], 1_000_000L) * 1000L),
                latest == null ? null : BigDecimal.valueOf(latest[2], 3),
                latest == null ? null : BigDecimal.valueOf(latest[3], 2));
    }

    @Override
    public void close() throws Exception {
        if (lookup != null) {
            lookup.close(lookups);
            lookup = null;
        }
    }

    @Override
    public boolean isDeterministic() {
        // A lookup sees the table as it is when asked: the result converges (see above), but two runs over
        // the same changes need not pass through the same intermediate values.
        return false;
    }

    // ------------------------------------------------------------------------------------------------

    private LatestReadings.Lookup lookup(String bootstrap, String database, String table) {
        // Connected on first use only: most tasks never need it.
        return equipmentId -> {
            if (lookup == null) lookup = new FlussReadingLookup(bootstrap, database, table);
            return lookup.readingsOf(equipmentId);
        };
    }

    static long[] reading(Long readingId, Instant measuredAt, BigDecimal loadMw, BigDecimal temperatureC) {
        if (measuredAt == null || loadMw == null || temperatureC == null) {
            throw new IllegalArgumentException(
                    "EQUIPMENT_LATEST: reading " + readingId + " has a NULL measured_at, load_mw or temperature_c");
        }
        return new long[] {
            Math.addExact(Math.multiplyExact(measuredAt.getEpochSecond(), 1_000_000L), measuredAt.getNano() / 1000L),
            readingId,
            loadMw.movePointRight(3).longValueExact(),
            temperatureC.movePointRight(2).longValueExact()
        };
    }

    private static LatestReadings.State state(Acc acc) {
        return new LatestReadings.State(acc.readings, decode(acc.top));
    }

    private static void save(Acc acc, LatestReadings.State s) {
        acc.readings = s.count;
        acc.top = encode(s.list);
    }

    static long[] decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) return new long[0];
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long[] out = new long[bytes.length / Long.BYTES];
        for (int i = 0; i < out.length; i++) out[i] = buffer.getLong();
        return out;
    }

    static byte[] encode(long[] list) {
        ByteBuffer buffer = ByteBuffer.allocate(list.length * Long.BYTES);
        for (long v : list) buffer.putLong(v);
        return buffer.array();
    }
}
