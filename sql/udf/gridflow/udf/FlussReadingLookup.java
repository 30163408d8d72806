/*
 * Prefix lookup of one equipment's readings in a Fluss primary-key table (equipment_id, reading_id)
 * bucketed by equipment_id: the slow path of EQUIPMENT_LATEST, taken when deletes or updates have
 * emptied the few readings it keeps. One blocking lookup at a time.
 */
package gridflow.udf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.lookup.LookupResult;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.RowType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class FlussReadingLookup implements LatestReadings.Lookup {
    private static final Logger LOG = LoggerFactory.getLogger(FlussReadingLookup.class);
    private static final long TIMEOUT_SECONDS = 60;
    private static final String[] COLUMNS = {"measured_at", "reading_id", "load_mw", "temperature_c"};

    private final String where;
    private final Connection connection;
    private final Lookuper lookuper;
    private final int[] columns = new int[COLUMNS.length];

    FlussReadingLookup(String bootstrap, String database, String table) {
        this.where = "Fluss table " + database + "." + table + " at " + bootstrap;
        Configuration conf = new Configuration();
        conf.setString("bootstrap.servers", bootstrap);
        // One blocking lookup at a time: do not wait for a batch to fill (the default waits 100 ms).
        conf.setString("client.lookup.batch-timeout", "1ms");
        // A Fluss that stays away fails the lookup, and so the task (Flink restarts it), instead of hanging it.
        conf.setString("client.lookup.max-retries", "10");
        try {
            connection = ConnectionFactory.createConnection(conf);
            Table t = connection.getTable(TablePath.of(database, table));
            RowType rowType = t.getTableInfo().getRowType();
            for (int i = 0; i < COLUMNS.length; i++) {
                columns[i] = rowType.getFieldIndex(COLUMNS[i]);
                if (columns[i] < 0) throw new IllegalStateException(where + " has no column " + COLUMNS[i]);
            }
            lookuper = t.newLookup().lookupBy("equipment_id").createLookuper();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("EQUIPMENT_LATEST: cannot open " + where + ": " + e, e);
        }
    }

    @Override
    public List<long[]> readingsOf(String equipmentId) {
        try {
            LookupResult result =
                    lookuper.lookup(GenericRow.of(BinaryString.fromString(equipmentId))).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<long[]> readings = new ArrayList<>();
            for (InternalRow row : result.getRowList()) {
                readings.add(
                        new long[] {
                            row.getTimestampLtz(columns[0], 6).toEpochMicros(),
                            row.getLong(columns[1]),
                            row.getDecimal(columns[2], 12, 3).toUnscaledLong(),
                            row.getDecimal(columns[3], 6, 2).toUnscaledLong()
                        });
            }
            return readings;
        } catch (Exception e) {
            // Failing the task is right: Flink restarts it from its last checkpoint and the lookup is asked
            // again; a latest reading that is wrong would never be corrected.
            throw new IllegalStateException("EQUIPMENT_LATEST: prefix lookup of equipment " + equipmentId + " in " + where + " failed: " + e, e);
        }
    }

    void close(long lookups) throws Exception {
        LOG.info("EQUIPMENT_LATEST: {} prefix lookup(s) in {} by this task", lookups, where);
        connection.close();
    }
}
