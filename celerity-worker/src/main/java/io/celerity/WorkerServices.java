package io.celerity;

import io.celerity.events.TaskEvents;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.task.TaskRegistry;

/**
 * What the worker's verticles share: built once by {@link WorkerVerticle} and handed to each
 * verticle's constructor, so no verticle looks its collaborators up.
 *
 * @param registry the tasks this worker runs
 * @param events task events (Lamport clock, the {@code -E} switch, the batch buffer)
 * @param metrics the Micrometer meters
 */
public record WorkerServices(TaskRegistry registry, TaskEvents events, WorkerMetrics metrics) {}
