/*
 * gridflow function FLUSS_TABLES_READY(bootstrap, database, 'a,b,c'): '' when every bucket of those Fluss
 * tables has a leader that serves reads, else one sentence per table that has none.
 *
 * Why: Fluss 0.9.1's coordinator can miss a table's creation. CreateTable writes the table's znode
 * twice (empty, when its schema is registered; then the table itself), and the coordinator's
 * CuratorCache may deliver the first event with the final data already in it, which its
 * TableChangeWatcher ignores for table nodes. The table then exists but its buckets never get a leader,
 * and the first writer waits forever for an acknowledgement (its job never checkpoints again); the
 * next ALTER TABLE fails in the coordinator with a NullPointerException. Restarting the coordinator, or
 * dropping and creating the table again, heals it. The control plane runs this right after it created
 * tables (src/warehouse/deploy.ts) and recreates any that has no leader while it is still empty.
 *
 * Runs where Flink runs, so it reaches Fluss exactly as the jobs do. Not deterministic (it asks a
 * server), so the planner never folds it into a constant.
 */
package gridflow.udf;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.table.functions.ScalarFunction;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.batch.BatchScanner;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.TableBucket;
import org.apache.fluss.metadata.TableInfo;
import org.apache.fluss.metadata.TablePath;

public class FlussTablesReady extends ScalarFunction {
    private static final long serialVersionUID = 1L;
    /** A bucket gets its leader within moments of creation; allow for a busy coordinator. */
    private static final long PATIENCE_MS = 15_000;

    public String eval(String bootstrap, String database, String tables) {
        Configuration conf = new Configuration();
        conf.setString("bootstrap.servers", bootstrap);
        List<String> problems = new ArrayList<>();
        try (Connection connection = ConnectionFactory.createConnection(conf)) {
            for (String name : tables.split(",")) {
                String table = name.trim();
                if (table.isEmpty()) continue;
                String problem = check(connection, TablePath.of(database, table));
                if (problem != null) problems.add(table + ": " + problem);
            }
        } catch (Exception e) {
            problems.add("cannot connect to Fluss at " + bootstrap + ": " + e);
        }
        return String.join("; ", problems);
    }

    private static String check(Connection connection, TablePath path) {
        long deadline = System.currentTimeMillis() + PATIENCE_MS;
        String last = null;
        while (true) {
            try (Table table = connection.getTable(path)) {
                TableInfo info = table.getTableInfo();
                for (int bucket = 0; bucket < info.getNumBuckets(); bucket++) {
                    try (BatchScanner scanner = table.newScan().limit(1).createBatchScanner(new TableBucket(info.getTableId(), bucket))) {
                        scanner.pollBatch(Duration.ofSeconds(5));
                    }
                }
                return null;
            } catch (Exception e) {
                last = rootMessage(e);
            }
            if (System.currentTimeMillis() > deadline) return "no bucket leader serves it after " + (PATIENCE_MS / 1000) + " s (" + last + ")";
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}
