package io.celerity.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Celery's retry timing for result writes. */
class WriteRetryPolicyTest {

  /**
   * kombu's retry_over_time with the backends' retry_policy: 0, 1, 1, ... s, 20 retries (Celery
   * 5.2: set() took 19.15 s).
   */
  @Test
  void celeryDefaultsWaitZeroThenOneSecondTwentyTimes() {
    WriteRetryPolicy p = WriteRetryPolicy.from(new JsonObject(), false, null, 10, 10_000);
    long total = 0;
    int retries = 0;
    while (p.innerRetryLeft(retries)) {
      total += p.innerDelayMillis(retries);
      retries++;
    }
    assertEquals(20, retries);
    assertEquals(0, p.innerDelayMillis(0));
    assertEquals(1000, p.innerDelayMillis(1));
    assertEquals(1000, p.innerDelayMillis(19));
    assertEquals(19_000, total);
    assertFalse(p.outerRetryLeft(0), "result_backend_always_retry is off by default");
  }

  @Test
  void retryPolicyFromTransportOptionsFollowsFxrange() {
    WriteRetryPolicy p =
        WriteRetryPolicy.from(
            new JsonObject()
                .put(
                    "retry_policy",
                    new JsonObject()
                        .put("max_retries", 5)
                        .put("interval_start", 0.5)
                        .put("interval_step", 0.2)
                        .put("interval_max", 0.5)),
            false,
            null,
            10,
            10_000);
    // fxrange(0.5, 1.0, 0.2, repeatlast=True): 0.5, 0.7, 0.9, 0.9, ...
    assertEquals(500, p.innerDelayMillis(0));
    assertEquals(700, p.innerDelayMillis(1));
    assertEquals(900, p.innerDelayMillis(2));
    assertEquals(900, p.innerDelayMillis(3));
    assertTrue(p.innerRetryLeft(4));
    assertFalse(p.innerRetryLeft(5));
    WriteRetryPolicy forever =
        WriteRetryPolicy.from(
            new JsonObject().put("retry_policy", new JsonObject().putNull("max_retries")),
            false,
            null,
            10,
            10_000);
    assertTrue(forever.innerRetryLeft(1_000_000), "max_retries None: for ever, as kombu");
  }

  /** base.py's get_exponential_backoff_interval(base, n, max, full_jitter=True). */
  @Test
  void alwaysRetryBacksOffExponentiallyWithFullJitterUpToTheMaximum() {
    WriteRetryPolicy p = WriteRetryPolicy.from(null, true, 3L, 10, 10_000);
    assertTrue(p.outerRetryLeft(2));
    assertFalse(p.outerRetryLeft(3));
    for (int i = 0; i < 200; i++) {
      assertTrue(p.outerDelayMillis(1) <= 20);
      assertTrue(p.outerDelayMillis(4) <= 160);
      assertTrue(p.outerDelayMillis(40) <= 10_000);
    }
    assertTrue(
        WriteRetryPolicy.from(null, true, null, 10, 10_000).outerRetryLeft(1_000_000),
        "forever by default");
  }
}
