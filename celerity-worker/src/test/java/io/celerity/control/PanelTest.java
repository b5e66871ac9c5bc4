package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.config.WorkerOptions;
import io.celerity.task.TaskRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class PanelTest {

  private final ControlCommands commands =
      new Panel(null, new WorkerOptions(), new TaskRegistry(), null, null, () -> 0).commands();

  @Test
  void everyCommandHasCelerysKind() {
    // celery/worker/control.py: @inspect_command and @control_command; the kind decides what the
    // HTTP bridge opens without a token
    for (String inspect :
        List.of(
            "report",
            "conf",
            "query_task",
            "clock",
            "hello",
            "ping",
            "stats",
            "scheduled",
            "reserved",
            "active",
            "revoked",
            "registered",
            "objgraph",
            "memsample",
            "memdump",
            "active_queues",
            "dump_tasks",
            "dump_conf",
            "dump_active",
            "dump_reserved",
            "dump_schedule",
            "dump_revoked")) {
      assertEquals(ControlCommands.Kind.INSPECT, commands.kind(inspect), inspect);
    }
    for (String control :
        List.of(
            "revoke",
            "terminate",
            "rate_limit",
            "time_limit",
            "election",
            "enable_events",
            "disable_events",
            "heartbeat",
            "pool_grow",
            "pool_shrink",
            "pool_restart",
            "autoscale",
            "shutdown",
            "add_consumer",
            "cancel_consumer")) {
      assertEquals(ControlCommands.Kind.CONTROL, commands.kind(control), control);
    }
    assertEquals(37, commands.names().size(), "no command without a kind: " + commands.names());
  }
}
