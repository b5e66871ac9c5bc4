package io.celerity.result;

import io.celerity.protocol.TaskMessage;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskOptions;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import java.util.HashMap;
import java.util.Map;

/** Requests of task {@code p.t} from queue {@code q}, for the recorder's tests. */
final class TestRequests {

  private TestRequests() {}

  static Request request(String id, Map<String, Object> embed, boolean acksLate) {
    Map<String, Object> headers = new HashMap<>(Map.of("id", id, "task", "p.t", "root_id", id));
    TaskMessage m =
        TaskMessage.builder(id, "p.t")
            .embed(embed)
            .headers(headers)
            .correlationId(id)
            .priority(0)
            .build();
    Delivery d =
        new Delivery(
            new byte[0],
            "application/json",
            "utf-8",
            headers,
            id,
            null,
            0,
            "",
            "q",
            "q",
            false,
            1L,
            0);
    return Request.builder(
            m, d, new TaskDefinition("p.t", TaskOptions.DEFAULTS, ctx -> null), "w@h")
        .acksLate(acksLate)
        .receivedNanos(0)
        .build();
  }
}
