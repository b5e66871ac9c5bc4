package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.WorkerOptions;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class InspectViewsTest {

  private final TaskRegistry registry =
      new TaskRegistry()
          .register("proj.add", ctx -> null)
          .register(
              "proj.slow",
              TaskOptions.DEFAULTS.withRateLimit("10/m").withTimeLimits(30.0, 0.5),
              ctx -> null)
          .register("celery.chord_unlock", ctx -> null);

  @Test
  void registeredShowsCeleryDefaultItemsThatAreNotNone() {
    // Celery: exchange, routing_key, rate_limit; None values are left out, and so are built-ins
    assertEquals(
        List.of("proj.add", "proj.slow [rate_limit=10/m]"),
        InspectViews.registered(registry, new WorkerOptions(), new JsonObject()));
  }

  @Test
  void registeredTakesTaskinfoitemsAndBuiltins() {
    JsonObject args =
        new JsonObject()
            .put(
                "taskinfoitems",
                new JsonArray()
                    .add("time_limit")
                    .add("soft_time_limit")
                    .add("acks_late")
                    .add("max_retries"))
            .put("builtins", true);
    assertEquals(
        List.of(
            "celery.chord_unlock [acks_late=False max_retries=3]",
            "proj.add [acks_late=False max_retries=3]",
            "proj.slow [time_limit=30 soft_time_limit=0.5 acks_late=False max_retries=3]"),
        InspectViews.registered(registry, new WorkerOptions(), args));
  }

  @Test
  void confUsesCeleryNamesOnlyNonDefaultsAndMasksSecrets() {
    WorkerOptions o =
        new WorkerOptions(
            new JsonObject()
                .put("broker", "amqp://u:secret@h:5672//")
                .put("concurrency", 3)
                .put("acks_late", true)
                .put(
                    "broker_transport_options",
                    new JsonObject()
                        .put("sentinel_kwargs_password", "p")
                        .put("visibility_timeout", 60)));
    JsonObject conf = InspectViews.conf(o, new JsonObject());
    assertEquals(3, conf.getInteger("worker_concurrency"));
    assertEquals(true, conf.getBoolean("task_acks_late"));
    assertFalse(conf.getString("broker_url").contains("secret"), conf.getString("broker_url"));
    assertEquals(
        "********",
        conf.getJsonObject("broker_transport_options").getString("sentinel_kwargs_password"));
    assertEquals(
        60, conf.getJsonObject("broker_transport_options").getInteger("visibility_timeout"));
    assertFalse(
        conf.containsKey("task_track_started"),
        "defaults are left out, as with_defaults=False does");
    assertFalse(conf.containsKey("concurrency"), "our names are replaced by Celery's");
    assertTrue(
        InspectViews.conf(o, new JsonObject().put("with_defaults", true))
            .containsKey("task_track_started"));
  }

  @Test
  void transportOptionsTextValuesAndUrlsWithOddPasswordsNeverShowInConf() {
    WorkerOptions o =
        new WorkerOptions(
            new JsonObject()
                .put("broker", "amqqp://user:pa/ss@h//")
                .put("result_backend", "redis://:p%2Fw@ss@r:6379/0")
                .put(
                    "broker_transport_options",
                    new JsonObject()
                        .put("master_name", "mymaster")
                        .put("sentinel_kwargs", new JsonObject().put("auth", "hunter2"))
                        .put("visibility_timeout", 60))
                .put(
                    "result_backend_transport_options",
                    new JsonObject().put("credentials", "u:hunter3")));
    String conf = InspectViews.conf(o, new JsonObject().put("with_defaults", true)).encode();
    for (String secret : new String[] {"pa/ss", "p%2Fw", "hunter2", "hunter3", "mymaster"}) {
      assertFalse(conf.contains(secret), secret + " in " + conf);
    }
    assertTrue(conf.contains("\"broker_url\":\"amqqp://user:**@h//\""), conf);
    assertTrue(conf.contains("\"visibility_timeout\":60"), conf);
  }

  @Test
  void confIncludesTheApplicationsOwnSettingsUnderOurs() {
    JsonObject app =
        new JsonObject()
            .put("task_routes", new JsonObject().put("proj.*", "q"))
            .put("worker_concurrency", 99)
            .put("sentry_api_key", "k");
    JsonObject conf =
        InspectViews.conf(
            new WorkerOptions(new JsonObject().put("concurrency", 3)), new JsonObject(), app);
    assertEquals(
        "q",
        conf.getJsonObject("task_routes").getString("proj.*"),
        "the app's own settings are reported");
    assertEquals(3, conf.getInteger("worker_concurrency"), "what the worker runs with wins");
    assertEquals("********", conf.getString("sentry_api_key"));
  }
}
