package io.celerity.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * /metrics as the CLI sets it up: JVM and process meters, Vert.x's meters, and no duplicate-gauge
 * warning.
 */
class JvmAndVertxMetersTest {

  @Test
  void scrapeCarriesJvmProcessAndVertxMetersWithoutRegistrationWarnings() throws Exception {
    Logger micrometer =
        (Logger) LoggerFactory.getLogger(VertxGaugeWarningFilter.MICROMETER_REGISTRY_LOGGER);
    ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    warnings.start();
    micrometer.addAppender(warnings);
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setMetricsOptions(WorkerMetrics.vertxMetricsOptions()));
    try {
      WorkerMetrics metrics = WorkerMetrics.of(vertx);
      HttpServer server =
          vertx
              .createHttpServer()
              .requestHandler(r -> r.response().end("ok"))
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      // separate connections: vertx-micrometer registers its connection gauges again for each
      var client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
      for (int i = 0; i < 3; i++) {
        client
            .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
            .compose(req -> req.send())
            .compose(resp -> resp.body())
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
      }
      String scrape = metrics.scrape();
      for (String meter :
          new String[] {
            "jvm_memory_used_bytes",
            "jvm_gc_memory_allocated_bytes_total",
            "jvm_threads_live_threads",
            "jvm_classes_loaded_classes",
            "process_cpu_usage",
            "system_cpu_count",
            "process_files_open_files",
            "process_uptime_seconds",
            "jvm_info",
            "vertx_http_server_active_connections",
            "vertx_http_server_requests_total"
          }) {
        assertTrue(scrape.contains(meter), meter + " in /metrics");
      }
      assertEquals(
          0,
          warnings.list.stream().filter(e -> e.getLevel() == Level.WARN).count(),
          () -> "registration warnings: " + warnings.list);
      WorkerMetrics.bindJvmMeters(
          metrics.registry()); // a second worker on the same registry binds nothing again
      assertEquals(1, metrics.registry().find("jvm.threads.live").meters().size());
    } finally {
      micrometer.detachAppender(warnings);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void filterDropsTheWarningForVertxGaugesOnly() {
    VertxGaugeWarningFilter filter = new VertxGaugeWarningFilter();
    Logger micrometer =
        (Logger) LoggerFactory.getLogger(VertxGaugeWarningFilter.MICROMETER_REGISTRY_LOGGER);
    String vertx =
        "This Gauge has been already registered (MeterId{name='vertx.http.server.active.connections', tags=[]}), "
            + "the registration will be ignored.";
    String ours =
        "This Gauge has been already registered (MeterId{name='celerity.pool.busy', tags=[]}), "
            + "the registration will be ignored.";
    assertEquals(FilterReply.DENY, filter.decide(null, micrometer, Level.WARN, vertx, null, null));
    assertEquals(
        FilterReply.NEUTRAL, filter.decide(null, micrometer, Level.WARN, ours, null, null));
  }
}
