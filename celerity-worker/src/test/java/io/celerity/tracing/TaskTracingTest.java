package io.celerity.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.TaskMessages;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.TaskOutcome;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TaskTracingTest {

  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_SPAN = "00f067aa0ba902b7";

  @AfterEach
  void reset() {
    GlobalOpenTelemetry.resetForTest();
    TaskTracing.clear();
  }

  private static InMemorySpanExporter installSdk() {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build();
    GlobalOpenTelemetry.set(sdk);
    return exporter;
  }

  @SuppressWarnings("unchecked")
  private static TaskMessage message(OutgoingMessage m) throws Exception {
    List<Object> body = (List<Object>) Json.parse(m.body());
    Map<String, Object> h = m.headers();
    return new TaskMessage(
        (String) h.get("id"),
        (String) h.get("task"),
        (List<Object>) body.get(0),
        (Map<String, Object>) body.get(1),
        (Map<String, Object>) body.get(2),
        h,
        null,
        null,
        0,
        null,
        null,
        false,
        (String) m.properties().get("correlation_id"),
        (String) m.properties().get("reply_to"),
        0);
  }

  private static TaskMessage incoming(String traceparent) throws Exception {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("queue", "q");
    if (traceparent != null) {
      options.put("headers", Map.of("traceparent", traceparent));
    }
    return message(
        TaskMessages.fromOptions(
            "tasks.add", "task-1", List.of(1, 2), Map.of(), options, null, null, "c", "q"));
  }

  private static OutgoingMessage callbackOf(String parentId) {
    return TaskMessages.fromOptions(
        "tasks.mul",
        "cb-1",
        List.of(3),
        Map.of(),
        Map.of("queue", "q"),
        parentId,
        parentId,
        "w",
        "q");
  }

  @Test
  void offWithoutAnSdkAndMessagesGoOutUntouched() throws Exception {
    assertNull(TaskTracing.start(incoming("00-" + TRACE + "-" + CLIENT_SPAN + "-01"), "w@h"));
    OutgoingMessage cb = callbackOf("task-1");
    assertSame(cb, TaskTracing.propagate(cb));
    GlobalOpenTelemetry.set(
        OpenTelemetrySdk.builder().build()); // a user may still install one afterwards
  }

  @Test
  void theTaskSpanIsAChildOfTheIncomingContextAndWhatItPublishesCarriesIt() throws Exception {
    InMemorySpanExporter exporter = installSdk();
    TaskMessage m = incoming("00-" + TRACE + "-" + CLIENT_SPAN + "-01");
    Span span = TaskTracing.start(m, "w@h");
    String spanId = span.getSpanContext().getSpanId();

    OutgoingMessage callback = TaskTracing.propagate(callbackOf("task-1"));
    assertEquals("00-" + TRACE + "-" + spanId + "-01", callback.headers().get("traceparent"));
    OutgoingMessage retry =
        TaskTracing.propagate(TaskMessages.retryOf(m, "", "q", Instant.now(), null, null, "w"));
    assertEquals(
        "00-" + TRACE + "-" + spanId + "-01",
        retry.headers().get("traceparent"),
        "a retry carries it too");
    OutgoingMessage unrelated = callbackOf("someone-else");
    assertSame(unrelated, TaskTracing.propagate(unrelated));

    TaskTracing.end(
        span,
        new TaskOutcome(
            null,
            m,
            "FAILURE",
            null,
            ExceptionInfo.of(ExceptionInfo.BUILTINS, "ValueError", "boom"),
            0.1,
            true,
            null));
    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertEquals("run/tasks.add", data.getName());
    assertEquals(SpanKind.CONSUMER, data.getKind());
    assertEquals(TRACE, data.getTraceId());
    assertEquals(CLIENT_SPAN, data.getParentSpanId());
    assertEquals("run", data.getAttributes().get(TaskTracing.ACTION));
    assertEquals("tasks.add", data.getAttributes().get(TaskTracing.TASK_NAME));
    assertEquals("task-1", data.getAttributes().get(TaskTracing.MESSAGE_ID));
    assertEquals("FAILURE", data.getAttributes().get(TaskTracing.STATE));
    assertEquals(StatusCode.ERROR, data.getStatus().getStatusCode());
    assertEquals("exception", data.getEvents().get(0).getName());
  }

  @Test
  void withoutIncomingContextTheTaskStartsATrace() throws Exception {
    InMemorySpanExporter exporter = installSdk();
    Span span = TaskTracing.start(incoming(null), "w@h");
    TaskTracing.end(
        span, new TaskOutcome(null, incoming(null), "SUCCESS", 3, null, 0.1, true, null));
    SpanData data = exporter.getFinishedSpanItems().get(0);
    assertEquals(io.opentelemetry.api.trace.SpanId.getInvalid(), data.getParentSpanId());
    assertEquals(
        data.getTraceId(),
        ((String) TaskTracing.propagate(callbackOf("task-1")).headers().get("traceparent"))
            .split("-")[1]);
  }
}
