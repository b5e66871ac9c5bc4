package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AmqpQueuesTest {

  @Test
  void theDelayIsWrittenAsKombuWritesIt() {
    // kombu: '.'.join(list(f'{countdown:028b}')) + f'.{routing_key}'
    assertEquals(
        "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.1.celery",
        AmqpQueues.delayedRoutingKey(5, "celery"));
    assertEquals(
        "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.q",
        AmqpQueues.delayedRoutingKey(AmqpQueues.MAX_DELAY_SECONDS, "q"));
    assertThrows(IllegalArgumentException.class, () -> AmqpQueues.delayedRoutingKey(0, "celery"));
  }

  @Test
  void theTopologyIsKombus() {
    List<AmqpQueues.Step> steps = AmqpQueues.delayedDeliveryTopology("quorum");
    assertEquals(new AmqpQueues.ExchangeDeclare("celery_delayed_27"), steps.get(0));
    AmqpQueues.QueueDeclare top = (AmqpQueues.QueueDeclare) steps.get(1);
    assertEquals(
        Map.of(
            "x-queue-type",
            "quorum",
            "x-overflow",
            "reject-publish",
            "x-message-ttl",
            (1L << 27) * 1000,
            "x-dead-letter-exchange",
            "celery_delayed_26",
            "x-dead-letter-strategy",
            "at-least-once"),
        top.arguments());
    assertEquals(
        new AmqpQueues.QueueBind("celery_delayed_27", "celery_delayed_27", "1.#"), steps.get(2));
    // level 0: the 28th word decides; dead-letters into the delivery exchange
    assertTrue(
        steps.contains(
            new AmqpQueues.QueueBind(
                "celery_delayed_0", "celery_delayed_0", "*.".repeat(27) + "1.#")));
    assertTrue(
        steps.contains(
            new AmqpQueues.ExchangeBind("celery_delayed_26", "celery_delayed_27", "0.#")));
    assertTrue(
        steps.contains(
            new AmqpQueues.ExchangeBind(
                "celery_delayed_delivery", "celery_delayed_0", "*.".repeat(27) + "0.#")));
    AmqpQueues.QueueDeclare bottom =
        steps.stream()
            .filter(
                s -> s instanceof AmqpQueues.QueueDeclare q && q.name().equals("celery_delayed_0"))
            .map(s -> (AmqpQueues.QueueDeclare) s)
            .findFirst()
            .orElseThrow();
    assertEquals("celery_delayed_delivery", bottom.arguments().get("x-dead-letter-exchange"));
    assertEquals(1000L, bottom.arguments().get("x-message-ttl"));
    assertEquals(28 * 3 + 27 + 2, steps.size());
    assertFalse(
        AmqpQueues.delayedDeliveryTopology("classic").stream()
            .anyMatch(
                s ->
                    s instanceof AmqpQueues.QueueDeclare q
                        && q.arguments().containsKey("x-dead-letter-strategy")),
        "at-least-once dead-lettering is for quorum queues only");
  }

  @Test
  void aRefusedDeclarationTellsTheExistingType() {
    AmqpQueues.Mismatch m =
        AmqpQueues.mismatch(
            "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q1' in "
                + "vhost 'celerity-test': received none but current is the value 'quorum' of type 'longstr'");
    assertEquals("x-queue-type", m.argument());
    assertEquals("quorum", m.queueType());
    AmqpQueues.Mismatch back =
        AmqpQueues.mismatch(
            "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q1' in "
                + "vhost '/': received the value 'quorum' of type 'longstr' but current is none");
    assertEquals("classic", back.queueType());
    assertNull(AmqpQueues.mismatch("NOT_FOUND - no queue 'q1' in vhost '/'"));
  }

  @Test
  void quorumQueuesGetTheirTypeAndNoPriority() {
    assertEquals(
        Map.of("x-queue-type", "quorum", "x-delivery-limit", 3),
        AmqpQueues.taskQueueArguments("quorum", 10, Map.of("x-delivery-limit", 3)));
    assertEquals(
        Map.of("x-max-priority", 10), AmqpQueues.taskQueueArguments("classic", 10, Map.of()));
    assertEquals(
        new AmqpQueues.QueueBind("q", "celery_delayed_delivery", "#.q"),
        AmqpQueues.returnBinding("q", "q"));
  }
}
