package io.celerity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.WorkerOptions;
import io.celerity.task.TaskRegistry;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * {@code --without-examples} removes the examples; nothing (a service-loader entry) brings them
 * back.
 */
class ExamplesLoadingTest {

  @Test
  void withoutExamplesNoExampleTaskIsRegistered() {
    TaskRegistry r =
        WorkerVerticle.buildRegistry(
            new WorkerOptions(new JsonObject().put("load_examples", false)));
    assertTrue(r.names().stream().noneMatch(n -> n.startsWith("examples.")), r.names().toString());
    assertTrue(r.names().contains("celery.chord_unlock"), "the built-ins stay: " + r.names());
  }

  @Test
  void byDefaultTheExamplesAreRegistered() {
    assertTrue(WorkerVerticle.buildRegistry(new WorkerOptions()).names().contains("examples.add"));
  }
}
