package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AmqpFailoverTest {

  private static final String URLS =
      "amqp://u:secret@h1:5672//;amqp://u:secret@h2:5673/v;amqp://h3//";

  @Test
  void roundRobinMovesOnOnlyAfterAFailureOrALoss() {
    AmqpFailover f = new AmqpFailover(URLS, "round-robin", new Random(1));
    assertEquals("h1", f.forAttempt().host());
    f.connected();
    assertEquals("h1", f.forAttempt().host(), "a good node is kept");
    f.failed();
    AmqpUrl second = f.forAttempt();
    assertEquals("h2", second.host());
    assertEquals(5673, second.port());
    assertEquals("v", second.vhost());
    f.failed();
    assertEquals("h3", f.forAttempt().host());
    f.failed();
    assertEquals("h1", f.forAttempt().host(), "round and round");
    assertTrue(!f.redacted().contains("secret") && f.redacted().contains("h3"), f.redacted());
  }

  @Test
  void shuffleNeverPicksTheNodeThatJustFailed() {
    AmqpFailover f = new AmqpFailover(URLS, "shuffle", new Random(42));
    Set<String> seen = new HashSet<>();
    String last = f.forAttempt().host();
    for (int i = 0; i < 50; i++) {
      f.failed();
      String next = f.forAttempt().host();
      assertNotEquals(last, next);
      seen.add(next);
      last = next;
    }
    assertEquals(Set.of("h1", "h2", "h3"), seen);
  }

  @Test
  void oneUrlStaysOneUrl() {
    AmqpFailover f =
        new AmqpFailover(
            "amqp://guest:guest@127.0.0.1:5672/celerity-test", "round-robin", new Random());
    f.failed();
    assertEquals("celerity-test", f.forAttempt().vhost());
    assertEquals(1, f.size());
  }
}
