package io.celerity.transport.redis;

import java.util.ArrayList;
import java.util.List;

/**
 * kombu's Redis key and channel names (docs/wire-protocol.md §3.1, §3.4, §3.6, §3.7), all with the
 * {@code global_keyprefix} in front.
 */
public final class RedisKeys {

  /** kombu's separator inside priority list names and binding members. */
  public static final String SEP = "\u0006\u0016";

  /** kombu's default {@code priority_steps}. */
  public static final int[] PRIORITY_STEPS = {0, 3, 6, 9};

  private final String prefix;
  private final int db;

  /**
   * @param prefix {@code global_keyprefix}, {@code ""} for none
   * @param db database number, used in fanout channel names
   */
  public RedisKeys(String prefix, int db) {
    this.prefix = prefix == null ? "" : prefix;
    this.db = db;
  }

  public String prefix() {
    return prefix;
  }

  /**
   * The priority step a message priority goes to: the largest step not above it (0..9, missing =
   * 0).
   */
  public static int step(Integer priority) {
    int p = priority == null ? 0 : Math.max(0, Math.min(9, priority));
    int step = 0;
    for (int s : PRIORITY_STEPS) {
      if (s <= p) {
        step = s;
      }
    }
    return step;
  }

  /**
   * The list holding a queue's messages of one priority step: {@code <queue>} or {@code
   * <queue>\x06\x16<step>}.
   */
  public String list(String queue, int step) {
    return prefix + (step == 0 ? queue : queue + SEP + step);
  }

  /**
   * The keys of one BRPOP over {@code queues} (already in round-robin order): priority-major, so
   * every queue's step 0 comes before any queue's step 3.
   */
  public List<String> brpopKeys(List<String> queues) {
    List<String> keys = new ArrayList<>(queues.size() * PRIORITY_STEPS.length);
    for (int step : PRIORITY_STEPS) {
      for (String q : queues) {
        keys.add(list(q, step));
      }
    }
    return keys;
  }

  /** The queue a list key belongs to (inverse of {@link #list}). */
  public String queueOfList(String key) {
    String k = key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    int sep = k.lastIndexOf(SEP);
    if (sep >= 0 && k.substring(sep + SEP.length()).matches("\\d")) {
      return k.substring(0, sep);
    }
    return k;
  }

  /** The set of an exchange's bindings. */
  public String binding(String exchange) {
    return prefix + "_kombu.binding." + exchange;
  }

  /** A binding set member: {@code <routing_key>\x06\x16<pattern>\x06\x16<queue>}. */
  public static String bindingMember(String routingKey, String pattern, String queue) {
    return routingKey + SEP + (pattern == null ? "" : pattern) + SEP + queue;
  }

  /** The fanout channel a message to {@code exchange} with {@code routingKey} is published on. */
  public String fanoutChannel(String exchange, String routingKey) {
    String base = prefix + "/" + db + "." + exchange;
    return routingKey == null || routingKey.isEmpty() ? base : base + "/" + routingKey;
  }

  /**
   * The PSUBSCRIBE pattern of a queue bound to a fanout exchange with {@code bindingKey} ({@code #}
   * becomes {@code *}).
   */
  public String fanoutPattern(String exchange, String bindingKey) {
    return fanoutChannel(exchange, bindingKey == null ? "" : bindingKey.replace("#", "*"));
  }

  public String unacked() {
    return prefix + "unacked";
  }

  public String unackedIndex() {
    return prefix + "unacked_index";
  }

  /**
   * Where one consumer's batch pops leave the tags they recorded, until the reply is read
   * (Celerity's own key).
   */
  public String claim(String consumerId) {
    return prefix + "_celerity.claim." + consumerId;
  }

  public String unackedMutex() {
    return prefix + "unacked_mutex";
  }
}
