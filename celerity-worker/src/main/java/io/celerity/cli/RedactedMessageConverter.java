package io.celerity.cli;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import io.celerity.config.Urls;

/**
 * {@code %redactedMsg}: the log message with every URL's password hidden ({@link Urls#redact}), so
 * a line from any library (or one of ours that forgot) never prints a broker or backend password.
 */
public class RedactedMessageConverter extends MessageConverter {

  @Override
  public String convert(ILoggingEvent event) {
    return Urls.redact(super.convert(event));
  }

  /**
   * {@code %redactedEx}: stack traces likewise (exception messages often quote the URL they failed
   * on).
   */
  public static class Throwable extends ThrowableProxyConverter {

    @Override
    protected String throwableProxyToString(IThrowableProxy tp) {
      return Urls.redact(super.throwableProxyToString(tp));
    }
  }
}
