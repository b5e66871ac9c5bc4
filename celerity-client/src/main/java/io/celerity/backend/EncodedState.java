package io.celerity.backend;

/**
 * A task state another process already encoded in Celery's key-value layout: a Python child's
 * tracer hands its final state to the worker, which writes it with its own results.
 *
 * @param taskId the task the state belongs to (for logs)
 * @param status the state the document holds (for logs)
 * @param key the key Celery's backend computed ({@code celery-task-meta-<id>}, with any prefix)
 * @param document the JSON document as Celery encoded it
 * @param expiresSeconds Celery's {@code result_expires} of the child's backend; 0: no expiry
 */
public record EncodedState(
    String taskId, String status, String key, String document, long expiresSeconds) {}
