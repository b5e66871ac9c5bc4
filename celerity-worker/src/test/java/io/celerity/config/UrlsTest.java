package io.celerity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The one redaction used for every URL in logs, banner, stats, conf and errors. */
class UrlsTest {

  @Test
  void passwordsHoldingSlashAtOrPercentEncodingAreHiddenWhole() {
    assertEquals("amqp://user:**@host:5672//", Urls.redact("amqp://user:pa/ss@host:5672//"));
    assertEquals("amqp://user:**@host:5672/vh", Urls.redact("amqp://user:p@ss@host:5672/vh"));
    assertEquals("amqp://user:**@host//", Urls.redact("amqp://user:p%2Fss%40w%3Ad@host//"));
    assertEquals("amqp://user:**@host//", Urls.redact("amqp://user:a/b@c/d@host//"));
    assertEquals("redis://:**@h:6379/0", Urls.redact("redis://:s3cr/et@h:6379/0"));
    assertEquals(
        "rediss://default:**@h:6380/1?ssl_cert_reqs=required",
        Urls.redact("rediss://default:pw@h:6380/1?ssl_cert_reqs=required"));
  }

  @Test
  void unknownSchemesAreRedactedToo() {
    assertEquals("amqqp://user:**@h", Urls.redact("amqqp://user:pass@h"));
    assertEquals("x-custom+tls://u:**@h:1/", Urls.redact("x-custom+tls://u:p@h:1/"));
  }

  @Test
  void everyUrlOfAListOrAMessageIsRedacted() {
    assertEquals(
        "sentinel://:**@h1:26379;sentinel://:**@h2:26379/0",
        Urls.redact("sentinel://:pw1@h1:26379;sentinel://:pw2@h2:26379/0"));
    String msg =
        "unsupported broker scheme 'amqqp' in amqqp://user:pa/ss@h (supported: amqp://, redis://)";
    assertEquals(
        "unsupported broker scheme 'amqqp' in amqqp://user:**@h (supported: amqp://, redis://)",
        Urls.redact(msg));
    assertEquals(
        "Cannot connect to amqp://u:**@h//: refused; then redis://:**@r/0 too",
        Urls.redact("Cannot connect to amqp://u:p;w@h//: refused; then redis://:x@r/0 too"));
  }

  @Test
  void urlsWithoutPasswordsAreUnchanged() {
    for (String u :
        new String[] {
          "memory://",
          "memory://name",
          "redis://h:6379/0",
          "redis://user@h/0",
          "amqp://h//",
          "rpc://",
          "disabled"
        }) {
      assertEquals(u, Urls.redact(u));
    }
    assertNull(Urls.redact(null));
    // an '@' in the path cannot be told from one in a password: more is hidden, never less
    assertEquals("amqp://guest@h:**@x", Urls.redact("amqp://guest@h:5672/v@x"));
    assertFalse(Urls.redact("amqp://u:hunter2@h").contains("hunter2"));
  }

  @Test
  void errorsAboutBadUrlsNameThemRedacted() {
    String transport =
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () ->
                    io.celerity.transport.Transports.create(
                        null,
                        new io.celerity.transport.TransportOptions(
                            "amqqp://user:pa/ss@h", java.util.List.of("q"), 1, null, 1000, "t")))
            .getMessage();
    assertEquals(
        "unsupported broker scheme 'amqqp' in amqqp://user:**@h (supported: amqp://, redis://, rediss://, "
            + "sentinel://, memory://)",
        transport);
    String backend =
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () ->
                    io.celerity.backend.Backends.create(null, "mongodb://u:hunter2@h/db", 1, null))
            .getMessage();
    assertFalse(backend.contains("hunter2"), backend);
    String amqp =
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> io.celerity.transport.amqp.AmqpUrl.parse("amqp://user:hun ter2@h//"))
            .getMessage();
    assertFalse(amqp.contains("hun ter2") || amqp.contains("ter2"), amqp);
  }
}
