// gridflow's local stack: Flink's own Prometheus reporter (flink-metrics-prometheus, the metric families
// and labels it exports unchanged), with its HTTP endpoint bound to one address. Flink's
// PrometheusReporterFactory binds every interface and has no option to choose one; the local stack listens
// on loopback only (docs/SECURITY.md, test/e2e/listeners.test.ts). Options, as for Flink's reporter:
//   metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.LoopbackPrometheusReporterFactory
//   metrics.reporter.prom.host: 127.0.0.1        (default 127.0.0.1)
//   metrics.reporter.prom.port: 9249             (a port or a range, e.g. 9250-9265: the first free one)
// In Flink's package because the registry the reporter fills is package-private there; compiled by
// `gridflow stack up` (src/stack/fetch.ts) against the pinned flink-metrics-prometheus jar, so a change
// there fails the build, not a running cluster.
package org.apache.flink.metrics.prometheus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Properties;

import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.NetUtils;

import io.prometheus.client.exporter.HTTPServer;

public class LoopbackPrometheusReporterFactory implements MetricReporterFactory {
    static final String ARG_HOST = "host";
    static final String ARG_PORT = "port";

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        MetricConfig config = (MetricConfig) properties;
        String host = config.getString(ARG_HOST, "127.0.0.1");
        String ports = config.getString(ARG_PORT, "9249");
        return new BoundReporter(host, ports);
    }

    /** Flink's reporter, serving the same registry, on host:port. */
    static final class BoundReporter extends AbstractPrometheusReporter {
        private final HTTPServer server;

        BoundReporter(String host, String ports) {
            HTTPServer started = null;
            Iterator<Integer> candidates = NetUtils.getPortRangeFromString(ports);
            while (started == null && candidates.hasNext()) {
                int port = candidates.next();
                try {
                    started = new HTTPServer(new InetSocketAddress(host, port), registry);
                    log.info("Started PrometheusReporter HTTP server on {}:{}.", host, port);
                } catch (IOException e) { // taken: try the next port of the range
                    log.debug("Could not start PrometheusReporter HTTP server on {}:{}.", host, port, e);
                }
            }
            if (started == null) {
                throw new RuntimeException("Could not start PrometheusReporter HTTP server on " + host + ", ports " + ports + ": every port is taken");
            }
            server = started;
        }

        @Override
        public void close() {
            server.stop();
            super.close();
        }
    }
}
