package io.celerity.heartbeat;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds Celery worker events ({@code worker-online}, {@code worker-heartbeat}, {@code
 * worker-offline}).
 */
public final class WorkerEvents {

  public static final String SW_IDENT = "celerity";
  public static final String SW_VER = "0.1.0";

  private final String hostname;
  private final double freq;
  private final long pid = ProcessHandle.current().pid();
  private final java.util.concurrent.atomic.AtomicLong clock;

  public WorkerEvents(String hostname, double freq) {
    this(hostname, freq, new java.util.concurrent.atomic.AtomicLong());
  }

  /**
   * Worker events stamped with {@code clock}, the Lamport clock shared with task events and remote
   * control.
   */
  public WorkerEvents(String hostname, double freq, java.util.concurrent.atomic.AtomicLong clock) {
    this.hostname = hostname;
    this.freq = freq;
    this.clock = clock;
  }

  /** One worker event; {@code type} is e.g. {@code worker-heartbeat}. */
  public OutgoingMessage event(String type, int active, long processed) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("hostname", hostname);
    // Celery's utcoffset is time.timezone // 3600: hours *west* of UTC.
    e.put("utcoffset", io.celerity.events.TaskEvents.utcoffset());
    e.put("pid", pid);
    e.put("clock", clock.incrementAndGet());
    e.put("freq", freq);
    e.put("active", active);
    e.put("processed", processed);
    e.put("loadavg", loadavg());
    e.put("sw_ident", SW_IDENT);
    e.put("sw_ver", SW_VER);
    e.put("sw_sys", System.getProperty("os.name"));
    e.put("timestamp", System.currentTimeMillis() / 1000.0);
    e.put("type", type);
    Map<String, Object> props = Map.of("delivery_mode", 1, "priority", 0);
    return OutgoingMessage.json(
        "celeryev", type.replace('-', '.'), Json.encode(e), Map.of("hostname", hostname), props);
  }

  public long clock() {
    return clock.get();
  }

  static List<Double> loadavg() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return List.of(up(parts[0]), up(parts[1]), up(parts[2]));
    } catch (Exception e) {
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      double l = Math.max(0, os.getSystemLoadAverage());
      return List.of(l, l, l);
    }
  }

  private static double up(String s) {
    return new BigDecimal(s).setScale(2, RoundingMode.CEILING).doubleValue();
  }
}
