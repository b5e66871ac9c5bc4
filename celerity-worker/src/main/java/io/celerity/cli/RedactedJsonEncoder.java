package io.celerity.cli;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.celerity.config.Urls;
import java.nio.charset.StandardCharsets;

/**
 * {@code log_format: json} with the same promise as the text format's {@code %redactedMsg}: no
 * URL's password in any field (message, MDC, stack trace) of the JSON line.
 */
public class RedactedJsonEncoder extends JsonEncoder {

  @Override
  public byte[] encode(ILoggingEvent event) {
    // logback writes '/' as "\/" (legal, not required): plain slashes, so URLs look like URLs to
    // the redaction
    String line = new String(super.encode(event), StandardCharsets.UTF_8).replace("\\/", "/");
    return Urls.redact(line).getBytes(StandardCharsets.UTF_8);
  }
}
