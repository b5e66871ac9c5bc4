package io.celerity.transport.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** kombu's names, as in docs/wire-protocol.md §3.1, §3.3, §3.4, §3.6, §3.7. */
class RedisKeysTest {

  private final RedisKeys keys = new RedisKeys("", 10);
  private final RedisKeys prefixed = new RedisKeys("pfx:", 12);

  @Test
  void prioritiesGoToTheLargestStepNotAboveThem() {
    // captured: 0,1 -> celery; 3,4 -> \x06\x163; 6 -> \x06\x166; 9,10 -> \x06\x169
    int[][] cases = {
      {0, 0}, {1, 0}, {2, 0}, {3, 3}, {4, 3}, {5, 3}, {6, 6}, {8, 6}, {9, 9}, {10, 9}, {-1, 0}
    };
    for (int[] c : cases) {
      assertEquals(c[1], RedisKeys.step(c[0]), "priority " + c[0]);
    }
    assertEquals(0, RedisKeys.step(null));
    assertEquals("celery", keys.list("celery", 0));
    assertEquals("celery\u0006\u00163", keys.list("celery", 3));
    assertEquals("pfx:celery\u0006\u00163", prefixed.list("celery", 3));
  }

  @Test
  void brpopIsPriorityMajorOverTheQueuesInOrder() {
    // captured with -Q celery,q1 (after rotation q1 first)
    assertEquals(
        List.of(
            "q1",
            "celery",
            "q1\u0006\u00163",
            "celery\u0006\u00163",
            "q1\u0006\u00166",
            "celery\u0006\u00166",
            "q1\u0006\u00169",
            "celery\u0006\u00169"),
        keys.brpopKeys(List.of("q1", "celery")));
    assertEquals("pfx:a\u0006\u00169", prefixed.brpopKeys(List.of("a")).get(3));
  }

  @Test
  void listKeysMapBackToTheirQueue() {
    assertEquals("celery", keys.queueOfList("celery\u0006\u00166"));
    assertEquals("celery", keys.queueOfList("celery"));
    assertEquals("a.b", prefixed.queueOfList("pfx:a.b\u0006\u00169"));
  }

  @Test
  void bindingsAndFanoutChannels() {
    assertEquals("_kombu.binding.celery", keys.binding("celery"));
    assertEquals(
        "celery\u0006\u0016\u0006\u0016celery", RedisKeys.bindingMember("celery", "", "celery"));
    assertEquals("/10.celery.pidbox", keys.fanoutChannel("celery.pidbox", ""));
    assertEquals(
        "/10.celeryev/worker.heartbeat", keys.fanoutChannel("celeryev", "worker.heartbeat"));
    assertEquals("/10.celeryev/worker.*", keys.fanoutPattern("celeryev", "worker.#"));
    assertEquals("pfx:/12.celery.pidbox", prefixed.fanoutChannel("celery.pidbox", null));
    assertEquals("pfx:_kombu.binding.celery", prefixed.binding("celery"));
    assertEquals("pfx:unacked", prefixed.unacked());
    assertEquals("pfx:unacked_index", prefixed.unackedIndex());
    assertEquals("pfx:unacked_mutex", prefixed.unackedMutex());
  }

  @Test
  void bindingKeysMatchDirectlyOrAsTopics() {
    assertTrue(UnackedStore.bindingMatches("abc", "abc"));
    assertFalse(UnackedStore.bindingMatches("abc", "abcd"));
    assertTrue(UnackedStore.bindingMatches("worker.#", "worker.heartbeat"));
    assertTrue(UnackedStore.bindingMatches("#", "task.multi"));
    assertTrue(UnackedStore.bindingMatches("task.*", "task.multi"));
    assertFalse(UnackedStore.bindingMatches("task.*", "worker.online"));
  }

  @Test
  void brokerUrls() {
    RedisBrokerUrl plain = RedisBrokerUrl.parse("redis://:s3cret@10.0.0.5:6380/10", Map.of());
    assertEquals(List.of("redis://:s3cret@10.0.0.5:6380/10"), plain.endpoints());
    assertEquals(10, plain.db());
    assertEquals(3600, plain.visibilityTimeout());
    assertEquals("", plain.globalKeyprefix());
    assertFalse(plain.redacted().contains("s3cret"));

    RedisBrokerUrl tls =
        RedisBrokerUrl.parse(
            "rediss://h/3?global_keyprefix=pfx%3A&visibility_timeout=600",
            Map.of("visibility_timeout", 7200, "global_keyprefix", "other:"));
    assertEquals(List.of("rediss://h/3"), tls.endpoints());
    assertEquals("pfx:", tls.globalKeyprefix(), "the URL query wins over broker_transport_options");
    assertEquals(600, tls.visibilityTimeout());

    assertEquals(0, RedisBrokerUrl.parse("redis://", Map.of()).db());
    assertEquals(
        List.of("redis://127.0.0.1:6379/0"),
        RedisBrokerUrl.parse("redis://", Map.of()).endpoints());

    RedisBrokerUrl sentinel =
        RedisBrokerUrl.parse(
            "sentinel://s1:26379;sentinel://s2:26380/2", Map.of("master_name", "mymaster"));
    assertTrue(sentinel.sentinel());
    assertEquals(List.of("redis://s1:26379/2", "redis://s2:26380/2"), sentinel.endpoints());
    assertEquals("mymaster", sentinel.redisOptions(1).getMasterName());
    assertEquals(2, sentinel.redisOptions(1).getEndpoints().size());

    assertThrows(
        IllegalArgumentException.class,
        () -> RedisBrokerUrl.parse("sentinel://s1:26379", Map.of()));
    assertThrows(
        IllegalArgumentException.class, () -> RedisBrokerUrl.parse("redis://h/x", Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RedisBrokerUrl.parse("redis://h/1?visibility_timeout=0", Map.of()).visibilityTimeout());
  }
}
