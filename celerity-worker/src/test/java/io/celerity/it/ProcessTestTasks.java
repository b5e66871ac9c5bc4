package io.celerity.it;

import io.celerity.task.Task;

/** Java tasks for the process pool tests (loaded in the child JVMs with {@code app}). */
public class ProcessTestTasks {

  @Task(name = "proc.pid")
  public static long pid() {
    return ProcessHandle.current().pid();
  }
}
