package io.celerity.metrics;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops Micrometer's "This Gauge has been already registered" warning for Vert.x's own gauges
 * ({@code vertx.*}) only. vertx-micrometer-metrics 5 registers a connection gauge again for every
 * new connection and then shares one counter per meter id, so the values are right and the warning
 * is noise (vert-x3/vertx-micrometer-metrics#259); the same warning about any other meter still
 * shows.
 */
public final class VertxGaugeWarningFilter extends TurboFilter {

  static final String MICROMETER_REGISTRY_LOGGER = "io.micrometer.core.instrument.MeterRegistry";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (format != null
        && level == Level.WARN
        && MICROMETER_REGISTRY_LOGGER.equals(logger.getName())
        && format.contains("has been already registered")
        && format.contains("name='vertx.")) {
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }
}
