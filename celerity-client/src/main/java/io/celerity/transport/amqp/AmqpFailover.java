package io.celerity.transport.amqp;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Celery's failover broker URLs: {@code amqp://h1//;amqp://h2//} (kombu's alternates). The worker
 * connects to one; when an attempt fails or the connection is lost, the next attempt goes to
 * another node, in order ({@code round-robin}) or picked at random among the others ({@code
 * shuffle}; kombu picks among all, so it may pick the node that just failed again). Event-loop
 * confined.
 */
final class AmqpFailover {

  private final List<AmqpUrl> urls = new ArrayList<>();
  private final List<String> redacted = new ArrayList<>();
  private final boolean shuffle;
  private final Random random;
  private int current;
  private boolean moveOn;

  AmqpFailover(String urlList, String strategy, Random random) {
    for (String u : urlList.split(";")) {
      if (!u.isBlank()) {
        AmqpUrl parsed = AmqpUrl.parse(u.trim());
        urls.add(parsed);
        redacted.add(parsed.redacted());
      }
    }
    if (urls.isEmpty()) {
      throw new IllegalArgumentException("no broker URL in '" + urlList + "'");
    }
    this.shuffle = "shuffle".equals(strategy);
    this.random = random;
  }

  /** The node of the current (or last) connection. */
  AmqpUrl current() {
    return urls.get(current);
  }

  /** The node to try now: another one than the last if that failed or was lost. */
  AmqpUrl forAttempt() {
    if (moveOn && urls.size() > 1) {
      current =
          shuffle
              ? (current + 1 + random.nextInt(urls.size() - 1)) % urls.size()
              : (current + 1) % urls.size();
    }
    moveOn = false;
    return current();
  }

  /** The attempt failed or the connection was lost: the next attempt goes elsewhere. */
  void failed() {
    moveOn = true;
  }

  void connected() {
    moveOn = false;
  }

  int size() {
    return urls.size();
  }

  /** Every node, passwords hidden, for log lines. */
  String redacted() {
    return String.join(";", redacted);
  }
}
