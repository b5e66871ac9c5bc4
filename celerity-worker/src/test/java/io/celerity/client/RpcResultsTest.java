package io.celerity.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.types.Delivery;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * rpc:// replies: matched by correlation id, kept for a later get, intermediate states not final.
 */
class RpcResultsTest {

  private final RpcResults results = new RpcResults(null, "amqp://localhost", "oid-1", 86_400);

  private static Delivery reply(String correlationId, String status, Object result) {
    String body =
        "{\"task_id\": \""
            + correlationId
            + "\", \"status\": \""
            + status
            + "\", \"result\": "
            + io.celerity.protocol.Json.encodeToString(result)
            + ", \"traceback\": null, \"children\": []}";
    return new Delivery(
        body.getBytes(StandardCharsets.UTF_8),
        "application/json",
        "utf-8",
        Map.of(),
        correlationId,
        null,
        0,
        "",
        "oid-1",
        "oid-1",
        false,
        null,
        0);
  }

  @Test
  void aWaiterGetsTheReadyReplyOfItsTaskOnly() {
    Promise<Map<String, Object>> p = Promise.promise();
    results.await("t1", p);
    results.onReply(reply("t2", "SUCCESS", 2));
    results.onReply(reply("t1", "STARTED", null));
    assertFalse(p.future().isComplete(), "STARTED is not ready");
    assertEquals("STARTED", results.current("t1").result().get("status"));
    results.onReply(reply("t1", "SUCCESS", 4));
    assertEquals(4, p.future().result().get("result"));
  }

  @Test
  void aReplyThatCameFirstIsFoundByALaterGet() {
    results.onReply(
        reply(
            "t3",
            "FAILURE",
            Map.of("exc_type", "ValueError", "exc_message", java.util.List.of("x"))));
    Promise<Map<String, Object>> p = Promise.promise();
    results.await("t3", p);
    assertTrue(p.future().succeeded());
    assertEquals("FAILURE", p.future().result().get("status"));
  }

  @Test
  void aForgottenWaiterIsNotCompleted() {
    Promise<Map<String, Object>> p = Promise.promise();
    results.await("t4", p);
    results.forget("t4", p);
    results.onReply(reply("t4", "SUCCESS", 1));
    assertFalse(p.future().isComplete());
  }

  @Test
  void onlyTheLatestStatesOfABoundedNumberOfTasksAreKept() {
    for (int i = 0; i < RpcResults.KEPT_STATES + 10; i++) {
      results.onReply(reply("k" + i, "SUCCESS", i));
    }
    assertNull(results.current("k0").result(), "the oldest were dropped");
    assertEquals(
        RpcResults.KEPT_STATES + 9,
        results.current("k" + (RpcResults.KEPT_STATES + 9)).result().get("result"));
  }

  @Test
  void aReplyThatIsNotJsonIsIgnored() {
    Delivery bad =
        new Delivery(
            "nope".getBytes(StandardCharsets.UTF_8),
            "application/json",
            "utf-8",
            Map.of(),
            "t5",
            null,
            0,
            "",
            "oid-1",
            "oid-1",
            false,
            null,
            0);
    results.onReply(bad);
    assertNull(results.current("t5").result());
  }
}
