// Health probe for the Fluss cluster: asks the coordinator, over Fluss's own RPC, which servers are
// registered. Compiled once by `gridflow stack up` against the fluss-flink connector jar (which carries
// the Fluss client). Prints one line per server: "<COORDINATOR|TABLET_SERVER> <id> <host>:<port>".
// Exit 0 when the request succeeded, 2 when it failed (the message on stderr).
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.cluster.ServerNode;
import org.apache.fluss.config.Configuration;

public class FlussProbe {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: FlussProbe <bootstrap.servers>");
            System.exit(64);
        }
        Configuration conf = new Configuration();
        conf.setString("bootstrap.servers", args[0]);
        try (Connection connection = ConnectionFactory.createConnection(conf);
                Admin admin = connection.getAdmin()) {
            List<ServerNode> nodes = admin.getServerNodes().get(15, TimeUnit.SECONDS);
            for (ServerNode node : nodes) {
                System.out.println(node.serverType() + " " + node.id() + " " + node.host() + ":" + node.port());
            }
            System.exit(0);
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null) root = root.getCause();
            System.err.println(root.getClass().getSimpleName() + ": " + root.getMessage());
            System.exit(2);
        }
    }
}
