package io.celerity.types;

import java.util.List;

/**
 * The consumer's numbers ({@code Addresses.CONSUMER_STATS} reply).
 *
 * @param broker the broker URL, password redacted
 * @param transport the transport's description
 * @param reconnects connections re-established after a loss
 * @param prefetchCount the prefetch count the broker was last told
 * @param received deliveries received since start
 * @param unsettled deliveries neither acked nor rejected yet
 * @param unsettledStuck unsettled deliveries nothing holds (the watchdog's count)
 * @param etaHeld requests held for their ETA
 * @param rateLimited requests waiting for a rate-limit token
 * @param revoked revoked task ids remembered
 * @param queues the configured task queues
 */
public record ConsumerStats(
    String broker,
    boolean connected,
    String transport,
    long reconnects,
    int prefetchCount,
    long received,
    int unsettled,
    int unsettledStuck,
    int etaHeld,
    int rateLimited,
    int revoked,
    List<String> queues) {}
