package io.celerity.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/** Prints logback levels under Celery's names ({@code WARNING} rather than {@code WARN}). */
public class CeleryLevelConverter extends ClassicConverter {

  @Override
  public String convert(ILoggingEvent event) {
    return event.getLevel() == Level.WARN ? "WARNING" : event.getLevel().toString();
  }
}
