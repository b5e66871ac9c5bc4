package io.celerity.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.WorkerOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueTopologyTest {

  @Test
  void delayedDeliveryIsForQuorumQueuesUnlessToldOtherwise() {
    QueueTopology auto = QueueTopology.DEFAULT;
    assertTrue(auto.delaysInBroker("quorum"));
    assertFalse(auto.delaysInBroker("classic"));
    QueueTopology always = new QueueTopology(null, true, null, "always", null, null);
    assertTrue(always.delaysInBroker("classic"));
    assertFalse(new QueueTopology(null, true, null, "off", null, null).delaysInBroker("quorum"));
  }

  @Test
  void settingsComeFromTheWorkerConfiguration() {
    WorkerOptions o =
        new WorkerOptions(
            new JsonObject()
                .put("task_default_queue_type", "Quorum")
                .put("queue_arguments", new JsonObject().put("x-delivery-limit", 3))
                .put("broker_failover_strategy", "shuffle"));
    QueueTopology t = o.getQueueTopology();
    assertEquals("quorum", t.queueType());
    assertEquals(Map.of("x-delivery-limit", 3), t.queueArguments());
    assertEquals("shuffle", t.failoverStrategy());
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> new WorkerOptions(new JsonObject().put("task_default_queue_type", "stream")));
    assertTrue(bad.getMessage().contains("task_default_queue_type"), bad.getMessage());
  }
}
