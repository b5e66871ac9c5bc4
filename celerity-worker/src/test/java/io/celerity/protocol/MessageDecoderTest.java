package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.types.Delivery;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MessageDecoderTest {

  private static final BigInteger TWO_POW_70 = BigInteger.TWO.pow(70);

  private final MessageDecoder decoder = new MessageDecoder();

  /**
   * What each captured message carries, written out by hand from the client call that produced it.
   */
  private record Expected(String task, List<Object> args, Map<String, Object> kwargs) {}

  private static final Map<String, Expected> EXPECTED =
      Map.ofEntries(
          Map.entry("add", new Expected("examples.add", List.of(2, 2), Map.of())),
          Map.entry(
              "bignum_nan",
              new Expected(
                  "examples.echo",
                  List.of(TWO_POW_70, Double.NaN, Double.POSITIVE_INFINITY),
                  Map.of())),
          Map.entry("chain", new Expected("examples.add", List.of(1, 2), Map.of())),
          Map.entry("chord", new Expected("examples.add", List.of(1, 1), Map.of())),
          Map.entry("compressed", new Expected("examples.add", List.of(2, 2), Map.of())),
          Map.entry("group", new Expected("examples.add", List.of(1, 1), Map.of())),
          Map.entry("ignore_result", new Expected("examples.add", List.of(2, 2), Map.of())),
          Map.entry("kwargs", new Expected("examples.add", List.of(), Map.of("x", 1, "y", 2))),
          Map.entry("link", new Expected("examples.add", List.of(3, 4), Map.of())),
          Map.entry("options", new Expected("examples.add", List.of(3, 4), Map.of())),
          Map.entry("priority", new Expected("examples.add", List.of(2, 2), Map.of())),
          Map.entry("protocol_v1", new Expected("examples.add", List.of(2, 3), Map.of())),
          Map.entry(
              "special_types",
              new Expected(
                  "examples.echo",
                  List.of(
                      "2024-01-02T03:04:05Z",
                      "2024-01-02T00:00:00",
                      "12345678-1234-5678-1234-567812345678",
                      "1.10"),
                  Map.of("t", "01:02:03"))),
          Map.entry(
              "unicode",
              new Expected("examples.echo", List.of("h\u00e9llo w\u00f6rld \u2713"), Map.of())));

  static Stream<Arguments> allFixtures() {
    List<Arguments> out = new ArrayList<>();
    for (String transport : List.of("amqp", "redis")) {
      for (String name : DeliveryFixtures.names(transport)) {
        out.add(Arguments.of(transport, name));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> bothTransports(String name) {
    return Stream.of(Arguments.of("amqp", name), Arguments.of("redis", name));
  }

  static Stream<Arguments> options() {
    return bothTransports("options");
  }

  static Stream<Arguments> compressed() {
    return bothTransports("compressed");
  }

  static Stream<Arguments> unicode() {
    return bothTransports("unicode");
  }

  static Stream<Arguments> link() {
    return bothTransports("link");
  }

  static Stream<Arguments> chord() {
    return bothTransports("chord");
  }

  @Test
  void everyCapturedFixtureHasAnExpectation() {
    Set<String> names = new TreeSet<>(DeliveryFixtures.names("amqp"));
    names.addAll(DeliveryFixtures.names("redis"));
    assertTrue(names.size() >= 14, "fixtures found: " + names);
    assertEquals(new TreeSet<>(EXPECTED.keySet()), names);
  }

  @ParameterizedTest(name = "{0}/{1}")
  @MethodSource("allFixtures")
  void decodesEveryCapturedMessage(String transport, String name) throws Exception {
    Delivery d = DeliveryFixtures.load(transport, name);
    TaskMessage m = decoder.decode(d);

    Map<String, Object> captured = DeliveryFixtures.headers(transport, name);
    String expectedId = (String) captured.get("id");
    if (expectedId == null) { // protocol v1: the id is in the body
      expectedId =
          (String)
              ((Map<?, ?>)
                      new com.fasterxml.jackson.databind.ObjectMapper()
                          .readValue(d.body(), Map.class))
                  .get("id");
    }
    Expected e = EXPECTED.get(name);
    assertNotNull(e, "no expectation for " + name);
    assertEquals(expectedId, m.id());
    assertEquals(e.task(), m.task());
    assertEquals(e.args(), m.args());
    assertEquals(e.kwargs(), m.kwargs());
    assertEquals(d.correlationId(), m.correlationId());
    assertEquals(d.replyTo(), m.replyTo());
    assertEquals(0, m.retries());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("options")
  void optionsFixtureCarriesEtaExpiresTimeLimitsCustomHeaderAndPriority(
      String transport, String name) throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.load(transport, name));
    Map<String, Object> h = DeliveryFixtures.headers(transport, name);
    // countdown=10, expires=120: the client wrote both as +00:00 ISO strings with 6 fraction digits
    String eta = (String) h.get("eta");
    String expires = (String) h.get("expires");
    assertEquals(Instant.parse(eta.replace("+00:00", "Z")), m.eta());
    assertEquals(Instant.parse(expires.replace("+00:00", "Z")), m.expires());
    assertEquals(110_000_000L, java.time.Duration.between(m.eta(), m.expires()).toNanos() / 1000);
    assertEquals(m.eta().getNano() % 1000, 0);
    assertTrue(m.eta().getNano() > 0, "microseconds kept");
    // time_limit=60, soft_time_limit=50 -> timelimit [60, 50], hard first
    assertEquals(60.0, m.hardTimeLimit());
    assertEquals(50.0, m.softTimeLimit());
    assertEquals("v", m.headers().get("x-custom"));
    assertEquals(5, m.priority());
    assertEquals(List.of(3, 4), m.args());
  }

  @Test
  void optionsFixtureEtaIsTheCapturedInstant() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("options"));
    assertEquals(Instant.parse("2026-11-25T07:30:50.146854Z"), m.eta());
    assertEquals(Instant.parse("2026-11-25T07:32:40.146854Z"), m.expires());
  }

  @Test
  void plainMessageHasNoEtaExpiresOrLimits() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("add"));
    assertNull(m.eta());
    assertNull(m.expires());
    assertNull(m.hardTimeLimit());
    assertNull(m.softTimeLimit());
    assertFalse(m.ignoreResult());
    assertEquals(0, m.priority());
    assertEquals(m.id(), m.rootId());
    assertNull(m.parentId());
    assertNull(m.group());
    assertEquals("examples.add", m.displayName());
    assertEquals("(2, 2)", m.argsrepr());
    assertEquals("{}", m.kwargsrepr());
  }

  @Test
  void redisPriorityIsTakenFromTheEnvelopeProperties() throws Exception {
    assertEquals(9, decoder.decode(DeliveryFixtures.redis("priority")).priority());
  }

  @Test
  void protocolV1IsConverted() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("protocol_v1"));
    assertEquals("939d3b70-9e38-4a4d-9145-7c6bfe23f419", m.id());
    assertEquals("examples.add", m.task());
    assertEquals(List.of(2, 3), m.args());
    assertEquals(Map.of(), m.kwargs());
    assertEquals(Instant.parse("2026-11-25T07:30:50.175869Z"), m.eta());
    assertNull(m.expires());
    assertEquals(0, m.retries());
    assertNull(m.hardTimeLimit());
    assertNull(m.softTimeLimit());
    assertNull(m.group());
    // embed built from the body, chain always null
    assertTrue(m.embed().containsKey("callbacks"));
    assertTrue(m.embed().containsKey("errbacks"));
    assertTrue(m.embed().containsKey("chord"));
    assertTrue(m.embed().containsKey("chain"));
    assertNull(m.embed().get("chain"));
    // v2-style headers synthesised for the rest of the worker
    assertEquals("examples.add", m.headers().get("task"));
    assertEquals(m.id(), m.headers().get("id"));
  }

  @Test
  void protocolV1WithoutRetriesDefaultsToZeroAndKeepsGroupFromTaskset() throws Exception {
    String body =
        "{\"task\": \"examples.add\", \"id\": \"v1-id\", \"args\": [1], \"kwargs\": {\"y\": 2},"
            + " \"taskset\": \"ts-1\", \"timelimit\": [10, 5]}";
    TaskMessage m =
        decoder.decode(
            DeliveryFixtures.withBody(
                body.getBytes(StandardCharsets.UTF_8), "application/json", Map.of()));
    assertEquals("v1-id", m.id());
    assertEquals(0, m.retries());
    assertEquals(List.of(1), m.args());
    assertEquals(Map.of("y", 2), m.kwargs());
    assertEquals("ts-1", m.group());
    assertEquals(10.0, m.hardTimeLimit());
    assertEquals(5.0, m.softTimeLimit());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("compressed")
  void compressedBodyIsInflated(String transport, String name) throws Exception {
    Delivery d = DeliveryFixtures.load(transport, name);
    assertEquals("application/x-gzip", d.headers().get("compression"));
    assertEquals(0x78, d.body()[0] & 0xff, "fixture body is zlib, not JSON");
    TaskMessage m = decoder.decode(d);
    assertEquals(List.of(2, 2), m.args());
    assertEquals(Map.of(), m.kwargs());
    Map<String, Object> embed = new HashMap<>();
    embed.put("callbacks", null);
    embed.put("errbacks", null);
    embed.put("chain", null);
    embed.put("chord", null);
    assertEquals(embed, m.embed());
  }

  @Test
  void gzipFramedBodyIsInflatedToo() throws Exception {
    byte[] json = "[[5, 6], {}, {}]".getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
      gz.write(json);
    }
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("compression", "application/x-gzip");
    TaskMessage m =
        decoder.decode(DeliveryFixtures.withBody(out.toByteArray(), "application/json", headers));
    assertEquals(List.of(5, 6), m.args());
  }

  @Test
  void compressionBombIsBoundedAndInflatedOffTheMessage() throws Exception {
    // 8 MiB of spaces deflate to a few KB; the decoder stops at its bound instead of the heap's
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(out)) {
      z.write("[[1, 2], {}, {}".getBytes(StandardCharsets.UTF_8));
      z.write(new byte[8 * 1024 * 1024]);
    }
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("compression", "application/x-gzip");
    Delivery bomb = DeliveryFixtures.withBody(out.toByteArray(), "application/json", headers);
    assertTrue(MessageDecoder.isHeavy(bomb), "compressed bodies are inflated off the event loop");
    MessageDecoder bounded = new MessageDecoder(MessageDecoder.DEFAULT_ACCEPT, 1024 * 1024);
    UndecodableBodyException e =
        assertThrows(UndecodableBodyException.class, () -> bounded.inflate(bomb));
    assertTrue(e.getMessage().contains("exceeds 1048576 bytes"), e.getMessage());
    assertThrows(UndecodableBodyException.class, () -> bounded.decode(bomb));
  }

  @Test
  void inflatedDeliveryDecodesWithoutItsCompressionHeader() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(out)) {
      z.write("[[7, 8], {}, {}]".getBytes(StandardCharsets.UTF_8));
    }
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("compression", "zlib");
    Delivery inflated =
        decoder.inflate(DeliveryFixtures.withBody(out.toByteArray(), "application/json", headers));
    assertFalse(inflated.headers().containsKey("compression"));
    assertFalse(MessageDecoder.isHeavy(inflated));
    assertEquals(List.of(7, 8), decoder.decode(inflated).args());
  }

  @Test
  void stringsOfAnyLengthAndIntegersOfPythonsDigitLimitDecode() throws Exception {
    // Python's json.loads reads both; Jackson's defaults (20 million chars, 1,000 digits) did not,
    // so such a task was dropped as undecodable where Celery runs it.
    String big = "x".repeat(21_000_000);
    TaskMessage m =
        decoder.decode(
            DeliveryFixtures.amqp("add")
                .withBody(("[[\"" + big + "\"], {}, {}]").getBytes(StandardCharsets.UTF_8)));
    assertEquals(big.length(), ((String) m.args().get(0)).length());
    String digits = "7".repeat(4300);
    m =
        decoder.decode(
            DeliveryFixtures.amqp("add")
                .withBody(("[[" + digits + "], {}, {}]").getBytes(StandardCharsets.UTF_8)));
    assertEquals(new BigInteger(digits), m.args().get(0));
    // one digit more and Python refuses it too (ValueError: int_max_str_digits)
    assertThrows(
        UndecodableBodyException.class,
        () ->
            decoder.decode(
                DeliveryFixtures.amqp("add")
                    .withBody(("[[" + digits + "7], {}, {}]").getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void bigIntegersNanAndInfinitySurvive() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("bignum_nan"));
    assertEquals(3, m.args().size());
    BigInteger big = assertInstanceOf(BigInteger.class, m.args().get(0));
    assertEquals(new BigInteger("1180591620717411303424"), big);
    Double nan = assertInstanceOf(Double.class, m.args().get(1));
    assertTrue(nan.isNaN());
    Double inf = assertInstanceOf(Double.class, m.args().get(2));
    assertEquals(Double.POSITIVE_INFINITY, inf);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unicode")
  void unicodeStringIsExact(String transport, String name) throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.load(transport, name));
    assertEquals(List.of("h\u00e9llo w\u00f6rld \u2713"), m.args());
    assertEquals("('h\u00e9llo w\u00f6rld \u2713',)", m.argsrepr());
  }

  @Test
  void specialTypesArriveAsTheStringsCelerySends() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("special_types"));
    assertEquals("2024-01-02T03:04:05Z", m.args().get(0));
    assertEquals("2024-01-02T00:00:00", m.args().get(1));
    assertEquals("12345678-1234-5678-1234-567812345678", m.args().get(2));
    assertEquals("1.10", m.args().get(3));
    assertEquals(Map.of("t", "01:02:03"), m.kwargs());
    for (Object a : m.args()) {
      assertInstanceOf(String.class, a);
    }
  }

  @Test
  void chainIsKeptInReceivedOrder() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("chain"));
    List<?> chain = assertInstanceOf(List.class, m.embed().get("chain"));
    assertEquals(2, chain.size());
    Map<?, ?> first = assertInstanceOf(Map.class, chain.get(0));
    Map<?, ?> last = assertInstanceOf(Map.class, chain.get(1));
    // reversed by the client: the final step first, the next step last
    assertEquals("examples.add", first.get("task"));
    assertEquals(List.of(5), first.get("args"));
    assertEquals("examples.mul", last.get("task"));
    assertEquals(List.of(10), last.get("args"));
    assertEquals(
        "4416886b-d18c-4a43-a9b7-19a8951f37ca", ((Map<?, ?>) last.get("options")).get("task_id"));
    assertEquals(Boolean.FALSE, last.get("immutable"));
    assertNull(m.embed().get("callbacks"));
    assertNull(m.embed().get("errbacks"));
    assertNull(m.embed().get("chord"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("link")
  void linkAndLinkErrorAreKept(String transport, String name) throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.load(transport, name));
    List<?> callbacks = assertInstanceOf(List.class, m.embed().get("callbacks"));
    List<?> errbacks = assertInstanceOf(List.class, m.embed().get("errbacks"));
    assertEquals(1, callbacks.size());
    assertEquals(1, errbacks.size());
    Map<?, ?> cb = assertInstanceOf(Map.class, callbacks.get(0));
    Map<?, ?> eb = assertInstanceOf(Map.class, errbacks.get(0));
    assertEquals("examples.mul", cb.get("task"));
    assertEquals(List.of(10), cb.get("args"));
    assertEquals(Map.of(), cb.get("kwargs"));
    assertEquals(Boolean.FALSE, cb.get("immutable"));
    assertEquals("examples.noop", eb.get("task"));
    assertEquals(Boolean.TRUE, eb.get("immutable"));
    assertNull(m.embed().get("chain"));
    assertNull(m.embed().get("chord"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("chord")
  void chordBodyAndGroupAreKept(String transport, String name) throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.load(transport, name));
    Map<?, ?> chord = assertInstanceOf(Map.class, m.embed().get("chord"));
    assertEquals("examples.xsum", chord.get("task"));
    assertEquals(List.of(), chord.get("args"));
    assertNotNull(((Map<?, ?>) chord.get("options")).get("task_id"));
    assertEquals(DeliveryFixtures.headers(transport, name).get("group"), m.group());
    assertNotNull(m.group());
    assertEquals(0, ((Number) m.groupIndex()).intValue());
  }

  @Test
  void groupMemberHasGroupButNoIndex() throws Exception {
    TaskMessage m = decoder.decode(DeliveryFixtures.amqp("group"));
    assertEquals("9e23d82a-c7fd-4146-a56f-007dd2bcca51", m.group());
    assertNull(m.groupIndex());
  }

  @Test
  void ignoreResultHeaderIsHonoured() throws Exception {
    assertTrue(decoder.decode(DeliveryFixtures.amqp("ignore_result")).ignoreResult());
    assertFalse(decoder.decode(DeliveryFixtures.amqp("add")).ignoreResult());
  }

  @Test
  void shadowChangesOnlyTheDisplayName() throws Exception {
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("shadow", "pretty.name");
    TaskMessage m =
        decoder.decode(
            DeliveryFixtures.withBody(
                DeliveryFixtures.amqp("add").body(), "application/json", headers));
    assertEquals("examples.add", m.task());
    assertEquals("pretty.name", m.displayName());
  }

  // ---- negative cases -------------------------------------------------------------------------

  @Test
  void pickleContentTypeIsRejected() {
    Delivery d =
        DeliveryFixtures.withBody(
            DeliveryFixtures.amqp("add").body(), "application/x-python-serialize", null);
    InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
    assertTrue(e.getMessage().contains("application/x-python-serialize"), e.getMessage());
  }

  @Test
  void acceptListCanBeWidened() throws Exception {
    Delivery d =
        DeliveryFixtures.withBody(DeliveryFixtures.amqp("add").body(), "application/x-yaml", null);
    assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
    // JSON text under another accepted type name is still decoded as JSON
    assertEquals(
        List.of(2, 2),
        new MessageDecoder(Set.of("application/json", "application/x-yaml")).decode(d).args());
  }

  @Test
  void brokenJsonIsUndecodable() {
    Delivery d =
        DeliveryFixtures.withBody(
            "not json{".getBytes(StandardCharsets.UTF_8), "application/json", null);
    assertThrows(UndecodableBodyException.class, () -> decoder.decode(d));
  }

  @Test
  void unsupportedCompressionIsUndecodable() {
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("compression", "application/x-bz2");
    Delivery d = DeliveryFixtures.withBody(new byte[] {1, 2, 3}, "application/json", headers);
    assertThrows(UndecodableBodyException.class, () -> decoder.decode(d));
  }

  @ParameterizedTest
  @ValueSource(strings = {"[[1, 2], {}, {}]", "{\"args\": [1]}", "[1, 2, 3]", "\"text\"", "42"})
  void bodyWithoutTaskHeaderAndNotV1IsInvalid(String body) {
    Delivery d =
        DeliveryFixtures.withBody(
            body.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
    assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"task\": \"examples.add\"}", "\"hello\"", "[[1, 2]]", "7", "[]"})
  void v2BodyThatIsNotATripleIsInvalid(String body) {
    Delivery d =
        DeliveryFixtures.withBody(body.getBytes(StandardCharsets.UTF_8), "application/json", null);
    assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
  }

  @Test
  void v2ArgsThatAreNotAListOrKwargsNotAMappingAreInvalid() {
    Delivery a =
        DeliveryFixtures.withBody(
            "[{\"x\": 1}, {}, {}]".getBytes(StandardCharsets.UTF_8), "application/json", null);
    Delivery k =
        DeliveryFixtures.withBody(
            "[[1], [2], {}]".getBytes(StandardCharsets.UTF_8), "application/json", null);
    assertThrows(InvalidTaskException.class, () -> decoder.decode(a));
    assertThrows(InvalidTaskException.class, () -> decoder.decode(k));
  }

  @Test
  void v1KwargsThatAreNotAMappingAreInvalid() {
    String body = "{\"task\": \"examples.add\", \"id\": \"x\", \"args\": [], \"kwargs\": [1]}";
    Delivery d =
        DeliveryFixtures.withBody(
            body.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
    assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
  }

  @ParameterizedTest
  @ValueSource(strings = {"eta", "expires"})
  void unparseableEtaOrExpiresIsInvalid(String key) {
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put(key, "next tuesday");
    Delivery d =
        DeliveryFixtures.withBody(DeliveryFixtures.amqp("add").body(), "application/json", headers);
    InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }

  @Test
  void messageWithoutIdIsInvalid() {
    Map<String, Object> headers = new LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.remove("id");
    Delivery d =
        DeliveryFixtures.withBody(DeliveryFixtures.amqp("add").body(), "application/json", headers);
    assertThrows(InvalidTaskException.class, () -> decoder.decode(d));
  }
}
