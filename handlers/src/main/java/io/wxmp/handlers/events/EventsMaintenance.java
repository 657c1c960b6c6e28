package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.RedisLease;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the events table in shape, one server at a time (a Redis lease): makes next months' partitions ahead of
 * time, drops the months past {@code WXMP_EVENTS_RETENTION_DAYS}, deletes the rows past it in the oldest month kept
 * (in bounded batches), and forgets client ids older than the dedup window. Runs a minute after start-up, then hourly.
 */
public final class EventsMaintenance {
  /** Client ids are remembered this long: an event's "at" may be 7 days old, plus a margin. */
  public static final int DEDUP_WINDOW_DAYS = 8;
  private static final Logger log = LoggerFactory.getLogger(EventsMaintenance.class);
  private static final String LEASE = "wxmp:lease:events-maintenance";
  private static final int BATCH = 10_000;
  private static final int MAX_BATCHES = 100;

  private final EventRepository events;
  private final RedisAPI redis;
  private final int retentionDays;

  public EventsMaintenance(EventRepository events, RedisAPI redis, int retentionDays) {
    if (retentionDays < DEDUP_WINDOW_DAYS) {
      throw new IllegalArgumentException("retention must be at least " + DEDUP_WINDOW_DAYS + " days");
    }
    this.events = events;
    this.redis = redis;
    this.retentionDays = retentionDays;
  }

  /** What one run did. */
  public record Report(int partitionsMade, int partitionsDropped, long eventsDeleted, long idsForgotten) {}

  /** One pass; answers null when another server holds the lease. */
  public Future<Report> runOnce() {
    return RedisLease.withLease(redis, LEASE, 5 * 60_000, this::pass, null);
  }

  private Future<Report> pass() {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    LocalDate month = now.toLocalDate().withDayOfMonth(1);
    Future<Integer> made = Future.succeededFuture(0);
    for (int i = -1; i <= 2; i++) {
      LocalDate m = month.plusMonths(i);
      made = made.compose(n -> events.ensurePartition(m).map(fresh -> fresh ? n + 1 : n));
    }
    OffsetDateTime cutoff = now.minusDays(retentionDays);
    return made.compose(m -> events.dropPartitionsBefore(cutoff)
        .compose(dropped -> drain(() -> events.deleteEventsBefore(cutoff, BATCH), 0, 0)
            .compose(deleted -> drain(() -> events.deleteIdsBefore(now.minusDays(DEDUP_WINDOW_DAYS), BATCH), 0, 0)
                .map(ids -> new Report(m, dropped, deleted, ids)))))
        .onSuccess(r -> {
          if (r.partitionsMade() + r.partitionsDropped() > 0 || r.eventsDeleted() + r.idsForgotten() > 0) {
            log.info("events maintenance: {} partitions made, {} dropped, {} events and {} client ids deleted",
                r.partitionsMade(), r.partitionsDropped(), r.eventsDeleted(), r.idsForgotten());
          }
        });
  }

  /** Repeats a bounded delete until it deletes less than a batch (or the run's cap is reached). */
  private static Future<Long> drain(Supplier<Future<Integer>> delete, long total, int rounds) {
    return delete.get().compose(n -> n < BATCH || rounds + 1 >= MAX_BATCHES
        ? Future.succeededFuture(total + n)
        : drain(delete, total + n, rounds + 1));
  }
}
