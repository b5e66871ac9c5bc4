package io.celerity.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What task authors compile against (the celerity-api artifact) shows no Vert.x or broker type. */
class ApiSurfaceTest {

  @Test
  void theTaskApiExposesNoVertxOrBrokerTypes() throws Exception {
    List<String> leaks = new ArrayList<>();
    List<Class<?>> classes = apiClasses();
    assertTrue(classes.size() >= 10, "found the API's classes: " + classes);
    for (Class<?> c : classes) {
      if (!Modifier.isPublic(c.getModifiers())) {
        continue;
      }
      for (Method m : c.getDeclaredMethods()) {
        if (Modifier.isPublic(m.getModifiers())) {
          check(leaks, c, m.getName(), m.getGenericReturnType());
          for (Type p : m.getGenericParameterTypes()) {
            check(leaks, c, m.getName(), p);
          }
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isPublic(f.getModifiers())) {
          check(leaks, c, f.getName(), f.getGenericType());
        }
      }
    }
    assertEquals(List.of(), leaks);
  }

  private static void check(List<String> leaks, Class<?> c, String member, Type t) {
    String name = t.getTypeName();
    if (name.contains("io.vertx.")
        || name.contains("com.rabbitmq.")
        || name.contains("io.celerity.transport")
        || name.contains("io.celerity.backend")) {
      leaks.add(c.getName() + "." + member + ": " + name);
    }
  }

  /** Every class in the code source that holds TaskContext: the API module's classes or jar. */
  private static List<Class<?>> apiClasses() throws Exception {
    URI where = TaskContext.class.getProtectionDomain().getCodeSource().getLocation().toURI();
    Path root = Path.of(where);
    FileSystem jar = null;
    if (Files.isRegularFile(root)) {
      jar = FileSystems.newFileSystem(root, Map.of());
      root = jar.getPath("/");
    }
    try (Stream<Path> files = Files.walk(root)) {
      List<Class<?>> out = new ArrayList<>();
      for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
        String name = root.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
        out.add(Class.forName(name, false, ApiSurfaceTest.class.getClassLoader()));
      }
      return out;
    } finally {
      if (jar != null) {
        jar.close();
      }
    }
  }
}
