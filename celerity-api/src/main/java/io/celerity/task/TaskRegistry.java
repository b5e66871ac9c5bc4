package io.celerity.task;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.celerity.protocol.Json;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The worker's task registry (Celery's {@code app.tasks}). Thread-safe; the consumer reads it on
 * every message.
 */
public class TaskRegistry {

  private final Map<String, TaskDefinition> tasks = new ConcurrentHashMap<>();

  public TaskRegistry register(String name, TaskFunction function) {
    return register(name, TaskOptions.DEFAULTS, function);
  }

  public TaskRegistry register(String name, TaskOptions options, TaskFunction function) {
    tasks.put(name, new TaskDefinition(name, options, function));
    return this;
  }

  /**
   * Registers a task whose body returns an {@code io.vertx.core.Future} or a {@link
   * java.util.concurrent.CompletionStage} (its result when it completes): it runs on an event loop
   * of the worker and holds no thread while it waits (docs/tasks.md, "Async tasks").
   */
  public TaskRegistry registerAsync(String name, TaskOptions options, TaskFunction function) {
    tasks.put(name, new TaskDefinition(name, options, function, true));
    return this;
  }

  /** True when some registered task is async (the consumer's prefetch window grows for them). */
  public boolean hasAsync() {
    return tasks.values().stream().anyMatch(TaskDefinition::async);
  }

  /**
   * Whether a method's declared return type makes it an async task (a Vert.x Future or a
   * CompletionStage).
   */
  static boolean returnsFuture(Method m) {
    Class<?> type = m.getReturnType();
    return java.util.concurrent.CompletionStage.class.isAssignableFrom(type)
        || type.getName().equals("io.vertx.core.Future");
  }

  /**
   * The class whose code a task body is: the declaring class of an annotated method, the class a
   * lambda was written in. Used to name the task seen in the stack of a blocked event loop.
   */
  public static Class<?> origin(TaskFunction function) {
    if (function instanceof MethodTask m) {
      return m.method.getDeclaringClass();
    }
    return function.getClass().getNestHost();
  }

  /**
   * Changes a task's options at run time (remote control {@code rate_limit}, {@code time_limit});
   * false if unknown.
   */
  public boolean updateOptions(String name, java.util.function.UnaryOperator<TaskOptions> change) {
    return tasks.computeIfPresent(
            name,
            (n, d) -> new TaskDefinition(n, change.apply(d.options()), d.function(), d.async()))
        != null;
  }

  public TaskDefinition get(String name) {
    return tasks.get(name);
  }

  /** Registered names, sorted, as the start-up banner and {@code inspect registered} show them. */
  public Set<String> names() {
    return Collections.unmodifiableSet(new TreeMap<>(tasks).keySet());
  }

  /** Loads every {@link TaskModule} listed for {@link ServiceLoader} on the class path. */
  public TaskRegistry loadServiceModules(ClassLoader loader) {
    return loadServiceModules(loader, type -> true);
  }

  /** The service-loader modules whose class {@code wanted} accepts. */
  public TaskRegistry loadServiceModules(
      ClassLoader loader, java.util.function.Predicate<Class<?>> wanted) {
    ServiceLoader.load(TaskModule.class, loader).stream()
        .filter(p -> wanted.test(p.type()))
        .forEach(p -> p.get().register(this));
    return this;
  }

  /**
   * Loads a class named with {@code -A}: a {@link TaskModule}, or a class with {@link Task} methods
   * (static, or instance methods on an instance made with the no-argument constructor).
   */
  public TaskRegistry loadApp(String className, ClassLoader loader) {
    Class<?> c;
    try {
      c = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("app class not found: " + className, e);
    }
    if (TaskModule.class.isAssignableFrom(c)) {
      ((TaskModule) newInstance(c)).register(this);
    }
    return registerAnnotated(c);
  }

  /** Registers every {@link Task}-annotated method of {@code c}. */
  public TaskRegistry registerAnnotated(Class<?> c) {
    Object instance = null;
    for (Method m : c.getMethods()) {
      Task t = m.getAnnotation(Task.class);
      if (t == null) {
        continue;
      }
      if (!Modifier.isStatic(m.getModifiers()) && instance == null) {
        instance = newInstance(c);
      }
      String name = t.name().isEmpty() ? c.getSimpleName() + "." + m.getName() : t.name();
      MethodTask body =
          new MethodTask(
              name,
              Modifier.isStatic(m.getModifiers()) ? null : instance,
              m,
              t.ignoreUnknownFields());
      if (returnsFuture(m)) {
        registerAsync(name, TaskOptions.of(t), body);
      } else {
        register(name, TaskOptions.of(t), body);
      }
    }
    return this;
  }

  private static Object newInstance(Class<?> c) {
    try {
      return c.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(
          "cannot instantiate " + c.getName() + " (a public no-argument constructor is needed)", e);
    }
  }

  /**
   * Reads object arguments refusing fields their class does not have, as Python refuses an unknown
   * keyword argument to a constructor; {@link Task#ignoreUnknownFields()} reads with {@link
   * Json#MAPPER}.
   */
  private static final ObjectMapper STRICT =
      Json.MAPPER.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * Binds Celery args/kwargs to a Java method's parameters, refusing what Python's call would
   * refuse.
   */
  private static final class MethodTask implements TaskFunction {
    private final String name;
    private final Object target;
    private final Method method;
    private final Parameter[] params;
    private final JavaType[] types;
    private final ObjectMapper mapper;

    /**
     * Per parameter, the class of a decoded JSON value that it takes unchanged (an Integer for an
     * int), or null: such arguments skip the conversion, most of a short task's binding cost.
     */
    private final Class<?>[] exact;

    /** Per parameter: a {@code Number}, which takes a decoded Integer, Long or Double as it is. */
    private final boolean[] number;

    private static final Map<Class<?>, Class<?>> AS_DECODED =
        Map.of(
            int.class, Integer.class,
            Integer.class, Integer.class,
            long.class, Long.class,
            Long.class, Long.class,
            boolean.class, Boolean.class,
            Boolean.class, Boolean.class,
            double.class, Double.class,
            Double.class, Double.class,
            String.class, String.class);

    MethodTask(String name, Object target, Method method, boolean ignoreUnknownFields) {
      this.name = name;
      this.target = target;
      this.method = method;
      this.params = method.getParameters();
      this.types = new JavaType[params.length];
      for (int i = 0; i < params.length; i++) {
        types[i] = Json.MAPPER.getTypeFactory().constructType(params[i].getParameterizedType());
      }
      this.mapper = ignoreUnknownFields ? Json.MAPPER : STRICT;
      this.exact = new Class<?>[params.length];
      this.number = new boolean[params.length];
      for (int i = 0; i < params.length; i++) {
        exact[i] = AS_DECODED.get(params[i].getType());
        number[i] = params[i].getType() == Number.class;
      }
    }

    @Override
    public Object run(TaskContext ctx) throws Exception {
      List<Object> args = ctx.args();
      Map<String, Object> kwargs = ctx.kwargs();
      checkKeywords(kwargs, args.size());
      Object[] values = new Object[params.length];
      int positional = 0;
      for (int i = 0; i < params.length; i++) {
        if (params[i].getType() == TaskContext.class) {
          values[i] = ctx;
          continue;
        }
        Object raw;
        if (positional < args.size()) {
          raw = args.get(positional++);
        } else if (params[i].isNamePresent() && kwargs.containsKey(params[i].getName())) {
          raw = kwargs.get(params[i].getName());
        } else {
          throw TaskError.typeError(
              name + "() missing required argument: '" + params[i].getName() + "'");
        }
        values[i] = convert(raw, i);
      }
      if (positional < args.size()) {
        throw TaskError.typeError(
            name
                + "() takes "
                + positional
                + " positional arguments but "
                + args.size()
                + " were given");
      }
      try {
        return method.invoke(target, values);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        throw (Error) cause;
      }
    }

    /** Python checks keywords first: an unknown name, then one already given by position. */
    private void checkKeywords(Map<String, Object> kwargs, int positionalGiven) {
      for (String key : kwargs.keySet()) {
        int slot = 0;
        boolean found = false;
        for (Parameter p : params) {
          if (p.getType() == TaskContext.class) {
            continue;
          }
          if (p.isNamePresent() && p.getName().equals(key)) {
            found = true;
            if (slot < positionalGiven) {
              throw TaskError.typeError(name + "() got multiple values for argument '" + key + "'");
            }
          }
          slot++;
        }
        if (!found) {
          throw TaskError.typeError(name + "() got an unexpected keyword argument '" + key + "'");
        }
      }
    }

    private Object convert(Object raw, int i) {
      if (raw != null
          && (raw.getClass() == exact[i]
              || (number[i]
                  && (raw instanceof Integer || raw instanceof Long || raw instanceof Double)))) {
        return raw; // already what the parameter takes: Jackson's round trip would copy it as is
      }
      try {
        return mapper.convertValue(raw, types[i]);
      } catch (IllegalArgumentException e) {
        if (e.getCause() instanceof UnrecognizedPropertyException u) {
          // what Python says when a dict is spread into a constructor: Point(**{"x": 1, "z": 2})
          throw TaskError.typeError(
              u.getReferringClass().getSimpleName()
                  + ".__init__() got an unexpected keyword argument '"
                  + u.getPropertyName()
                  + "'");
        }
        throw TaskError.typeError(
            name + "() argument '" + params[i].getName() + "': " + e.getMessage());
      }
    }
  }
}
