package io.celerity.it;

import io.celerity.task.Task;

/** Java tasks for the process pool tests (loaded in the child JVMs with {@code app}). */
public class ProcessTestTasks {

  @Task(name = "proc.pid")
  public static long pid() {
    return ProcessHandle.current().pid();
  }

  @Task(name = "proc.spin")
  public static boolean spin(double seconds) {
    // ignores interrupts, like CPU-bound code: only a kill stops it
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long n = 0;
    while (System.nanoTime() < end) {
      n++;
    }
    return n > 0;
  }
}
