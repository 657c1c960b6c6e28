package io.wxmp.bench.stats;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * {@code GET /admin/stats/overview} on a merchant with a million paid orders (a year of them, 100,000 buyers), against
 * the baseline of computing the same numbers from the orders table at request time (the best index it can have,
 * {@code orders_merchant_paid}). Both run in the same JVM and database, one after the other, and print p50/p90 over
 * the runs and their ratio.
 *
 * <p>The orders are written the way the server writes them (pending, then paid by one UPDATE that fires the stats
 * trigger per row), so the set-up time is also the trigger's write cost per paid order. Options (system
 * properties): {@code -Dorders=1000000 -Dbuyers=100000 -Druns=15}.
 */
public final class StatsOverviewBench {
  private StatsOverviewBench() {}

  private static final String BASELINE = """
      SELECT date_trunc('day', paid_at AT TIME ZONE 'Asia/Shanghai') AS t, sum(amount_fen), count(*),
             count(DISTINCT user_id)
      FROM orders WHERE merchant_id = $1 AND paid_at >= $2::timestamptz AND paid_at < $3::timestamptz
      GROUP BY 1 ORDER BY 1""";

  public static void main(String[] args) {
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
      // pending orders spread over the last 365 days, each then paid by the settlement's kind of UPDATE
      slow(stack, """
          INSERT INTO orders (out_trade_no, user_id, item_id, merchant_id, amount_fen, expires_at, created_at)
          SELECT 'B' || g, $1 + (g % $2), $3, $4, 100 + (g % 900), now(),
                 now() - make_interval(secs => (g::double precision / $5) * 365 * 86400)
          FROM generate_series(1, $5) g""", Tuple.of(firstUser, buyers, item, m.id(), orders));
      long t1 = System.nanoTime();
      slow(stack, "UPDATE orders SET status = 'paid', paid_at = created_at WHERE merchant_id = $1", Tuple.of(m.id()));
      long t2 = System.nanoTime();
      slow(stack, "VACUUM ANALYZE orders", null);
      slow(stack, "VACUUM ANALYZE merchant_stats_hourly", null);
      System.out.printf("set-up: inserts %.1f s; paying them (trigger per row) %.1f s = %.1f µs per paid order%n",
          (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t2 - t1) / 1e3 / orders);
      System.out.printf("bucket rows: %,d%n", stack.count(
          "SELECT count(*) FROM merchant_stats_hourly WHERE merchant_id = $1", Tuple.of(m.id())));

      String from = java.time.LocalDate.now(java.time.ZoneId.of("Asia/Shanghai")).minusDays(364).toString();
      String to = java.time.LocalDate.now(java.time.ZoneId.of("Asia/Shanghai")).toString();
      String from31 = java.time.LocalDate.now(java.time.ZoneId.of("Asia/Shanghai")).minusDays(30).toString();
      Reply check = stack.api.get("/api/v1/admin/stats/overview?bucket=day&from=" + from + "&to=" + to, m.analyst());
      System.out.printf("check: totals.orders = %,d, totals.buyers = %,d%n",
          check.json().getJsonObject("totals").getLong("orders"), check.json().getJsonObject("totals").getLong("buyers"));

      String fromTs = from + "T00:00:00+08:00";
      String toTs = java.time.LocalDate.parse(to).plusDays(1) + "T00:00:00+08:00";
      double[] ours = time(runs, () -> stack.api.get("/api/v1/admin/stats/overview?bucket=day&from=" + from + "&to="
          + to, m.analyst()));
      double[] base = time(runs, () -> stack.sql(BASELINE, Tuple.of(m.id(), fromTs, toTs)));
      double[] hours = time(runs, () -> stack.api.get("/api/v1/admin/stats/overview?bucket=hour&from=" + from31
          + "&to=" + to, m.analyst()));
      double[] week = time(runs, () -> stack.api.get("/api/v1/admin/stats/overview?bucket=day", m.analyst()));
      System.out.println();
      System.out.println("| query | p50 ms | p90 ms |");
      System.out.println("|---|---:|---:|");
      row("GET /admin/stats/overview, 365 day buckets (HTTP, all 8 numbers)", ours);
      row("baseline: the same range from orders (SQL only: revenue, orders, buyers)", base);
      row("GET /admin/stats/overview, 31 days of hour buckets (744)", hours);
      row("GET /admin/stats/overview, default (last 7 days)", week);
      System.out.printf("%nbaseline p50 / ours p50 (365 days): %.1fx%n", base[0] / ours[0]);
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

  /** p50 and p90 in ms over the runs, after two warm-up calls. */
  private static double[] time(int runs, Supplier<?> call) {
    call.get();
    call.get();
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t = System.nanoTime();
      Object r = call.get();
      ms[i] = (System.nanoTime() - t) / 1e6;
      if (r instanceof Reply reply && reply.status() != 200) {
        throw new IllegalStateException(reply.toString());
      }
    }
    Arrays.sort(ms);
    return new double[] {ms[runs / 2], ms[Math.min(runs - 1, (int) Math.ceil(runs * 0.9) - 1)]};
  }
}
