package io.celerity.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.Addresses;
import io.celerity.LocalCodec;
import io.celerity.canvas.Canvas;
import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.task.Retry;
import io.celerity.task.TaskContext;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a running task sends with {@code ctx.send}/{@code ctx.applyAsync}: Celery's parent and root
 * ids, routing, failures.
 */
class SubtaskSenderTest {

  private Vertx vertx;
  private final List<Launch> launched = new CopyOnWriteArrayList<>();
  private volatile boolean brokerDown;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    LocalCodec.register(vertx.eventBus(), Launch.class);
    vertx
        .eventBus()
        .<Launch>consumer(
            Addresses.RESULT_LAUNCH,
            m -> {
              if (brokerDown) {
                m.fail(500, "not connected to the broker");
                return;
              }
              launched.add(m.body());
              m.reply(null);
            });
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private TaskContext running(String id, String rootId) {
    return new TaskContext() {
      public String id() {
        return id;
      }

      public String taskName() {
        return "tests.parent";
      }

      public int retries() {
        return 0;
      }

      public List<Object> args() {
        return List.of();
      }

      public Map<String, Object> kwargs() {
        return Map.of();
      }

      public String rootId() {
        return rootId;
      }

      public String parentId() {
        return null;
      }

      public String group() {
        return null;
      }

      public String hostname() {
        return "celery@node1";
      }

      public Map<String, Object> headers() {
        return Map.of();
      }

      public boolean softTimeLimitExceeded() {
        return false;
      }

      public Retry retry(
          Throwable exc,
          Double countdown,
          Integer maxRetries,
          List<Object> args,
          Map<String, Object> kwargs) {
        throw new UnsupportedOperationException();
      }

      @Override
      public String applyAsync(Signature sig, Map<String, Object> options) {
        return sender.apply(this, sig, options);
      }
    };
  }

  private SubtaskSender sender;

  @Test
  void aSubtaskIsAChildOfTheRunningTaskUnderItsRoot() {
    sender = new SubtaskSender(vertx, "celery");
    TaskContext ctx = running("parent-1", "root-0");
    String id =
        ctx.send("examples.add", List.of(1, 2), Map.of(), Map.of("countdown", 5, "queue", "math"));
    assertEquals(1, launched.size());
    OutgoingMessage m = launched.get(0).messages().get(0);
    assertEquals(id, m.headers().get("id"));
    assertEquals("parent-1", m.headers().get("parent_id"));
    assertEquals("root-0", m.headers().get("root_id"));
    assertEquals("math", m.routingKey());
    assertTrue(m.headers().get("eta") != null, "countdown became an eta");
    assertTrue(
        m.headers().get("origin").toString().matches("gen\\d+@node1"), m.headers().toString());
  }

  @Test
  void aLinkGivenAsASignatureIsEmbeddedAsCelerysDict() throws Exception {
    sender = new SubtaskSender(vertx, "celery");
    running("p", "r")
        .applyAsync(
            Signature.of("examples.add", 1, 2), Map.of("link", Signature.of("examples.mul", 10)));
    Object body = io.celerity.protocol.Json.parse(launched.get(0).messages().get(0).body());
    Object callbacks = ((Map<?, ?>) ((List<?>) body).get(2)).get("callbacks");
    assertEquals(List.of(Signature.of("examples.mul", 10).toMap()), callbacks);
  }

  @Test
  void aTaskWithoutRootIsTheRootOfItsSubtasks() {
    sender = new SubtaskSender(vertx, "celery");
    running("p", null).delay(Signature.of("examples.noop"));
    OutgoingMessage m = launched.get(0).messages().get(0);
    assertEquals("p", m.headers().get("root_id"));
    assertEquals("celery", m.routingKey(), "task_default_queue");
  }

  @Test
  void everyMessageOfACanvasHasTheTaskAsParentAndChordSizesGoAlong() {
    sender = new SubtaskSender(vertx, "celery");
    String id =
        running("p", "r")
            .delay(Canvas.chord(List.of(Signature.of("a"), Signature.of("b")), Signature.of("c")));
    Launch l = launched.get(0);
    assertEquals(2, l.messages().size());
    l.messages()
        .forEach(
            m -> {
              assertEquals("p", m.headers().get("parent_id"));
              assertEquals("r", m.headers().get("root_id"));
            });
    assertEquals(List.of(2), List.copyOf(l.chordSizes().values()));
    assertEquals(id, l.id(), "the chord body's id");
  }

  @Test
  void aBrokerThatDoesNotTakeItFailsTheTask() {
    sender = new SubtaskSender(vertx, "celery");
    brokerDown = true;
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> running("p", "r").delay(Signature.of("x")));
    assertTrue(e.getMessage().contains("not connected"), e.getMessage());
  }

  @Test
  void contextsWithoutASenderRefuse() {
    TaskContext plain = new Job(null);
    assertThrows(UnsupportedOperationException.class, () -> plain.delay(Signature.of("x")));
  }
}
