package io.celerity.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;

/**
 * The worker's own log configuration (src/main/resources/logback.xml) never prints a URL's
 * password.
 */
class RedactedLogTest {

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"text", "json"})
  void messagesAndStackTracesOfAnyLoggerHideUrlPasswords(String logFormat) throws Exception {
    LoggerContext ctx = new LoggerContext();
    ctx.putProperty("celerity.log.format", logFormat);
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    JoranConfigurator config = new JoranConfigurator();
    config.setContext(ctx);
    config.doConfigure(getClass().getResource("/logback.xml"));
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    @SuppressWarnings("unchecked")
    ConsoleAppender<ILoggingEvent> appender =
        (ConsoleAppender<ILoggingEvent>) root.getAppender(logFormat);
    LoggingEvent event =
        new LoggingEvent(
            "x",
            root,
            Level.ERROR,
            "Cannot connect to {}: refused",
            new IllegalArgumentException(
                "Illegal character in authority at index 8: amqqp://user:pa/ss@h//"),
            new Object[] {"amqp://guest:p@ss/w0rd@rabbit:5672//"});
    String line = new String(appender.getEncoder().encode(event), StandardCharsets.UTF_8);
    assertTrue(line.contains("Cannot connect to amqp://guest:**@rabbit:5672//: refused"), line);
    assertTrue(logFormat.equals("text") || line.startsWith("{"), line);
    assertTrue(line.contains("amqqp://user:**@h//"), line);
    assertFalse(line.contains("p@ss") || line.contains("pa/ss"), line);
    ctx.stop();
  }
}
