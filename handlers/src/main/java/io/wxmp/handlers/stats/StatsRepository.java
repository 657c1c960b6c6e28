package io.wxmp.handlers.stats;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/**
 * The dashboard's SQL. Sums come from hourly buckets kept by triggers in the transactions that change the data
 * ({@code merchant_stats_hourly} for orders, refunds and quiz attempts, V50; {@code merchant_event_stats_hourly} for
 * impressions and clicks, V51), so a year of day buckets reads at most 8,784 rows (times 8 shards for events) whatever
 * the number of orders or events; distinct buyers come from an index-only scan of {@code orders_merchant_paid}. Every
 * query is scoped to one merchant.
 */
final class StatsRepository {
  /** The bucket of an instant in Asia/Shanghai time, as the instant it starts ($4 is 'hour' or 'day'). */
  private static final String BUCKET = "date_trunc($4, %s AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'";
  private static final String SUMS = "SELECT " + BUCKET.formatted("hour") + """
       AS t, sum(revenue_fen) AS revenue, sum(orders) AS orders, sum(refunds_fen) AS refunds,
             sum(quiz_attempts) AS quiz_attempts, sum(impressions) AS impressions, sum(clicks) AS clicks
      FROM (SELECT hour, revenue_fen, orders, refunds_fen, quiz_attempts, impressions, clicks
            FROM merchant_stats_hourly WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
            UNION ALL
            SELECT hour, 0, 0, 0, 0, impressions, clicks
            FROM merchant_event_stats_hourly WHERE merchant_id = $1 AND hour >= $2 AND hour < $3) AS buckets
      GROUP BY 1""";
  /** Buyers per bucket and, in the row whose t is null, over the whole range (distinct counts do not add up). */
  private static final String BUYERS = "SELECT " + BUCKET.formatted("paid_at") + """
       AS t, count(DISTINCT user_id) AS buyers
      FROM orders WHERE merchant_id = $1 AND paid_at >= $2 AND paid_at < $3
      GROUP BY GROUPING SETS ((1), ())""";
  /** Buyers per Asia/Shanghai day ($2, $3: the first day and the day after the last). */
  private static final String DAY_BUYERS = """
      SELECT day, buyers FROM merchant_stats_daily WHERE merchant_id = $1 AND day >= $2 AND day < $3""";
  /**
   * Distinct buyers over the days {@code [$2, $3)}: those whose first day is in the range, those who started before
   * it and whose last day is in it, and those who span it with a day inside (V52). Only the last kind reads the
   * buyer-days, one index probe each, and a range that ends today has none of them.
   */
  private static final String RANGE_BUYERS = """
      SELECT (SELECT count(*) FROM merchant_buyers
              WHERE merchant_id = $1 AND first_day >= $2 AND first_day < $3)
           + (SELECT count(*) FROM merchant_buyers
              WHERE merchant_id = $1 AND last_day >= $2 AND last_day < $3 AND first_day < $2)
           + (SELECT count(*) FROM merchant_buyers b
              WHERE b.merchant_id = $1 AND b.last_day >= $3 AND b.first_day < $2
                AND EXISTS (SELECT 1 FROM merchant_buyer_days d
                            WHERE d.merchant_id = $1 AND d.user_id = b.user_id AND d.day >= $2 AND d.day < $3))""";
  private static final String NEW_USERS = """
      SELECT count(*) FROM merchant_customers WHERE merchant_id = $1 AND first_at >= $2 AND first_at < $3""";

  private final Pool pg;

  StatsRepository(Pool pg) {
    this.pg = pg;
  }

  /** One bucket's numbers; absent buckets are all zero. */
  record Bucket(long revenue, long orders, long refunds, long buyers, long impressions, long clicks,
      long quizAttempts) {
    static final Bucket ZERO = new Bucket(0, 0, 0, 0, 0, 0, 0);

    Bucket withBuyers(long buyers) {
      return new Bucket(revenue, orders, refunds, buyers, impressions, clicks, quizAttempts);
    }
  }

  /** The buckets that have data, keyed by their start; {@code totalBuyers} and {@code newUsers} over the range. */
  record Overview(Map<OffsetDateTime, Bucket> buckets, long totalBuyers, long newUsers) {}

  Future<Overview> overview(long merchantId, OffsetDateTime from, OffsetDateTime to, String bucket) {
    Tuple range = Tuple.of(merchantId, from, to, bucket);
    Future<Map<OffsetDateTime, Bucket>> sums = pg.preparedQuery(SUMS).execute(range).map(rows -> {
      Map<OffsetDateTime, Bucket> out = new HashMap<>();
      for (Row r : rows) {
        out.put(r.getOffsetDateTime("t").toInstant().atOffset(ZoneOffset.UTC), new Bucket(
            r.getLong("revenue"), r.getLong("orders"), r.getLong("refunds"), 0, r.getLong("impressions"),
            r.getLong("clicks"), r.getLong("quiz_attempts")));
      }
      return out;
    });
    Future<Map<OffsetDateTime, Long>> buyers = bucket.equals("day") ? dayBuyers(merchantId, from, to)
        : pg.preparedQuery(BUYERS).execute(range).map(rows -> {
      Map<OffsetDateTime, Long> out = new HashMap<>();
      for (Row r : rows) {
        OffsetDateTime t = r.getOffsetDateTime("t");
        out.put(t == null ? null : t.toInstant().atOffset(ZoneOffset.UTC), r.getLong("buyers"));
      }
      return out;
    });
    Future<Long> newUsers = pg.preparedQuery(NEW_USERS).execute(Tuple.of(merchantId, from, to))
        .map(rows -> rows.iterator().next().getLong(0));
    return Future.all(sums, buyers, newUsers).map(done -> {
      Map<OffsetDateTime, Bucket> merged = new HashMap<>(sums.result());
      buyers.result().forEach((t, n) -> {
        if (t != null) {
          merged.put(t, merged.getOrDefault(t, Bucket.ZERO).withBuyers(n));
        }
      });
      return new Overview(merged, buyers.result().getOrDefault(null, 0L), newUsers.result());
    });
  }

  /**
   * Buyers of day buckets, keyed like {@link #BUYERS}'s rows (the bucket's start in UTC, null for the whole range).
   * {@code from} and {@code to} are Asia/Shanghai midnights ({@code StatsRoutes.Range} widens to whole days).
   */
  private Future<Map<OffsetDateTime, Long>> dayBuyers(long merchantId, OffsetDateTime from, OffsetDateTime to) {
    LocalDate first = from.atZoneSameInstant(StatsRoutes.SHANGHAI).toLocalDate();
    LocalDate end = to.atZoneSameInstant(StatsRoutes.SHANGHAI).toLocalDate();
    Tuple days = Tuple.of(merchantId, first, end);
    Future<Map<OffsetDateTime, Long>> perDay = pg.preparedQuery(DAY_BUYERS).execute(days).map(rows -> {
      Map<OffsetDateTime, Long> out = new HashMap<>();
      for (Row r : rows) {
        out.put(r.getLocalDate("day").atStartOfDay(StatsRoutes.SHANGHAI).toOffsetDateTime()
            .withOffsetSameInstant(ZoneOffset.UTC), r.getLong("buyers"));
      }
      return out;
    });
    Future<Long> total = pg.preparedQuery(RANGE_BUYERS).execute(days).map(rows -> rows.iterator().next().getLong(0));
    return Future.all(perDay, total).map(done -> {
      perDay.result().put(null, total.result());
      return perDay.result();
    });
  }
}
