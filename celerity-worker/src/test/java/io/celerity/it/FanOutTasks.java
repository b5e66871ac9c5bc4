package io.celerity.it;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Signature;
import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Java tasks that start subtasks with the worker's connection (loaded with {@code app}). */
public class FanOutTasks {

  /**
   * Sends {@code examples.add(i, i)} for i < n and a chord to {@code queue}; returns their result
   * ids.
   */
  @Task(name = "tests.fan_out")
  public static Map<String, Object> fanOut(TaskContext ctx, String queue, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(ctx.send("examples.add", List.of(i, i), Map.of(), Map.of("queue", queue)));
    }
    String chord =
        ctx.applyAsync(
            Canvas.chord(
                List.of(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
                Signature.of("examples.xsum")),
            Map.of("queue", queue));
    return Map.of("ids", ids, "chord", chord);
  }
}
