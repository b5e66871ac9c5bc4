package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.celerity.support.Polling;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Tracing and task-aware logs against a real worker, driven by the real Python client. */
class ObservabilityTest extends AmqpTestBase {

  private static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
  private static final String CLIENT_SPAN = "b7ad6b7169203331";
  private static final String TRACEPARENT = "00-" + TRACE + "-" + CLIENT_SPAN + "-01";

  @Override
  protected String queuePrefix() {
    return "obs";
  }

  /**
   * A task's span is the child of the traceparent its message carries (as Celery's OpenTelemetry
   * instrumentation sends it), and the messages the worker publishes for it (chain steps, chord
   * body, retries) carry the task's context: one trace, each step the child of the one before.
   */
  @Test
  void traceContextFlowsThroughChainsChordsAndRetries() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    GlobalOpenTelemetry.set(
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build());
    // the SDK's classes load here, not on a worker's event loop at the first span's end
    GlobalOpenTelemetry.getTracer("warm-up").spanBuilder("warm-up").startSpan().end();
    exporter.reset();
    try {
      // chain steps and chord bodies go to the worker's default queue: the test's own
      startWorker(
          new JsonObject().put("app", TestTasks.class.getName()).put("task_default_queue", queue));
      Map<String, Object> canvas =
          new CanvasClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue).run("traced", TRACEPARENT);
      assertEquals(Map.of("ok", 60), canvas.get("chain"));
      assertEquals(Map.of("ok", 6), canvas.get("chord"));
      Map<String, Object> retrying =
          new HashMap<>(CeleryClient.call("tests.always_retry", List.of(), Map.of()));
      retrying.put("options", Map.of("headers", Map.of("traceparent", TRACEPARENT)));
      client.call(List.of(retrying));

      Polling.until(
          () ->
              runs(exporter, "run/tests.always_retry").size() == 3
                  && runs(exporter, "run/examples.xsum").size() == 1
                  && runs(exporter, "run/examples.mul").size() == 1,
          30_000);
      List<SpanData> all = exporter.getFinishedSpanItems();
      assertTrue(all.stream().allMatch(s -> s.getTraceId().equals(TRACE)), "one trace: " + all);

      // chain: add(1, 2) <- client, add(3) <- add(1, 2), mul(10) <- add(3)
      SpanData mul = runs(exporter, "run/examples.mul").get(0);
      SpanData add3 = byId(all, mul.getParentSpanId());
      assertEquals("run/examples.add", add3.getName());
      SpanData add12 = byId(all, add3.getParentSpanId());
      assertEquals("run/examples.add", add12.getName());
      assertEquals(CLIENT_SPAN, add12.getParentSpanId());
      // chord: the body is published by the worker for the header member that completed it
      SpanData xsum = runs(exporter, "run/examples.xsum").get(0);
      assertEquals("run/examples.add", byId(all, xsum.getParentSpanId()).getName());
      // retries: each run the child of the run that retried
      List<SpanData> retries = runs(exporter, "run/tests.always_retry");
      retries.sort(Comparator.comparingLong(SpanData::getStartEpochNanos));
      assertEquals(CLIENT_SPAN, retries.get(0).getParentSpanId());
      assertEquals(retries.get(0).getSpanId(), retries.get(1).getParentSpanId());
      assertEquals(retries.get(1).getSpanId(), retries.get(2).getParentSpanId());
      assertEquals(
          "RETRY",
          retries
              .get(0)
              .getAttributes()
              .get(io.opentelemetry.api.common.AttributeKey.stringKey("celery.state")));
      assertEquals(
          "FAILURE",
          retries
              .get(2)
              .getAttributes()
              .get(io.opentelemetry.api.common.AttributeKey.stringKey("celery.state")));
    } finally {
      GlobalOpenTelemetry.resetForTest();
    }
  }

  private static List<SpanData> runs(InMemorySpanExporter exporter, String name) {
    return new java.util.ArrayList<>(
        exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList());
  }

  private static SpanData byId(List<SpanData> spans, String id) {
    return spans.stream()
        .filter(s -> s.getSpanId().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span " + id + " in " + spans));
  }

  /** Thread pool: a line the task body logs carries the task's id and name in the MDC. */
  @Test
  void linesLoggedByATaskBodyCarryItsIdAndNameInTheMdc() throws Exception {
    Logger taskLogger = (Logger) LoggerFactory.getLogger("tests.task");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    taskLogger.addAppender(lines);
    try {
      startWorker(new JsonObject().put("app", TestTasks.class.getName()));
      String id =
          (String)
              client
                  .call(List.of(CeleryClient.call("tests.log_line", List.of("hello"), Map.of())))
                  .get(0)
                  .get("id");
      ILoggingEvent line =
          lines.list.stream()
              .filter(e -> e.getFormattedMessage().equals("body says hello"))
              .findFirst()
              .orElseThrow();
      assertEquals(Map.of("task_id", id, "task_name", "tests.log_line"), line.getMDCPropertyMap());
    } finally {
      taskLogger.detachAppender(lines);
    }
  }

  /**
   * Process pool, JSON log format from the config file: the worker's own lines and the line the
   * child's task body logs are JSON objects with the task in their MDC.
   */
  @Test
  void processPoolChildrenLogJsonWithTheTaskInTheMdc() throws Exception {
    File conf = File.createTempFile("worker", ".json");
    Files.writeString(conf.toPath(), new JsonObject().put("log_format", "json").encode());
    String node = "json-" + queue + "@localhost";
    try (WorkerProcess w =
        WorkerProcess.start(
            "-b",
            Brokers.AMQP_URL,
            "--result-backend",
            Brokers.REDIS_URL,
            "-Q",
            queue,
            "-c",
            "1",
            "-P",
            "process",
            "--http-port",
            "0",
            "-A",
            TestTasks.class.getName(),
            "-n",
            node,
            "--config",
            conf.getPath())) {
      w.waitForLog(node + " ready.", 60_000);
      String id =
          (String)
              client
                  .call(
                      List.of(
                          CeleryClient.call("tests.log_line", List.of("from a child"), Map.of())))
                  .get(0)
                  .get("id");
      w.waitForLog("body says from a child", 30_000);
      JsonObject body = jsonLine(w.log(), "body says from a child");
      assertEquals("tests.task", body.getString("loggerName"));
      assertEquals(
          new JsonObject().put("task_id", id).put("task_name", "tests.log_line"),
          body.getJsonObject("mdc"));
      JsonObject received = jsonLine(w.log(), "Task tests.log_line[" + id + "] received");
      assertEquals(id, received.getJsonObject("mdc").getString("task_id"));
    } finally {
      conf.delete();
    }
  }

  private static JsonObject jsonLine(String log, String message) {
    return log.lines()
        .filter(l -> l.startsWith("{") && l.contains(message))
        .map(JsonObject::new)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no JSON line with '" + message + "' in:\n" + log));
  }
}
