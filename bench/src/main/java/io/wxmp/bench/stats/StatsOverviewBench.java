package io.wxmp.bench.stats;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code GET /admin/stats/overview} on a merchant with a million paid orders (a year of them, 100,000 buyers), against
 * the baseline of computing the same numbers from the orders table at request time (the best index it can have,
 * {@code orders_merchant_paid}). Both run in the same JVM and database, in turn run by run, and print p50/p90 over
 * the runs and their ratio, for the last 365 days and for 100 days in the past (the case where the range's distinct
 * buyers need the most work, V52). Both answers are checked against each other first.
 *
 * <p>The orders are written the way the server writes them (pending, then paid by one UPDATE that fires the stats
 * trigger per row), so the set-up time is also the trigger's write cost per paid order. Options (system
 * properties): {@code -Dorders=1000000 -Dbuyers=100000 -Druns=15}.
 */
public final class StatsOverviewBench {
  private StatsOverviewBench() {}

  private static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
  /** The same numbers from the orders at request time: per day, and buyers over the range in the row with no t. */
  private static final String BASELINE = """
      SELECT date_trunc('day', paid_at AT TIME ZONE 'Asia/Shanghai') AS t, sum(amount_fen) AS revenue,
             count(*) AS orders, count(DISTINCT user_id) AS buyers
      FROM orders WHERE merchant_id = $1 AND paid_at >= $2 AND paid_at < $3
      GROUP BY GROUPING SETS ((1), ())""";

  public static void main(String[] args) {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int orders = Integer.getInteger("orders", 1_000_000);
    int buyers = Integer.getInteger("buyers", 100_000);
    int runs = Integer.getInteger("runs", 15);
    System.out.printf("StatsOverviewBench: %,d paid orders over 365 days, %,d buyers, %d runs; %d CPUs, JDK %s%n",
        orders, buyers, runs, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
    TestStack stack = TestStack.create();
    try {
      System.out.printf("PostgreSQL %s (embedded)%n",
          stack.sql("SHOW server_version", Tuple.tuple()).iterator().next().getString(0));
      TestStack.Merchant m = stack.newMerchant();
      long item = Long.parseLong(stack.api.post("/api/v1/admin/items", m.editor(), new JsonObject()
          .put("kind", "article").put("title", "bench").put("status", "published")
          .put("price", new JsonObject().put("amount", 990).put("currency", "CNY"))).json().getString("id"));
      long t0 = System.nanoTime();
      slow(stack, "INSERT INTO users (openid) SELECT 'bench-' || g FROM generate_series(1, $1) g", Tuple.of(buyers));
      long firstUser = stack.sql("SELECT min(id) FROM users WHERE openid LIKE 'bench-%'", Tuple.tuple()).iterator()
          .next().getLong(0);
      // pending orders spread over the last 365 days, each then paid by the settlement's kind of UPDATE; a user has
      // one pending order per item at a time (V4), so the orders are written in rounds of one per buyer
      long inserting = 0;
      long paying = 0;
      for (int first = 1; first <= orders; first += buyers) {
        long a = System.nanoTime();
        slow(stack, """
            INSERT INTO orders (out_trade_no, user_id, item_id, merchant_id, amount_fen, expires_at, created_at)
            SELECT 'B' || g, $1 + (g % $2), $3, $4, 100 + (g % 900), now(),
                   now() - make_interval(secs => (g::double precision / $5) * 365 * 86400)
            FROM generate_series($6::int, $7::int) g""", Tuple.of(firstUser, buyers, item, m.id(), orders, first,
            Math.min(orders, first + buyers - 1)));
        long b = System.nanoTime();
        slow(stack, "UPDATE orders SET status = 'paid', paid_at = created_at WHERE merchant_id = $1"
            + " AND status = 'pending'", Tuple.of(m.id()));
        inserting += b - a;
        paying += System.nanoTime() - b;
      }
      slow(stack, "VACUUM ANALYZE", null);
      System.out.printf("set-up: inserts %.1f s; paying them (triggers per row) %.1f s = %.1f µs per paid order%n",
          inserting / 1e9, paying / 1e9, paying / 1e3 / orders);
      System.out.printf("rows: %,d hour buckets, %,d day rows, %,d buyer-days, %,d buyers%n",
          count(stack, "merchant_stats_hourly", m.id()), count(stack, "merchant_stats_daily", m.id()),
          count(stack, "merchant_buyer_days", m.id()), count(stack, "merchant_buyers", m.id()));

      LocalDate today = LocalDate.now(SHANGHAI);
      String year = "bucket=day&from=" + today.minusDays(364) + "&to=" + today;
      String past = "bucket=day&from=" + today.minusDays(200) + "&to=" + today.minusDays(101);
      for (String range : List.of(year, past)) {
        Reply check = overview(stack, m, range);
        JsonObject totals = check.json().getJsonObject("totals");
        Object[] expected = baseline(stack, m.id(), range);
        System.out.printf("check %s: totals.orders %,d, totals.buyers %,d; from orders: %,d, %,d%n", range,
            totals.getLong("orders"), totals.getLong("buyers"), expected[0], expected[1]);
        if (totals.getLong("orders") != (long) expected[0] || totals.getLong("buyers") != (long) expected[1]) {
          throw new IllegalStateException("the overview disagrees with the orders");
        }
      }
      // ours and the baseline alternate run by run, so that a noisy moment costs both
      double[][] yearRuns = alternate(runs, () -> overview(stack, m, year), () -> baseline(stack, m.id(), year));
      double[][] pastRuns = alternate(runs, () -> overview(stack, m, past), () -> baseline(stack, m.id(), past));
      double[] hours = percentiles(time(runs, () -> overview(stack, m, "bucket=hour&from=" + today.minusDays(30)
          + "&to=" + today)));
      double[] week = percentiles(time(runs, () -> overview(stack, m, "bucket=day")));
      System.out.println();
      System.out.println("| query | p50 ms | p90 ms |");
      System.out.println("|---|---:|---:|");
      row("GET /admin/stats/overview, the last 365 days in day buckets (HTTP, all 8 numbers)",
          percentiles(yearRuns[0]));
      row("baseline: the same from orders (SQL only: revenue, orders, buyers per day and in all)",
          percentiles(yearRuns[1]));
      row("GET /admin/stats/overview, 100 days that ended 100 days ago (HTTP)", percentiles(pastRuns[0]));
      row("baseline: the same from orders", percentiles(pastRuns[1]));
      row("GET /admin/stats/overview, 31 days of hour buckets (744)", hours);
      row("GET /admin/stats/overview, default (last 7 days)", week);
      System.out.printf("%nbaseline p50 / ours p50: %.1fx for the last 365 days, %.1fx for the 100 past days%n",
          percentiles(yearRuns[1])[0] / percentiles(yearRuns[0])[0],
          percentiles(pastRuns[1])[0] / percentiles(pastRuns[0])[0]);
    } finally {
      stack.close();
    }
  }

  /** Set-up statements may take minutes (the test kit's helper waits 20 s). */
  private static void slow(TestStack stack, String sql, Tuple args) {
    try {
      if (args == null) {
        stack.db.query(sql).execute().await(30, java.util.concurrent.TimeUnit.MINUTES);
      } else {
        stack.db.preparedQuery(sql).execute(args).await(30, java.util.concurrent.TimeUnit.MINUTES);
      }
    } catch (Exception e) {
      throw new IllegalStateException(sql, e);
    }
  }

  private static void row(String name, double[] p) {
    System.out.printf("| %s | %.1f | %.1f |%n", name, p[0], p[1]);
  }

  private static Reply overview(TestStack stack, TestStack.Merchant m, String query) {
    Reply r = stack.api.get("/api/v1/admin/stats/overview?" + query, m.analyst());
    if (r.status() != 200) {
      throw new IllegalStateException(r.toString());
    }
    return r;
  }

  /** The baseline's answer for a day range given as the overview's query: {orders, buyers} over the range. */
  private static Object[] baseline(TestStack stack, long merchant, String query) {
    String from = query.replaceAll(".*from=([0-9-]+).*", "$1");
    String to = query.replaceAll(".*to=([0-9-]+).*", "$1");
    OffsetDateTime start = LocalDate.parse(from).atStartOfDay(SHANGHAI).toOffsetDateTime();
    OffsetDateTime end = LocalDate.parse(to).plusDays(1).atStartOfDay(SHANGHAI).toOffsetDateTime();
    long orders = 0;
    long buyers = 0;
    for (Row r : stack.sql(BASELINE, Tuple.of(merchant, start, end))) {
      if (r.getValue("t") == null) {
        buyers = r.getLong("buyers");
      } else {
        orders += r.getLong("orders");
      }
    }
    return new Object[] {orders, buyers};
  }

  private static long count(TestStack stack, String table, long merchant) {
    return stack.count("SELECT count(*) FROM " + table + " WHERE merchant_id = $1", Tuple.of(merchant));
  }

  /** Milliseconds of each run of the two calls, taken in turn, after two warm-up calls of each. */
  private static double[][] alternate(int runs, Supplier<?> ours, Supplier<?> base) {
    ours.get();
    base.get();
    ours.get();
    base.get();
    double[][] ms = new double[2][runs];
    for (int i = 0; i < runs; i++) {
      ms[0][i] = once(ours);
      ms[1][i] = once(base);
    }
    return ms;
  }

  private static double[] time(int runs, Supplier<?> call) {
    call.get();
    call.get();
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      ms[i] = once(call);
    }
    return ms;
  }

  private static double once(Supplier<?> call) {
    long t = System.nanoTime();
    call.get();
    return (System.nanoTime() - t) / 1e6;
  }

  /** p50 and p90 of the runs. */
  private static double[] percentiles(double[] ms) {
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return new double[] {sorted[n / 2], sorted[Math.min(n - 1, (int) Math.ceil(n * 0.9) - 1)]};
  }
}
