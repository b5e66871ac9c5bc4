package io.celerity.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.examples.ExampleTasks;
import io.celerity.protocol.Json;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskRegistryTest {

  // ---- task classes used by the tests
  // ------------------------------------------------------------

  public record Point(int x, int y) {}

  public static class KindsTasks {
    @Task(name = "t.kinds")
    public static String kinds(long n, Number x, String s, boolean b, double d) {
      return n + " " + x.getClass().getSimpleName() + ":" + x + " " + s + " " + b + " " + d;
    }
  }

  public static class StaticTasks {
    @Task(name = "t.add")
    public static int add(int x, int y) {
      return x + y;
    }

    @Task(name = "t.greet")
    public static String greet(TaskContext ctx, String greeting) {
      return greeting + " from " + ctx.id() + " retry " + ctx.retries();
    }

    @Task(name = "t.sum")
    public static int sum(List<Integer> numbers) {
      int total = 0;
      for (int n : numbers) { // fails with ClassCastException unless elements really are Integer
        total += n;
      }
      return total;
    }

    @Task(name = "t.area")
    public static int area(Point p) {
      return p.x() * p.y();
    }

    @Task(name = "t.lenientArea", ignoreUnknownFields = true)
    public static int lenientArea(Point p) {
      return p.x() * p.y();
    }

    @Task(name = "t.perimeter")
    public static int perimeter(List<Point> corners) {
      return corners.size();
    }

    @Task(
        name = "t.options",
        acksLate = true,
        trackStarted = true,
        ignoreResult = true,
        timeLimit = 30,
        softTimeLimit = 20)
    public static void withOptions() {}

    @Task
    public static String unnamed() {
      return "ok";
    }

    public static int notATask() {
      return 0;
    }
  }

  public static class InstanceTasks {
    private final int base = 100;

    @Task(name = "i.plus")
    public int plus(int x) {
      return base + x;
    }
  }

  public static class Module implements TaskModule {
    @Override
    public void register(TaskRegistry registry) {
      registry.register("m.one", ctx -> 1);
      registry.register("m.two", TaskOptions.DEFAULTS.withAcksLate(true), ctx -> 2);
    }
  }

  /** A minimal running request. */
  record Ctx(String id, String taskName, int retries, List<Object> args, Map<String, Object> kwargs)
      implements TaskContext {
    Ctx(String taskName, List<Object> args, Map<String, Object> kwargs) {
      this("id-1", taskName, 0, args, kwargs);
    }

    @Override
    public String rootId() {
      return id;
    }

    @Override
    public String parentId() {
      return null;
    }

    @Override
    public String group() {
      return null;
    }

    @Override
    public String hostname() {
      return "celery@test";
    }

    @Override
    public Map<String, Object> headers() {
      return Map.of();
    }

    @Override
    public boolean softTimeLimitExceeded() {
      return false;
    }

    @Override
    public Retry retry(
        Throwable exc,
        Double countdown,
        Integer maxRetries,
        List<Object> args,
        Map<String, Object> kwargs) {
      throw new UnsupportedOperationException("not used here");
    }
  }

  private final TaskRegistry registry =
      new TaskRegistry()
          .registerAnnotated(StaticTasks.class)
          .registerAnnotated(InstanceTasks.class)
          .registerAnnotated(KindsTasks.class);

  private Object run(String name, List<Object> args, Map<String, Object> kwargs) throws Exception {
    TaskDefinition def = registry.get(name);
    assertNotNull(def, name + " not registered");
    return def.function().run(new Ctx(name, args, kwargs));
  }

  private TaskError runFails(String name, List<Object> args, Map<String, Object> kwargs) {
    return assertThrows(TaskError.class, () -> run(name, args, kwargs));
  }

  // ---- binding
  // ------------------------------------------------------------------------------------

  @Test
  void staticMethodBoundByPosition() throws Exception {
    assertEquals(5, run("t.add", List.of(2, 3), Map.of()));
  }

  @Test
  void staticMethodBoundByKeywordName() throws Exception {
    assertEquals(5, run("t.add", List.of(), Map.of("x", 2, "y", 3)));
    assertEquals(7, run("t.add", List.of(), Map.of("y", 3, "x", 4)));
  }

  @Test
  void positionalThenKeyword() throws Exception {
    assertEquals(12, run("t.add", List.of(10), Map.of("y", 2)));
  }

  @Test
  void instanceMethodIsCalledOnANewInstance() throws Exception {
    assertEquals(105, run("i.plus", List.of(5), Map.of()));
    assertEquals(107, run("i.plus", List.of(), Map.of("x", 7)));
  }

  @Test
  void taskContextIsInjectedAndDoesNotConsumeAnArgument() throws Exception {
    assertEquals("hi from id-1 retry 0", run("t.greet", List.of("hi"), Map.of()));
    assertEquals("yo from id-1 retry 0", run("t.greet", List.of(), Map.of("greeting", "yo")));
  }

  @Test
  void missingArgumentIsTypeError() {
    TaskError e = runFails("t.add", List.of(2), Map.of());
    assertEquals("TypeError", e.excType());
    assertEquals("builtins", e.excModule());
    assertTrue(e.getMessage().contains("'y'"), e.getMessage());
  }

  @Test
  void tooManyPositionalArgumentsIsTypeError() {
    TaskError e = runFails("t.add", List.of(1, 2, 3), Map.of());
    assertEquals("TypeError", e.excType());
    assertTrue(e.getMessage().contains("3"), e.getMessage());
  }

  /**
   * Python: {@code add(1, 2, z=9)} raises {@code TypeError: add() got an unexpected keyword
   * argument 'z'}.
   */
  @Test
  void unexpectedKeywordIsTypeError() {
    TaskError e = runFails("t.add", List.of(1, 2), Map.of("z", 9));
    assertEquals("TypeError", e.excType());
    assertEquals(List.of("t.add() got an unexpected keyword argument 'z'"), e.excArgs());
    // Python reports the unknown keyword before a missing argument
    assertEquals(
        List.of("t.add() got an unexpected keyword argument 'z'"),
        runFails("t.add", List.of(), Map.of("z", 9)).excArgs());
  }

  /**
   * Python: {@code add(1, 2, x=5)} raises {@code TypeError: add() got multiple values for argument
   * 'x'}.
   */
  @Test
  void keywordRepeatingAPositionalIsTypeError() {
    TaskError e = runFails("t.add", List.of(1, 2), Map.of("x", 5));
    assertEquals("TypeError", e.excType());
    assertEquals(List.of("t.add() got multiple values for argument 'x'"), e.excArgs());
  }

  @Test
  void unconvertibleArgumentIsTypeError() {
    assertEquals("TypeError", runFails("t.add", List.of("two", 3), Map.of()).excType());
  }

  @Test
  void genericListParameterIsConverted() throws Exception {
    assertEquals(6, run("t.sum", List.of(List.of(1, 2, 3)), Map.of()));
    // JSON longs are narrowed to Integer elements, not left as Long
    assertEquals(6, run("t.sum", List.of(List.of(1L, 2L, 3L)), Map.of()));
  }

  @Test
  void recordParameterIsBuiltFromAJsonObject() throws Exception {
    Object decoded = Json.parse("{\"x\": 4, \"y\": 5}");
    assertEquals(20, run("t.area", List.of(decoded), Map.of()));
    assertEquals(6, run("t.area", List.of(), Map.of("p", Map.of("x", 2, "y", 3))));
  }

  /**
   * As Python's {@code Point(**{"x": 4, "y": 5, "z": 1})}: {@code TypeError: Point.__init__() got
   * an unexpected keyword argument 'z'}.
   */
  @Test
  void objectArgumentWithAnUnknownFieldIsTypeError() throws Exception {
    Object decoded = Json.parse("{\"x\": 4, \"y\": 5, \"z\": 1}");
    TaskError e = runFails("t.area", List.of(decoded), Map.of());
    assertEquals("TypeError", e.excType());
    assertEquals(List.of("Point.__init__() got an unexpected keyword argument 'z'"), e.excArgs());
    // also inside a list
    TaskError nested =
        runFails(
            "t.perimeter",
            List.of(List.of(Map.of("x", 1, "y", 2), Map.of("x", 1, "y", 2, "w", 0))),
            Map.of());
    assertEquals(
        List.of("Point.__init__() got an unexpected keyword argument 'w'"), nested.excArgs());
    assertEquals(
        2,
        run(
            "t.perimeter",
            List.of(List.of(Map.of("x", 1, "y", 2), Map.of("x", 3, "y", 4))),
            Map.of()));
  }

  @Test
  void aTaskMayOptInToIgnoreUnknownFields() throws Exception {
    assertEquals(
        20, run("t.lenientArea", List.of(Json.parse("{\"x\": 4, \"y\": 5, \"z\": 1}")), Map.of()));
  }

  @Test
  void exceptionsFromTheTaskPropagateUnwrapped() {
    assertThrows(
        TaskError.class,
        () ->
            new TaskRegistry()
                .registerAnnotated(ExampleTasks.class)
                .get("examples.fail")
                .function()
                .run(new Ctx("examples.fail", List.of("x"), Map.of())));
  }

  // ---- naming and options
  // -------------------------------------------------------------------------

  @Test
  void defaultNameIsSimpleClassNameDotMethod() throws Exception {
    assertEquals("ok", run("StaticTasks.unnamed", List.of(), Map.of()));
    assertNull(registry.get("StaticTasks.notATask"));
  }

  @Test
  void annotationOptionsBecomeTaskOptions() {
    TaskOptions o = registry.get("t.options").options();
    assertEquals(Boolean.TRUE, o.acksLate());
    assertEquals(Boolean.TRUE, o.trackStarted());
    assertEquals(Boolean.TRUE, o.ignoreResult());
    assertEquals(30.0, o.timeLimit());
    assertEquals(20.0, o.softTimeLimit());
    // unset annotation values mean "worker default", not false/0
    assertEquals(TaskOptions.DEFAULTS, registry.get("t.add").options());
  }

  @Test
  void voidTaskReturnsNull() throws Exception {
    assertNull(run("t.options", List.of(), Map.of()));
  }

  // ---- lambdas and TaskContext helpers
  // ------------------------------------------------------------

  @Test
  void lambdaRegistrationWithContextHelpers() throws Exception {
    TaskRegistry r = new TaskRegistry();
    r.register(
        "l.f",
        ctx ->
            ctx.arg(0, Integer.class) * 10
                + ctx.param(1, "y", Integer.class)
                + (ctx.kwarg("bonus", Integer.class) == null
                    ? 0
                    : ctx.kwarg("bonus", Integer.class)));
    TaskFunction f = r.get("l.f").function();
    assertEquals(32, f.run(new Ctx("l.f", List.of(3, 2), Map.of())));
    assertEquals(32, f.run(new Ctx("l.f", List.of(3), Map.of("y", 2))));
    assertEquals(132, f.run(new Ctx("l.f", List.of(3), Map.of("y", 2, "bonus", 100))));
    assertEquals(TaskOptions.DEFAULTS, r.get("l.f").options());
  }

  @Test
  void contextHelpersReportMissingArgumentsAsTypeError() {
    Ctx ctx = new Ctx("l.f", List.of(1), Map.of());
    assertEquals(
        "TypeError", assertThrows(TaskError.class, () -> ctx.arg(1, Integer.class)).excType());
    TaskError e = assertThrows(TaskError.class, () -> ctx.param(1, "y", Integer.class));
    assertEquals("TypeError", e.excType());
    assertTrue(e.getMessage().contains("'y'"), e.getMessage());
    assertNull(ctx.kwarg("absent", String.class));
  }

  @Test
  void contextHelpersConvertTypes() {
    Ctx ctx = new Ctx("l.f", List.of(Map.of("x", 1, "y", 2), List.of(1, 2)), Map.of("n", 5));
    assertEquals(new Point(1, 2), ctx.arg(0, Point.class));
    assertEquals(5L, ctx.kwarg("n", Long.class));
    assertEquals("5", ctx.kwarg("n", String.class));
  }

  // ---- loading
  // ------------------------------------------------------------------------------------

  @Test
  void loadAppWithATaskModule() throws Exception {
    TaskRegistry r =
        new TaskRegistry().loadApp(Module.class.getName(), getClass().getClassLoader());
    assertEquals(Set.of("m.one", "m.two"), r.names());
    assertEquals(2, r.get("m.two").function().run(new Ctx("m.two", List.of(), Map.of())));
    assertEquals(Boolean.TRUE, r.get("m.two").options().acksLate());
  }

  @Test
  void loadAppWithAnAnnotatedClass() throws Exception {
    TaskRegistry r =
        new TaskRegistry().loadApp(StaticTasks.class.getName(), getClass().getClassLoader());
    assertEquals(
        Set.of(
            "t.add",
            "t.greet",
            "t.sum",
            "t.area",
            "t.lenientArea",
            "t.perimeter",
            "t.options",
            "StaticTasks.unnamed"),
        r.names());
    assertEquals(9, r.get("t.add").function().run(new Ctx("t.add", List.of(4, 5), Map.of())));
  }

  @Test
  void loadAppOfAMissingClassNamesIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new TaskRegistry().loadApp("com.example.NoSuchTasks", getClass().getClassLoader()));
    assertTrue(e.getMessage().contains("com.example.NoSuchTasks"), e.getMessage());
  }

  @Test
  void namesAreSorted() {
    TaskRegistry r = new TaskRegistry();
    for (String n : List.of("zeta", "alpha", "mid.b", "mid.a")) {
      r.register(n, ctx -> null);
    }
    assertEquals(List.of("alpha", "mid.a", "mid.b", "zeta"), new ArrayList<>(r.names()));
  }

  @Test
  void registeringTheSameNameReplacesTheTask() throws Exception {
    TaskRegistry r = new TaskRegistry().register("x", ctx -> 1).register("x", ctx -> 2);
    assertEquals(Set.of("x"), r.names());
    assertEquals(2, r.get("x").function().run(new Ctx("x", List.of(), Map.of())));
  }

  // ---- the example tasks
  // --------------------------------------------------------------------------

  private static Object example(String name, Object... args) throws Exception {
    TaskRegistry r =
        new TaskRegistry()
            .loadApp(ExampleTasks.class.getName(), TaskRegistryTest.class.getClassLoader());
    TaskDefinition def = r.get("examples." + name);
    assertNotNull(def, "examples." + name);
    return def.function().run(new Ctx("examples." + name, java.util.Arrays.asList(args), Map.of()));
  }

  @Test
  void exampleTaskNames() {
    TaskRegistry r = new TaskRegistry();
    new ExampleTasks().register(r);
    assertEquals(
        List.of(
            "examples.add",
            "examples.echo",
            "examples.fail",
            "examples.mul",
            "examples.noop",
            "examples.replace_with",
            "examples.retry_until",
            "examples.sleep",
            "examples.xsum"),
        new ArrayList<>(r.names()));
  }

  @Test
  void exampleAddOfIntegersIsALong() throws Exception {
    assertEquals(4L, assertInstanceOf(Long.class, example("add", 2, 2)));
  }

  @Test
  void exampleAddWithAFloatIsAFloat() throws Exception {
    assertEquals(3.5, assertInstanceOf(Double.class, example("add", 2.5, 1)));
  }

  @Test
  void exampleAddStaysExactBeyond64Bits() throws Exception {
    List<?> args = (List<?>) Json.parse("[1180591620717411303424, 1]");
    Object r = example("add", args.toArray());
    assertEquals(BigInteger.TWO.pow(70).add(BigInteger.ONE), assertInstanceOf(BigInteger.class, r));
    assertEquals("1180591620717411303425", Json.encodeToString(r));
  }

  @Test
  void exampleAddOverflowingLongBecomesBigInteger() throws Exception {
    assertEquals(BigInteger.TWO.pow(63), example("add", Long.MAX_VALUE, 1));
  }

  @Test
  void exampleMul() throws Exception {
    assertEquals(30L, example("mul", 3, 10));
    assertEquals(5.0, example("mul", 2.5, 2));
    assertEquals(
        BigInteger.TWO.pow(70), example("mul", BigInteger.TWO.pow(35), BigInteger.TWO.pow(35)));
  }

  @Test
  void exampleXsum() throws Exception {
    assertEquals(6L, example("xsum", List.of(1, 2, 3)));
    assertEquals(0L, example("xsum", List.of()));
    assertEquals(3.5, example("xsum", List.of(1, 2.5)));
  }

  @Test
  void exampleEchoReturnsItsArgument() throws Exception {
    assertEquals("h\u00e9llo", example("echo", "h\u00e9llo"));
    assertEquals(Map.of("a", List.of(1, 2)), example("echo", Map.of("a", List.of(1, 2))));
    assertNull(example("echo", (Object) null));
  }

  @Test
  void exampleFailRaisesValueErrorWithTheMessage() {
    TaskError e = assertThrows(TaskError.class, () -> example("fail", "kaboom"));
    assertEquals("ValueError", e.excType());
    assertEquals("builtins", e.excModule());
    assertEquals(List.of("kaboom"), e.excArgs());
    assertEquals("kaboom", e.getMessage());
  }

  @Test
  void exampleNoopReturnsNull() throws Exception {
    assertNull(example("noop"));
  }

  @Test
  void argumentsAlreadyOfTheParameterTypeBindAsTheConversionWould() throws Exception {
    // decoded JSON values pass as they are; others still go through the conversion
    assertEquals(
        "7 Integer:2 s true 1.5", run("t.kinds", List.of(7L, 2, "s", true, 1.5), Map.of()));
    assertEquals(
        "7 Long:9000000000 s false 2.0",
        run("t.kinds", List.of(7, 9_000_000_000L, "s", false, 2), Map.of()));
    assertEquals("7 Double:0.5 1 true 3.0", run("t.kinds", List.of(7, 0.5, 1, true, 3L), Map.of()));
    TaskError e = runFails("t.add", List.of(9_000_000_000L, 1), Map.of());
    assertEquals("TypeError", e.excType());
  }
}
