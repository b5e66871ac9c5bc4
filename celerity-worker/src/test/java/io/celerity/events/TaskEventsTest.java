package io.celerity.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TaskEventsTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  void offMeansNothingIsBufferedAndOnBatchesIntoTaskMulti() throws Exception {
    TaskEvents events = TaskEvents.of(vertx).hostname("w@h");
    assertTrue(events == TaskEvents.of(vertx), "one instance per Vert.x");
    List<OutgoingMessage> out = new java.util.concurrent.CopyOnWriteArrayList<>();
    events.taskRejected("a", false); // off: dropped, never reaches the publisher set below

    events.enabled(true);
    for (int i = 0; i < TaskEvents.MAX_BATCH + 1; i++) {
      events.taskRejected("id" + i, false);
    }
    // no publisher yet: buffered until one is set, then flushed on its context in one go
    events.publisher(vertx.getOrCreateContext(), out::add);
    io.celerity.support.Polling.until(() -> out.size() == 2, 5_000);
    assertEquals("task.multi", out.get(0).routingKey());
    assertEquals(TaskEvents.MAX_BATCH, ((List<?>) Json.parse(out.get(0).body())).size());
    assertEquals(
        "task.rejected", out.get(1).routingKey(), "a single event goes under its own routing key");
    @SuppressWarnings("unchecked")
    Map<String, Object> e = (Map<String, Object>) Json.parse(out.get(1).body());
    assertEquals("task-rejected", e.get("type"));
    assertEquals(false, e.get("requeue"));
    assertEquals("w@h", e.get("hostname"));
    assertEquals(Map.of("hostname", "w@h"), out.get(1).headers());
    assertTrue(events.enabled(false), "enabled(false) returns the previous value");
    assertFalse(events.enabled());
  }
}
