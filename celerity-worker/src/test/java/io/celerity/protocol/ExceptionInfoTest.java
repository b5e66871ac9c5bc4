package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.task.TaskError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExceptionInfoTest {

  /** A user's own exception type, nested like {@code Outer.Inner} in Python. */
  static class PaymentDeclined extends RuntimeException {
    PaymentDeclined(String message) {
      super(message);
    }
  }

  @Test
  void taskErrorKeepsItsPythonTypeAndModule() {
    ExceptionInfo e = ExceptionInfo.from(TaskError.valueError("bad input"));
    assertEquals("ValueError", e.type());
    assertEquals("builtins", e.module());
    assertEquals(List.of("bad input"), e.args());
    assertNotNull(e.traceback());
    assertTrue(e.traceback().contains("TaskError"), e.traceback());
  }

  @Test
  void customTaskErrorWithSeveralArgs() {
    ExceptionInfo e = ExceptionInfo.from(new TaskError("myapp.errors", "Conflict", "order", 42));
    assertEquals("Conflict", e.type());
    assertEquals("myapp.errors", e.module());
    assertEquals(List.of("order", 42), e.args());
  }

  @Test
  void illegalArgumentBecomesValueError() {
    ExceptionInfo e = ExceptionInfo.from(new IllegalArgumentException("negative amount"));
    assertEquals("ValueError", e.type());
    assertEquals("builtins", e.module());
    assertEquals(List.of("negative amount"), e.args());
  }

  @Test
  void integerDivisionByZeroBecomesZeroDivisionError() {
    ArithmeticException thrown = null;
    try {
      int zero = 0;
      System.out.println(1 / zero);
    } catch (ArithmeticException ex) {
      thrown = ex;
    }
    assertNotNull(thrown);
    ExceptionInfo e = ExceptionInfo.from(thrown);
    assertEquals("ZeroDivisionError", e.type());
    assertEquals("builtins", e.module());
    assertEquals(List.of("/ by zero"), e.args());
  }

  @Test
  void otherArithmeticErrorIsArithmeticError() {
    assertEquals("ArithmeticError", ExceptionInfo.from(new ArithmeticException("overflow")).type());
  }

  @Test
  void commonJavaExceptionsMapToPythonBuiltins() {
    assertEquals("TypeError", ExceptionInfo.from(new ClassCastException("x")).type());
    assertEquals("IndexError", ExceptionInfo.from(new IndexOutOfBoundsException("3")).type());
    assertEquals("KeyError", ExceptionInfo.from(new java.util.NoSuchElementException("k")).type());
    assertEquals(
        "NotImplementedError", ExceptionInfo.from(new UnsupportedOperationException()).type());
    assertEquals("ValueError", ExceptionInfo.from(new NumberFormatException("abc")).type());
  }

  @Test
  void customNestedExceptionKeepsItsJavaNameAndPackage() {
    ExceptionInfo e = ExceptionInfo.from(new PaymentDeclined("card expired"));
    assertEquals("ExceptionInfoTest.PaymentDeclined", e.type());
    assertEquals("io.celerity.protocol", e.module());
    assertEquals(List.of("card expired"), e.args());
  }

  @Test
  void unmappedJdkExceptionUsesItsJavaName() {
    ExceptionInfo e = ExceptionInfo.from(new IllegalStateException("from java"));
    assertEquals("IllegalStateException", e.type());
    assertEquals("java.lang", e.module());
    assertEquals(List.of("from java"), e.args());
  }

  @Test
  void exceptionWithoutMessageHasNoArgs() {
    ExceptionInfo e = ExceptionInfo.from(new IllegalStateException());
    assertEquals(List.of(), e.args());
    assertEquals("IllegalStateException()", e.repr());
  }

  @Test
  void toResultHasCeleryShapeAndKeyOrder() {
    Map<String, Object> r = ExceptionInfo.from(TaskError.valueError("kaboom")).toResult();
    assertEquals(List.of("exc_type", "exc_message", "exc_module"), new ArrayList<>(r.keySet()));
    assertEquals("ValueError", r.get("exc_type"));
    assertEquals(List.of("kaboom"), r.get("exc_message"));
    assertEquals("builtins", r.get("exc_module"));
    // serialises like Celery's captured FAILURE result
    assertEquals(
        "{\"exc_type\":\"ValueError\",\"exc_message\":[\"kaboom\"],\"exc_module\":\"builtins\"}",
        Json.encodeToString(r));
  }

  @Test
  void celeryExceptionsHaveTheirCapturedEncoding() {
    assertEquals(
        Map.of(
            "exc_type",
            "NotRegistered",
            "exc_message",
            List.of("protoapp.nope"),
            "exc_module",
            "celery.exceptions"),
        ExceptionInfo.notRegistered("protoapp.nope").toResult());
    assertEquals(
        Map.of(
            "exc_type",
            "TaskRevokedError",
            "exc_message",
            List.of("expired"),
            "exc_module",
            "celery.exceptions"),
        ExceptionInfo.revoked("expired").toResult());
    // whole-second limits are written as integers: exc_message [1], not [1.0]
    assertEquals(
        "{\"exc_type\":\"TimeLimitExceeded\",\"exc_message\":[1],\"exc_module\":\"billiard.exceptions\"}",
        Json.encodeToString(ExceptionInfo.timeLimitExceeded(1.0).toResult()));
    assertEquals(List.of(2.5), ExceptionInfo.timeLimitExceeded(2.5).toResult().get("exc_message"));
    ExceptionInfo soft = ExceptionInfo.softTimeLimitExceeded();
    assertEquals(
        Map.of(
            "exc_type",
            "SoftTimeLimitExceeded",
            "exc_message",
            List.of(),
            "exc_module",
            "billiard.exceptions"),
        soft.toResult());
    assertNull(soft.traceback());
  }

  @Test
  void reprLooksLikePython() {
    assertEquals("ValueError('boom')", ExceptionInfo.from(TaskError.valueError("boom")).repr());
    assertEquals(
        "NotRegistered('protoapp.nope')", ExceptionInfo.notRegistered("protoapp.nope").repr());
    assertEquals("SoftTimeLimitExceeded()", ExceptionInfo.softTimeLimitExceeded().repr());
    assertEquals("TimeLimitExceeded(60)", ExceptionInfo.timeLimitExceeded(60).repr());
    assertEquals("Conflict('order', 42)", ExceptionInfo.of("m", "Conflict", "order", 42).repr());
    // Celery's Reject(reason, requeue) as a Python child reports it
    assertEquals(
        "Reject('no thanks', False)",
        ExceptionInfo.of("celery.exceptions", "Reject", "no thanks", false).repr());
    assertEquals(
        "Ignore(None, [1, 'a'])",
        ExceptionInfo.of("celery.exceptions", "Ignore", null, java.util.List.of(1, "a")).repr());
  }
}
