package io.celerity.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.WorkerOptions;
import io.celerity.support.ProjectFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The shipped deployment files keep the properties docs/deployment.md promises: probes on the right
 * paths, a grace period longer than the warm shutdown, no secret in the files, a disruption budget,
 * a non-root image without curl.
 */
class DeploymentFilesTest {

  @Test
  void kubernetesDeploymentProbesGraceTokenAndResources() throws IOException {
    List<Map<String, Object>> docs = k8sDocuments();
    Map<String, Object> deployment = only(docs, "Deployment");
    Map<String, Object> podSpec = map(map(map(deployment, "spec"), "template"), "spec");
    Map<String, Object> container = list(podSpec, "containers").get(0);
    Map<String, Object> env = envByName(container);

    assertEquals("/ready", map(map(container, "readinessProbe"), "httpGet").get("path"));
    assertEquals("/health", map(map(container, "livenessProbe"), "httpGet").get("path"));
    int port = Integer.parseInt(value(env, "CELERITY_HTTP_PORT"));
    Map<String, Object> httpPort = list(container, "ports").get(0);
    assertEquals(port, httpPort.get("containerPort"));
    assertEquals(
        httpPort.get("name"), map(map(container, "readinessProbe"), "httpGet").get("port"));
    assertEquals(
        "0.0.0.0",
        value(env, "CELERITY_HTTP_HOST"),
        "the kubelet's probes come from outside the pod");

    double shutdownTimeout =
        env.containsKey("CELERITY_SHUTDOWN_TIMEOUT")
            ? Double.parseDouble(value(env, "CELERITY_SHUTDOWN_TIMEOUT"))
            : WorkerOptions.DEFAULT_SHUTDOWN_TIMEOUT;
    int grace = (Integer) podSpec.get("terminationGracePeriodSeconds");
    assertTrue(
        grace > shutdownTimeout + 10,
        "grace " + grace + " s vs shutdown_timeout " + shutdownTimeout + " s");

    for (String secret :
        List.of("CELERITY_HTTP_TOKEN", "CELERITY_BROKER", "CELERITY_RESULT_BACKEND")) {
      Map<String, Object> var = map(env, secret);
      assertNull(var.get("value"), secret + " is not written in the manifest");
      assertNotNull(
          map(map(var, "valueFrom"), "secretKeyRef").get("name"), secret + " comes from a Secret");
    }
    Map<String, Object> requests = map(map(container, "resources"), "requests");
    assertNotNull(requests.get("cpu"));
    assertNotNull(requests.get("memory"));
    assertEquals(true, map(podSpec, "securityContext").get("runAsNonRoot"));
  }

  @Test
  void aDisruptionBudgetCoversTheWorkers() throws IOException {
    List<Map<String, Object>> docs = k8sDocuments();
    Map<String, Object> podLabels =
        map(map(map(map(only(docs, "Deployment"), "spec"), "template"), "metadata"), "labels");
    Map<String, Object> pdb = only(docs, "PodDisruptionBudget");
    Map<String, Object> selector = map(map(map(pdb, "spec"), "selector"), "matchLabels");
    assertFalse(selector.isEmpty());
    selector.forEach(
        (k, v) -> assertEquals(v, podLabels.get(k), "PDB selects the worker pods: " + k));
    Object maxUnavailable = map(pdb, "spec").get("maxUnavailable");
    Object minAvailable = map(pdb, "spec").get("minAvailable");
    assertTrue(maxUnavailable != null || minAvailable != null);
    List<String> kustomized = new ArrayList<>();
    for (Object r :
        (List<?>) load(ProjectFiles.path("deploy/k8s/kustomization.yaml")).get("resources")) {
      kustomized.add(r.toString());
    }
    try (Stream<Path> files = Files.list(ProjectFiles.path("deploy/k8s"))) {
      files
          .map(f -> f.getFileName().toString())
          .filter(f -> !f.equals("kustomization.yaml"))
          .forEach(f -> assertTrue(kustomized.contains(f), f + " is listed in kustomization.yaml"));
    }
  }

  @Test
  void composeNeedsATokenAndWaitsForTheWarmShutdown() throws IOException {
    String text = Files.readString(ProjectFiles.path("docker-compose.yml"));
    Map<String, Object> worker =
        map(map(load(ProjectFiles.path("docker-compose.yml")), "services"), "worker");
    Map<String, Object> env = map(worker, "environment");
    assertTrue(
        env.get("CELERITY_HTTP_TOKEN").toString().startsWith("${CELERITY_HTTP_TOKEN:?"),
        "no default token");
    assertFalse(text.contains("change-me"));
    double shutdownTimeout =
        Double.parseDouble(
            env.getOrDefault("CELERITY_SHUTDOWN_TIMEOUT", WorkerOptions.DEFAULT_SHUTDOWN_TIMEOUT)
                .toString());
    String grace = worker.get("stop_grace_period").toString();
    assertTrue(grace.matches("\\d+s"), grace);
    assertTrue(Integer.parseInt(grace.replace("s", "")) > shutdownTimeout + 10, grace);
    assertFalse(map(worker, "healthcheck").get("test").toString().contains("curl"));
  }

  @Test
  void imageIsBuiltInDockerAndRunsAsNonRootWithoutCurl() throws IOException {
    List<String> lines =
        Files.readAllLines(ProjectFiles.path("Dockerfile")).stream()
            .filter(l -> !l.trim().startsWith("#"))
            .toList();
    List<String> froms = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertEquals(2, froms.size(), "a build stage and a runtime stage: " + froms);
    assertTrue(froms.get(0).contains("maven") && froms.get(0).contains(" AS build"), froms.get(0));
    assertTrue(froms.get(1).contains("-jre"), froms.get(1));
    String user =
        lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertFalse(user.matches("USER\\s+(root|0)(:.*)?"), user);
    assertFalse(String.join("\n", lines).contains("curl"));
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("HEALTHCHECK"))
            && String.join("\n", lines).contains("\"health\"]"));
    assertTrue(
        Files.readString(ProjectFiles.path(".dockerignore"))
            .lines()
            .anyMatch(l -> l.trim().equals("target")));
  }

  // --- YAML helpers ---

  private static List<Map<String, Object>> k8sDocuments() throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Stream<Path> files = Files.list(ProjectFiles.path("deploy/k8s"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object d : new Yaml().loadAll(Files.readString(f))) {
          if (d != null) {
            docs.add(cast(d));
          }
        }
      }
    }
    return docs;
  }

  private static Map<String, Object> only(List<Map<String, Object>> docs, String kind) {
    List<Map<String, Object>> found =
        docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    assertEquals(1, found.size(), "one " + kind);
    return found.get(0);
  }

  private static Map<String, Object> envByName(Map<String, Object> container) {
    Map<String, Object> env = new java.util.LinkedHashMap<>();
    list(container, "env").forEach(e -> env.put(e.get("name").toString(), e));
    return env;
  }

  private static String value(Map<String, Object> env, String name) {
    return map(env, name).get("value").toString();
  }

  private static Map<String, Object> load(Path p) throws IOException {
    return cast(new Yaml().load(Files.readString(p)));
  }

  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertNotNull(v, key + " missing in " + m.keySet());
    return cast(v);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertNotNull(v, key + " missing in " + m.keySet());
    return (List<Map<String, Object>>) v;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object o) {
    return (Map<String, Object>) o;
  }
}
