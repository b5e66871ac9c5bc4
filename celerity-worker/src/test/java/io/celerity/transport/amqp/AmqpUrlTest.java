package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AmqpUrlTest {

  @Test
  void doubleSlashIsTheRootVhost() {
    AmqpUrl u = AmqpUrl.parse("amqp://guest:guest@127.0.0.1:5672//");
    assertEquals(new AmqpUrl("127.0.0.1", 5672, "guest", "guest", "/", false), u);
  }

  @Test
  void pathAfterTheFirstSlashIsTheVhost() {
    AmqpUrl u = AmqpUrl.parse("amqp://celerity:secret@rabbit.local:5673/celerity-test");
    assertEquals("celerity-test", u.vhost());
    assertEquals("rabbit.local", u.host());
    assertEquals(5673, u.port());
    assertEquals("celerity", u.user());
    assertEquals("secret", u.password());
  }

  @Test
  void noPathMeansRootVhost() {
    assertEquals("/", AmqpUrl.parse("amqp://guest:guest@localhost:5672").vhost());
    assertEquals("/", AmqpUrl.parse("amqp://guest:guest@localhost:5672/").vhost());
  }

  @Test
  void encodedSlashVhost() {
    assertEquals("/", AmqpUrl.parse("amqp://u:p@h/%2F").vhost());
    assertEquals("a/b", AmqpUrl.parse("amqp://u:p@h/a%2Fb").vhost());
  }

  @Test
  void urlEncodedCredentialsAreDecoded() {
    AmqpUrl u = AmqpUrl.parse("amqp://us%40er:p%40ss%3Aw%2Frd@h:5672//");
    assertEquals("us@er", u.user());
    assertEquals("p@ss:w/rd", u.password());
  }

  /**
   * kombu decodes with {@code urllib.parse.unquote}, which leaves '+' alone (it is not a query
   * string).
   */
  @Test
  void plusInPasswordIsLiteralLikeKombu() {
    assertEquals("a+b", AmqpUrl.parse("amqp://u:a+b@h:5672//").password());
  }

  @Test
  void defaultsWithoutCredentialsOrPort() {
    AmqpUrl u = AmqpUrl.parse("amqp://rabbit");
    assertEquals("guest", u.user());
    assertEquals("guest", u.password());
    assertEquals(5672, u.port());
    assertEquals("/", u.vhost());
    assertFalse(u.ssl());
  }

  /**
   * kombu: {@code Connection('amqp://')} is guest:guest@localhost:5672// (Celery's docs use {@code
   * broker='amqp://'}).
   */
  @Test
  void bareSchemeMeansLocalhostDefaults() {
    assertEquals(
        new AmqpUrl("localhost", 5672, "guest", "guest", "/", false), AmqpUrl.parse("amqp://"));
  }

  @Test
  void amqpsDefaultsToPort5671() {
    AmqpUrl u = AmqpUrl.parse("amqps://u:p@secure.example.com//");
    assertTrue(u.ssl());
    assertEquals(5671, u.port());
    assertEquals(5999, AmqpUrl.parse("amqps://u:p@secure.example.com:5999//").port());
  }

  @Test
  void redactedHidesThePassword() {
    AmqpUrl u = AmqpUrl.parse("amqp://guest:s3cr3t@127.0.0.1:5672//");
    assertEquals("amqp://guest:**@127.0.0.1:5672//", u.redacted());
    assertFalse(u.redacted().contains("s3cr3t"));
    assertEquals(
        "amqps://u:**@h:5671/celerity-test",
        AmqpUrl.parse("amqps://u:pw@h/celerity-test").redacted());
  }
}
