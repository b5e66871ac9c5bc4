package io.celerity.backend;

import io.celerity.protocol.IsoTime;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds result documents in Celery's key order for the key-value backends. */
public final class ResultDocuments {

  public static final String KEY_PREFIX = "celery-task-meta-";

  private ResultDocuments() {}

  public static Map<String, Object> keyValueDocument(TaskResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", r.status());
    m.put("result", r.result());
    m.put("traceback", r.traceback());
    m.put("children", r.children() == null ? java.util.List.of() : r.children());
    m.put("date_done", r.dateDone() == null ? null : IsoTime.naiveUtc(r.dateDone()));
    if (r.groupId() != null) {
      m.put("group_id", r.groupId());
    }
    if (r.parentId() != null) {
      m.put("parent_id", r.parentId());
    }
    if (r.extended() != null) {
      m.putAll(r.extended());
    }
    m.put("task_id", r.taskId());
    return m;
  }
}
