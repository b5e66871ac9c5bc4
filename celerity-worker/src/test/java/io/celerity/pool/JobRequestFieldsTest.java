package io.celerity.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.protocol.TaskMessage;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskOptions;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a Java task sees of {@code self.request} through its TaskContext (the pool's Job). */
class JobRequestFieldsTest {

  /**
   * Celery's autoretry re-raises Ignore: a replace is never turned into a retry, even with
   * autoretry_for=Exception.
   */
  @Test
  void replaceIsNotAutoretried() {
    Map<String, Object> headers = new HashMap<>(Map.of("id", "t2", "task", "p.r"));
    TaskMessage m =
        TaskMessage.builder("t2", "p.r").headers(headers).correlationId("t2").priority(0).build();
    TaskOptions o =
        TaskOptions.DEFAULTS.withRetries(3, 0).withAutoretry(List.of(Exception.class), 0, 0, false);
    TaskDefinition def =
        new TaskDefinition(
            "p.r",
            o,
            ctx -> {
              throw ctx.replace(io.celerity.canvas.Signature.of("p.other", 1));
            });
    Delivery d =
        new Delivery(
            new byte[0],
            "application/json",
            "utf-8",
            headers,
            "t2",
            null,
            0,
            "",
            "q",
            "q",
            false,
            1L,
            0);
    Request r = Request.builder(m, d, def, "w1@h").build();
    Bodies.Ended ended = Bodies.run(def.function(), new Job(r), o);
    assertNull(ended.retry(), "not retried");
    assertEquals("Ignore", ended.error().type());
    assertEquals("p.other", io.celerity.canvas.CanvasDuties.replacement(ended.error()).task());
    assertTrue(
        io.celerity.canvas.CanvasDuties.isReplace(ended.error()), "no task-failed event for it");
  }

  @Test
  void requestFieldsComeFromTheMessageAndItsDelivery() {
    Map<String, Object> headers = new HashMap<>();
    headers.put("id", "t1");
    headers.put("task", "p.t");
    headers.put("origin", "gen42@client");
    headers.put("timelimit", Arrays.asList(10, null));
    headers.put("group", "g1");
    headers.put("group_index", 3);
    headers.put("root_id", "r1");
    headers.put("parent_id", "p1");
    headers.put("retries", 2);
    headers.put("eta", "2026-11-30T20:00:00+00:00");
    headers.put("expires", null);
    Map<String, Object> cb =
        Map.of("task", "p.cb", "args", List.of(), "kwargs", Map.of(), "options", Map.of());
    Map<String, Object> embed = new LinkedHashMap<>();
    embed.put("callbacks", List.of(cb));
    embed.put("errbacks", null);
    embed.put("chain", List.of(cb));
    embed.put("chord", cb);
    TaskMessage m =
        TaskMessage.builder("t1", "p.t")
            .args(List.of(1))
            .embed(embed)
            .headers(headers)
            .retries(2)
            .timeLimits(10.0, null)
            .correlationId("corr-1")
            .replyTo("reply-1")
            .priority(5)
            .build();
    Delivery d =
        new Delivery(
            new byte[0],
            "application/json",
            "utf-8",
            headers,
            "corr-1",
            "reply-1",
            5,
            "ex",
            "rk",
            "q",
            true,
            1L,
            0);
    Request r =
        Request.builder(m, d, new TaskDefinition("p.t", TaskOptions.DEFAULTS, ctx -> null), "w1@h")
            .receivedNanos(0)
            .build();
    Job job = new Job(r);

    assertEquals(
        Map.of("exchange", "ex", "routing_key", "rk", "priority", 5, "redelivered", true),
        job.deliveryInfo());
    assertEquals("reply-1", job.replyTo());
    assertEquals("corr-1", job.correlationId());
    assertEquals("reply-1", job.properties().get("reply_to"));
    assertEquals("application/json", job.properties().get("content_type"));
    assertEquals("w1@h", job.hostname());
    assertEquals("gen42@client", job.origin());
    assertEquals(Arrays.asList(10, null), job.timelimit());
    assertEquals(List.of(cb), job.callbacks());
    assertNull(job.errbacks());
    assertEquals(List.of(cb), job.chain());
    assertEquals(cb, job.chord());
    assertEquals("g1", job.group());
    assertEquals(3, job.groupIndex());
    assertEquals("r1", job.rootId());
    assertEquals("p1", job.parentId());
    assertEquals(2, job.retries());
    assertEquals("2026-11-30T20:00:00+00:00", job.eta());
    assertNull(job.expires());
    assertFalse(job.isEager());
  }
}
