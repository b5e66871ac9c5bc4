package io.celerity.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Documents compared with the ones a Celery 5.2.6 worker wrote (docs/wire-protocol.md §4.2). */
class ResultDocumentsTest {

  private static Map<String, Object> extended(
      String name,
      List<Object> args,
      Map<String, Object> kwargs,
      String worker,
      Integer retries,
      String queue) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("args", args);
    m.put("kwargs", kwargs);
    m.put("worker", worker);
    m.put("retries", retries);
    m.put("queue", queue);
    return m;
  }

  /** Asserts same keys in the same order and the same JSON values. */
  @SuppressWarnings("unchecked")
  private static void assertDocument(String celeryJson, Map<String, Object> doc) throws Exception {
    Map<String, Object> expected = (Map<String, Object>) Json.parse(celeryJson);
    assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(doc.keySet()));
    assertEquals(expected, Json.parse(Json.encode(doc)));
  }

  @Test
  void successWithoutExtended() throws Exception {
    TaskResult r =
        TaskResult.builder("22f8a9ed-049f-4beb-a21e-06077fc107bd", "SUCCESS")
            .result(7)
            .dateDone(Instant.parse("2026-11-23T19:49:18.845378Z"))
            .replyTo("reply", "22f8a9ed-049f-4beb-a21e-06077fc107bd")
            .build();
    assertDocument(
        "{\"status\": \"SUCCESS\", \"result\": 7, \"traceback\": null, \"children\": [],"
            + " \"date_done\": \"2026-11-23T19:49:18.845378\", \"task_id\": \"22f8a9ed-049f-4beb-a21e-06077fc107bd\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void timeLimitFailureWithoutExtended() throws Exception {
    TaskResult r =
        TaskResult.builder("db6988e9-2ffd-4667-be53-e8076cadfa57", "FAILURE")
            .result(ExceptionInfo.timeLimitExceeded(1).toResult())
            .dateDone(Instant.parse("2026-11-23T19:49:15.218624Z"))
            .build();
    assertDocument(
        "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": \"TimeLimitExceeded\", \"exc_message\": [1],"
            + " \"exc_module\": \"billiard.exceptions\"}, \"traceback\": null, \"children\": [],"
            + " \"date_done\": \"2026-11-23T19:49:15.218624\", \"task_id\": \"db6988e9-2ffd-4667-be53-e8076cadfa57\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void startedWithExtendedHasNullDateDone() throws Exception {
    Map<String, Object> started = new LinkedHashMap<>();
    started.put("pid", 10010);
    started.put("hostname", "w1@vm");
    TaskResult r =
        TaskResult.builder("09d231b4-8ce6-42b9-9fc7-74565b271850", "STARTED")
            .result(started)
            .extended(extended("protoapp.add", List.of(2, 2), Map.of(), "w1@vm", 0, "celery"))
            .build();
    assertDocument(
        "{\"status\": \"STARTED\", \"result\": {\"pid\": 10010, \"hostname\": \"w1@vm\"}, \"traceback\": null,"
            + " \"children\": [], \"date_done\": null, \"name\": \"protoapp.add\", \"args\": [2, 2], \"kwargs\": {},"
            + " \"worker\": \"w1@vm\", \"retries\": 0, \"queue\": \"celery\", \"task_id\": \"09d231b4-8ce6-42b9-9fc7-74565b271850\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void failureWithExtendedAndTraceback() throws Exception {
    String tb = "Traceback (most recent call last):\nValueError: kaboom\n";
    TaskResult r =
        TaskResult.builder("18142264-188d-41f3-a2cf-b9e56390ffa6", "FAILURE")
            .result(ExceptionInfo.of("builtins", "ValueError", "kaboom").toResult())
            .traceback(tb)
            .dateDone(Instant.parse("2026-11-23T19:43:56.562216Z"))
            .extended(extended("protoapp.boom", List.of("kaboom"), Map.of(), "w1@vm", 0, "celery"))
            .build();
    assertDocument(
        "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": \"ValueError\", \"exc_message\": [\"kaboom\"],"
            + " \"exc_module\": \"builtins\"}, \"traceback\": \"Traceback (most recent call last):\\nValueError: kaboom\\n\","
            + " \"children\": [], \"date_done\": \"2026-11-23T19:43:56.562216\", \"name\": \"protoapp.boom\", \"args\": [\"kaboom\"],"
            + " \"kwargs\": {}, \"worker\": \"w1@vm\", \"retries\": 0, \"queue\": \"celery\","
            + " \"task_id\": \"18142264-188d-41f3-a2cf-b9e56390ffa6\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void groupIdComesBeforeExtendedFields() throws Exception {
    TaskResult r =
        TaskResult.builder("b7e3d2b3-5523-47cf-bfef-167acbbfd167", "SUCCESS")
            .result(2)
            .dateDone(Instant.parse("2026-11-23T19:44:02.369346Z"))
            .groupId("0baaedad-4572-4a24-940a-2de41ded1eb0")
            .extended(extended("protoapp.add", List.of(1, 1), Map.of(), "w1@vm", 0, "celery"))
            .build();
    assertDocument(
        "{\"status\": \"SUCCESS\", \"result\": 2, \"traceback\": null, \"children\": [],"
            + " \"date_done\": \"2026-11-23T19:44:02.369346\", \"group_id\": \"0baaedad-4572-4a24-940a-2de41ded1eb0\","
            + " \"name\": \"protoapp.add\", \"args\": [1, 1], \"kwargs\": {}, \"worker\": \"w1@vm\", \"retries\": 0,"
            + " \"queue\": \"celery\", \"task_id\": \"b7e3d2b3-5523-47cf-bfef-167acbbfd167\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void groupIdThenParentIdWithoutExtended() {
    TaskResult r =
        TaskResult.builder("t", "SUCCESS")
            .result(1)
            .dateDone(Instant.parse("2026-01-01T00:00:00Z"))
            .groupId("g")
            .parentId("p")
            .build();
    Map<String, Object> doc = ResultDocuments.keyValueDocument(r);
    assertEquals(
        List.of(
            "status",
            "result",
            "traceback",
            "children",
            "date_done",
            "group_id",
            "parent_id",
            "task_id"),
        new ArrayList<>(doc.keySet()));
    assertEquals("g", doc.get("group_id"));
    assertEquals("p", doc.get("parent_id"));
  }

  @Test
  void childrenAreWrittenAsGiven() throws Exception {
    List<Object> children =
        List.of(
            java.util.Arrays.asList(
                java.util.Arrays.asList("92373e83-fc16-4058-b3c5-30dc86745570", null), null));
    TaskResult r =
        TaskResult.builder("6e965003-021a-45ac-a187-8c5c04b8d5a2", "SUCCESS")
            .result(3)
            .children(children)
            .dateDone(Instant.parse("2026-11-23T19:43:56.778986Z"))
            .build();
    assertDocument(
        "{\"status\": \"SUCCESS\", \"result\": 3, \"traceback\": null,"
            + " \"children\": [[[\"92373e83-fc16-4058-b3c5-30dc86745570\", null], null]],"
            + " \"date_done\": \"2026-11-23T19:43:56.778986\", \"task_id\": \"6e965003-021a-45ac-a187-8c5c04b8d5a2\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void notRegisteredWithExtendedNulls() throws Exception {
    TaskResult r =
        TaskResult.builder("395d9908-2670-4f18-a8e1-674f47d76e91", "FAILURE")
            .result(ExceptionInfo.notRegistered("protoapp.nope").toResult())
            .dateDone(Instant.parse("2026-11-23T19:44:18.385160Z"))
            .extended(extended(null, null, null, null, null, null))
            .build();
    assertDocument(
        "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": \"NotRegistered\", \"exc_message\": [\"protoapp.nope\"],"
            + " \"exc_module\": \"celery.exceptions\"}, \"traceback\": null, \"children\": [],"
            + " \"date_done\": \"2026-11-23T19:44:18.385160\", \"name\": null, \"args\": null, \"kwargs\": null, \"worker\": null,"
            + " \"retries\": null, \"queue\": null, \"task_id\": \"395d9908-2670-4f18-a8e1-674f47d76e91\"}",
        ResultDocuments.keyValueDocument(r));
  }

  @Test
  void dateDoneIsNaiveWithSixDigits() {
    TaskResult whole =
        TaskResult.builder("t", "SUCCESS")
            .result(1)
            .dateDone(Instant.parse("2026-11-23T19:43:56Z"))
            .build();
    assertEquals(
        "2026-11-23T19:43:56.000000", ResultDocuments.keyValueDocument(whole).get("date_done"));
    TaskResult nanos =
        TaskResult.builder("t", "SUCCESS")
            .result(1)
            .dateDone(Instant.parse("2026-11-23T19:43:56.123456789Z"))
            .build();
    assertEquals(
        "2026-11-23T19:43:56.123456", ResultDocuments.keyValueDocument(nanos).get("date_done"));
  }

  @Test
  void extendedFieldsOnlyWhenGivenAndNullChildrenBecomeEmpty() {
    Map<String, Object> doc =
        ResultDocuments.keyValueDocument(
            TaskResult.builder("t", "SUCCESS")
                .dateDone(Instant.parse("2026-11-23T19:43:56Z"))
                .build());
    for (String k :
        List.of("name", "args", "kwargs", "worker", "retries", "queue", "group_id", "parent_id")) {
      assertFalse(doc.containsKey(k), k);
    }
    assertEquals(List.of(), doc.get("children"));
    assertEquals("t", doc.get("task_id"));
  }
}
