package io.celerity.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.config.WorkerOptions;
import io.celerity.examples.ExampleTasks;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.MessageDecoder;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The ETA timer: due order, revocation, connection loss, the prefetch cap, and requests that come
 * back whole.
 */
@ExtendWith(VertxExtension.class)
class EtaTimerTest {

  private final Strategy strategy;

  EtaTimerTest() {
    TaskRegistry registry = new TaskRegistry();
    new ExampleTasks().register(registry);
    strategy = new Strategy(new MessageDecoder(), registry, new WorkerOptions());
  }

  private Request request(String id, long generation) {
    Delivery f = DeliveryFixtures.amqp("add");
    Map<String, Object> headers = new HashMap<>(f.headers());
    headers.put("id", id);
    Delivery d =
        new Delivery(
            f.body(),
            f.contentType(),
            f.contentEncoding(),
            headers,
            id,
            f.replyTo(),
            f.priority(),
            f.exchange(),
            f.routingKey(),
            f.queue(),
            false,
            7L,
            generation);
    return ((Strategy.Run) strategy.decide(d)).request();
  }

  /** Whether each decode of a held request ran on an event loop. */
  private final List<Boolean> decodedOnLoop =
      java.util.Collections.synchronizedList(new ArrayList<>());

  private EtaTimer timer(Vertx vertx, Integer limit, List<Request> due) {
    return new EtaTimer(
        vertx,
        limit,
        due::add,
        d -> {
          decodedOnLoop.add(io.vertx.core.Context.isOnEventLoopThread());
          return strategy.decide(d) instanceof Strategy.Run r ? r.request() : null;
        },
        d -> {});
  }

  @Test
  void heldRequestsComeDueInEtaOrderAndWhole(Vertx vertx, VertxTestContext test) {
    List<Request> due = new ArrayList<>();
    EtaTimer t = timer(vertx, null, due);
    Instant now = Instant.now();
    vertx.runOnContext(
        v -> {
          t.hold(request("late", 1), now.plusMillis(300));
          t.hold(request("early", 1), now.plusMillis(100));
          t.hold(request("middle", 1), now.plusMillis(200));
          assertEquals(3, t.prefetchBonus());
        });
    vertx.setPeriodic(
        20,
        id -> {
          if (due.size() == 3) {
            vertx.cancelTimer(id);
            test.verify(
                () -> {
                  assertEquals(
                      List.of("early", "middle", "late"), due.stream().map(Request::id).toList());
                  Request r = due.get(0);
                  assertEquals("examples.add", r.message().task());
                  assertEquals(List.of(2, 2), r.message().args());
                  assertEquals(7L, r.delivery().deliveryTag());
                  assertEquals("early", r.delivery().correlationId());
                  assertEquals(0, t.size());
                });
            test.completeNow();
          }
        });
  }

  @Test
  void revokedAndLostRequestsLeaveAndTheCapHolds(Vertx vertx, VertxTestContext test) {
    List<Request> due = new ArrayList<>();
    EtaTimer t = timer(vertx, 2, due);
    vertx.runOnContext(
        v ->
            test.verify(
                () -> {
                  Instant later = Instant.now().plusSeconds(60);
                  t.hold(request("a", 1), later);
                  t.hold(request("b", 1), later);
                  t.hold(request("c", 2), later);
                  assertEquals(2, t.prefetchBonus(), "eta_task_limit caps the prefetch raise");
                  assertEquals(
                      List.of("b"), t.remove(Set.of("b")).stream().map(Request::id).toList());
                  assertEquals(
                      1, t.forgetGeneration(1), "the lost connection's request is dropped");
                  decodedOnLoop.clear();
                  t.scheduled()
                      .onComplete(
                          test.succeeding(
                              scheduled ->
                                  test.verify(
                                      () -> {
                                        assertEquals(
                                            List.of("c"),
                                            scheduled.stream().map(Request::id).toList());
                                        assertEquals(
                                            List.of(false),
                                            decodedOnLoop,
                                            "inspect scheduled decodes off the event loop");
                                        assertEquals(
                                            List.of("c"),
                                            t.takeAll().stream()
                                                .map(d -> d.headers().get("id"))
                                                .toList());
                                        assertEquals(0, t.size());
                                        test.completeNow();
                                      })));
                }));
  }
}
