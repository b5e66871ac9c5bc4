package io.celerity.types;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * The pool's numbers ({@code Addresses.POOL_STATS} reply).
 *
 * @param maxConcurrency slots now (Celery's {@code max-concurrency})
 * @param active requests running
 * @param reserved requests queued in the pool
 * @param processed requests finished since start
 * @param total finished requests per task name (Celery's {@code total})
 * @param abandonedThreads bodies abandoned at their hard time limit that still hold a thread
 * @param slotsHeldByAbandoned slots those bodies still hold
 * @param process {@code -P process} children's numbers, or null with threads
 * @param async async Java tasks' pool ({@code max-concurrency}, {@code active}, {@code reserved},
 *     {@code abandoned}, {@code blocked_loop_reports})
 * @param childAsync the children's coroutine slots ({@code async def}), or null with threads
 */
public record PoolStats(
    int maxConcurrency,
    int active,
    int reserved,
    long processed,
    Map<String, Long> total,
    long abandonedThreads,
    int slotsHeldByAbandoned,
    JsonObject process,
    JsonObject async,
    JsonObject childAsync) {}
