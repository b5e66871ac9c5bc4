package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.client.SendOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The same send_task from Celery 5.2.6's Python client and from ours, read back from RabbitMQ side
 * by side: the same headers, the same properties, the same body bytes, once ids, times and the
 * origin are masked.
 */
class ClientWireTest {

  private static String mask(String text) {
    return text.replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>")
        .replaceAll("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00", "<time>")
        .replaceAll("gen\\d+@[\\w.-]+", "<origin>");
  }

  @Test
  void celerysClientAndOursPublishTheSameMessage() throws Exception {
    String queue = Brokers.uniqueQueue("client-wire");
    try (Amqp amqp = new Amqp()) {
      // Celery's own client, as application code calls it (args a tuple)
      Process py =
          new ProcessBuilder(
                  CeleryClient.PYTHON,
                  "-c",
                  String.join(
                      "\n",
                      "import sys",
                      "from celery import Celery",
                      "app = Celery('wire', broker=sys.argv[1])",
                      "app.send_task('examples.add', (3, 4), {'z': '\u00e9'}, queue=sys.argv[2], countdown=10, expires=120, priority=5,",
                      "              time_limit=60, soft_time_limit=50, headers={'x-custom': 'v'})"),
                  Brokers.AMQP_URL,
                  queue)
              .redirectErrorStream(true)
              .start();
      String pyOut = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, py.waitFor(), pyOut);
      try (CelerityClient ours =
          CelerityClient.connect(
              ClientOptions.of(Brokers.AMQP_URL, null).withDefaultQueue(queue))) {
        ours.send(
            "examples.add",
            List.of(3, 4),
            Map.of("z", "é"),
            SendOptions.with()
                .countdown(10)
                .expires(120)
                .priority(5)
                .timeLimit(60)
                .softTimeLimit(50)
                .headers(Map.of("x-custom", "v")));
      }
      GetResponse theirs = amqp.get(queue);
      GetResponse mine = amqp.get(queue);
      assertNotNull(theirs, "Python's message");
      assertNotNull(mine, "ours");
      // (the RabbitMQ Java client reads a header table into a HashMap: the order is compared by
      // ClientMessagesTest)
      String th = String.valueOf(new TreeMap<>(theirs.getProps().getHeaders()));
      String mh = String.valueOf(new TreeMap<>(mine.getProps().getHeaders()));
      assertEquals(mask(th), mask(mh), "headers");
      assertEquals(
          mask(new String(theirs.getBody(), StandardCharsets.UTF_8)),
          mask(new String(mine.getBody(), StandardCharsets.UTF_8)),
          "body bytes");
      assertEquals(props(theirs.getProps()), props(mine.getProps()), "properties");
      assertEquals(theirs.getEnvelope().getExchange(), mine.getEnvelope().getExchange());
      assertEquals(theirs.getEnvelope().getRoutingKey(), mine.getEnvelope().getRoutingKey());
    } finally {
      ClientFleetTest.deleteQueue(queue);
    }
  }

  private static String props(AMQP.BasicProperties p) {
    return mask(
        String.join(
            "|",
            p.getContentType(),
            p.getContentEncoding(),
            String.valueOf(p.getCorrelationId()),
            String.valueOf(p.getReplyTo()),
            String.valueOf(p.getPriority()),
            String.valueOf(p.getDeliveryMode()),
            String.valueOf(p.getExpiration()),
            String.valueOf(p.getType()),
            String.valueOf(p.getTimestamp())));
  }
}
