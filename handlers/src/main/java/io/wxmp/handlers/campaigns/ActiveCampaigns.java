package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * This server's copy of the campaigns that may run (active and not ended, item published, merchant active, total
 * budget not yet spent), which every feed page used to read from PostgreSQL. It is read again when it is older than
 * {@code ttlMs}, and before anything is reserved when the campaigns' version in Redis moved: every campaign write
 * and every merchant status change bumps that version ({@link Budgets#changed}), and a page's reservation script
 * compares it with the version this copy was read at. So a paused campaign and a suspended merchant's campaigns leave
 * every server's pages at once; what changes without a bump (an item unpublished, a membership, spend reaching the
 * budget) is caught by the feed's own final check, by the Redis budget check, or at the latest after {@code ttlMs}.
 * Everything about the user (ownership, targeting, caps, budgets, pacing) is still decided per page.
 */
final class ActiveCampaigns {
  static final String ACTIVE = "SELECT " + prefixed() + """
      , i.tags AS item_tags, i.price_fen IS NOT NULL AS item_priced, i.kind = 'membership' AS membership_item,
        i.merchant_id AS item_merchant
      FROM campaigns c JOIN items i ON i.id = c.item_id JOIN merchants mc ON mc.id = c.merchant_id
      WHERE c.status = 'active' AND (c.end_at IS NULL OR c.end_at > $1) AND i.status = 'published'
        AND mc.status = 'active' AND c.spent_millifen < c.budget_total_fen * 1000""";

  /** One campaign that may run, with what serving needs of its item. */
  record Candidate(Campaign campaign, List<String> itemTags, boolean itemPriced, boolean membershipItem,
      long itemMerchantId) {}

  /**
   * The campaigns as read at {@code version}, for the time {@code readFor} (campaigns that ended before it are not
   * in it), at {@code readAtNanos} ({@link System#nanoTime}).
   */
  record Snapshot(String version, Instant readFor, long readAtNanos, List<Candidate> candidates) {}

  private final Pool pg;
  private final RedisAPI redis;
  private final Clock clock;
  private final long ttlNanos;
  private volatile Snapshot snapshot;
  private final AtomicReference<Future<Snapshot>> reading = new AtomicReference<>();

  ActiveCampaigns(Pool pg, RedisAPI redis, Clock clock, long ttlMs) {
    this.pg = pg;
    this.redis = redis;
    this.clock = clock;
    this.ttlNanos = ttlMs * 1_000_000;
  }

  /**
   * The copy, read again first when it is too old (or the clock went back before it). The answer belongs to the
   * caller's context where there is one: a timeout set on what a page composes onto it then runs on the page's own
   * event loop, where a future of no context has it scheduled and cancelled on Netty's global executor thread (two
   * hand-offs to another thread per page).
   */
  Future<Snapshot> current() {
    Snapshot s = snapshot;
    if (s != null && System.nanoTime() - s.readAtNanos() < ttlNanos && !clock.instant().isBefore(s.readFor())) {
      ContextInternal here = ContextInternal.current();
      return here == null ? Future.succeededFuture(s) : here.succeededFuture(s);
    }
    return read(s);
  }

  /** A copy newer than {@code stale} (which the reservation found behind the version in Redis). */
  Future<Snapshot> after(Snapshot stale) {
    Snapshot s = snapshot;
    return s != stale && s != null ? Future.succeededFuture(s) : read(stale);
  }

  /**
   * One read at a time per server: callers that come while one runs wait for it. The answer comes back on the
   * caller's own context, so a page never continues on another event loop.
   */
  private Future<Snapshot> read(Snapshot seen) {
    Future<Snapshot> running = reading.get();
    if (running == null) {
      Promise<Snapshot> mine = Promise.promise();
      if (reading.compareAndSet(null, mine.future())) {
        Snapshot s = snapshot;
        if (s != seen && s != null && System.nanoTime() - s.readAtNanos() < ttlNanos) {
          // someone else finished a read between our look and our claim
          reading.set(null);
          mine.complete(s);
          return mine.future();
        }
        load().onComplete(ar -> {
          if (ar.succeeded()) {
            snapshot = ar.result();
          }
          reading.set(null);
          mine.handle(ar);
        });
        return mine.future();
      }
      running = reading.get();
      if (running == null) {
        return read(seen);
      }
    }
    return onCallersContext(running);
  }

  private static <T> Future<T> onCallersContext(Future<T> shared) {
    ContextInternal here = ContextInternal.current();
    if (here == null) {
      return shared;
    }
    Promise<T> back = here.promise();
    shared.onComplete(ar -> here.runOnContext(v -> back.handle(ar)));
    return back.future();
  }

  /** The version first: a change committed after it bumps it again, so this copy can only be found too old. */
  private Future<Snapshot> load() {
    Instant now = clock.instant();
    return Budgets.version(redis).compose(version -> pg.preparedQuery(ACTIVE)
        .execute(Tuple.of(OffsetDateTime.ofInstant(now, ZoneOffset.UTC))).map(rows -> {
          List<Candidate> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            String[] tags = r.getArrayOfStrings("item_tags");
            out.add(new Candidate(Campaign.of(r), tags == null ? List.of() : List.copyOf(Arrays.asList(tags)),
                r.getBoolean("item_priced"), r.getBoolean("membership_item"), r.getLong("item_merchant")));
          }
          return new Snapshot(version, now, System.nanoTime(), List.copyOf(out));
        }));
  }

  private static String prefixed() {
    StringBuilder sb = new StringBuilder();
    for (String column : Campaign.COLUMNS.split(",")) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append("c.").append(column.strip());
    }
    return sb.toString();
  }
}
