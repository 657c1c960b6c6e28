package io.wxmp.bench.campaigns;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.TestStack;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * What sponsored slots cost the feed, and whether budgets hold under saturation, over real HTTP against the real
 * server (embedded PostgreSQL and Redis, two event-loop verticles, client in the same JVM).
 *
 * <p>Part 1, side by side in one run: closed-loop {@code GET /feed} load ({@code concurrency} clients, each asking
 * for a new page as soon as the last one answered) for {@code seconds}, alternating rounds with no active campaign
 * and with {@code campaigns} active ones; prints pages/s and p50/p99 per round and the ratio of the medians.
 *
 * <p>Part 2, budget accuracy: the big campaigns paused, 10 campaigns with budgets of a few tens of fen; clients read
 * pages and send every sponsored entry's impression and click with its token, each twice, until no sponsored entry
 * has been served for 5 s; then per campaign the ledger's spend against its budgets (overspend), whether the budget
 * is exhausted (not one more slot fits), how many entries were served after its last billed event, and how many
 * billable events billed nothing because the budget was full.
 *
 * <p>Options (system properties): {@code -Dcampaigns=50 -Dusers=200 -Dconcurrency=32 -Dseconds=10 -Drounds=3},
 * {@code -Dpart1=false} to run part 2 alone.
 */
public final class SponsoredFeedBench {
  private static final String[] TAGS = {"tea", "coffee", "history", "wechat", "pay", "backend", "vertx", "design",
      "health", "travel", "music", "finance"};

  private SponsoredFeedBench() {}

  public static void main(String[] args) throws Exception {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int campaigns = Integer.getInteger("campaigns", 50);
    int users = Integer.getInteger("users", 200);
    int concurrency = Integer.getInteger("concurrency", 32);
    int seconds = Integer.getInteger("seconds", 10);
    int rounds = Integer.getInteger("rounds", 3);
    System.out.printf("SponsoredFeedBench: %d campaigns, %d users, %d concurrent clients, %d s x %d rounds each way; "
            + "%d CPUs, JDK %s, max heap %d MiB; load average %s%n", campaigns, users, concurrency, seconds, rounds,
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() >> 20, loadAverage());
    TestStack stack = TestStack.create();
    WebClient client = WebClient.create(stack.clientVertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(concurrency * 2).setMaxWaitQueueSize(-1));
    Random random = new Random(7);
    try {
      TestStack.Merchant merchant = stack.newMerchant();
      List<Long> items = seedItems(stack, merchant.id(), 500, random);
      List<String> tokens = inBatches(users, 50, i -> login(stack));
      List<String> userIds = new ArrayList<>();
      for (String t : tokens) {
        userIds.add(stack.api.get("/api/v1/me", t).json().getString("id"));
      }
      // a little history, so pages are personalised and tag-targeted campaigns match some users
      inBatches(users, 50, i -> {
        JsonArray events = new JsonArray();
        for (int k = 0; k < 5; k++) {
          events.add(new JsonObject().put("id", UUID.randomUUID().toString())
              .put("itemId", Long.toString(items.get(random.nextInt(items.size())))).put("type", "click"));
        }
        return stack.api.sendAsync(io.vertx.core.http.HttpMethod.POST, "/api/v1/events", tokens.get(i),
            new JsonObject().put("events", events).toBuffer(), null).map(r -> null);
      });
      List<Long> big = new ArrayList<>();
      for (int c = 0; c < campaigns; c++) {
        JsonObject body = campaign(items.get(c * 7), c % 2 == 0 ? "cpm" : "cpc", c % 2 == 0 ? 500 + c * 10 : 20 + c,
            10_000_000, 1_000_000);
        if (c % 2 == 1) {
          body.put("targeting", new JsonObject().put("tags", new JsonArray().add(TAGS[c % TAGS.length])));
        }
        big.add(Long.parseLong(create(stack, merchant, body)));
      }
      String probe = "/api/v1/feed?limit=20";
      int firstStatus = stack.api.get(probe, tokens.get(0)).status();
      if (firstStatus != 200) {
        throw new IllegalStateException("GET /feed answered " + firstStatus);
      }

      // ---- part 1 ---- (-Dpart1=false skips it, to look at part 2 alone)
      if (Boolean.parseBoolean(System.getProperty("part1", "true"))) {
      List<Double> none = new ArrayList<>();
      List<Double> with = new ArrayList<>();
      List<Long> noneP99 = new ArrayList<>();
      List<Long> withP99 = new ArrayList<>();
      setStatus(stack, big, "paused");
      load(client, stack, tokens, concurrency, Math.max(3, seconds / 2), "warm-up, no campaigns");
      setStatus(stack, big, "active");
      load(client, stack, tokens, concurrency, Math.max(3, seconds / 2), "warm-up, " + campaigns + " campaigns");
      for (int r = 1; r <= rounds; r++) {
        setStatus(stack, big, "paused");
        Run a = load(client, stack, tokens, concurrency, seconds, "round " + r + ", no campaigns");
        setStatus(stack, big, "active");
        Run b = load(client, stack, tokens, concurrency, seconds, "round " + r + ", " + campaigns + " campaigns");
        none.add(a.perSecond());
        with.add(b.perSecond());
        noneP99.add(a.pct(99));
        withP99.add(b.pct(99));
        System.out.printf("round %d: with/without throughput %.3f, p99 %d vs %d ms; sponsored per page %.2f%n", r,
            b.perSecond() / a.perSecond(), b.pct(99), a.pct(99), (double) b.sponsored() / b.pages());
      }
      System.out.printf("median pages/s: none %.1f, with %d campaigns %.1f -> ratio %.3f (cost %.1f %%); "
              + "median p99: %d ms vs %d ms%n", median(none), campaigns, median(with), median(with) / median(none),
          100 * (1 - median(with) / median(none)), medianLong(noneP99), medianLong(withP99));
      }

      // ---- part 2 ----
      setStatus(stack, big, "paused");
      List<Long> small = new ArrayList<>();
      for (int c = 0; c < 10; c++) {
        boolean cpm = c % 2 == 0;
        long total = 20 + 5L * c;
        long daily = cpm ? total : total - 5;
        small.add(Long.parseLong(create(stack, merchant, campaign(items.get(400 + c), cpm ? "cpm" : "cpc",
            cpm ? 1_000 + 250L * c : 2 + c % 3, total, daily))));
      }
      Saturation s = saturate(client, stack, tokens, concurrency, 120);
      System.out.printf("saturation: %d pages, %d sponsored entries, %d events posted in %.1f s%n", s.pages(),
          s.sponsored(), s.events(), s.seconds());
      long overspend = 0;
      int exhausted = 0;
      long servedAfter = 0;
      long unbilled = 0;
      System.out.println("campaign | model | bid | total | daily | spent (millifen) | billed rows | rows billed 0 "
          + "| exhausted | served | last billing -> last served (ms) | served after last billing | overspend");
      for (long id : small) {
        Row r = stack.sql("""
            SELECT c.bid_model, c.bid_fen, c.budget_total_fen, c.budget_daily_fen, c.spent_millifen,
                   (SELECT coalesce(sum(cost_millifen), 0) FROM campaign_ledger l WHERE l.campaign_id = c.id) AS ledger,
                   (SELECT count(*) FROM campaign_ledger l WHERE l.campaign_id = c.id AND l.cost_millifen > 0) AS billed,
                   (SELECT count(*) FROM campaign_ledger l WHERE l.campaign_id = c.id AND l.cost_millifen = 0
                      AND l.event_type = CASE c.bid_model WHEN 'cpm' THEN 'impression' ELSE 'click' END) AS unbilled,
                   (SELECT (extract(epoch FROM max(at)) * 1000)::bigint FROM campaign_ledger l
                      WHERE l.campaign_id = c.id AND l.cost_millifen > 0) AS last_billed,
                   (SELECT coalesce(max(spent_millifen), 0) FROM campaign_daily_spend d WHERE d.campaign_id = c.id) AS day
            FROM campaigns c WHERE c.id = $1""", Tuple.of(id)).iterator().next();
        long ledger = r.getLong("ledger");
        long total = r.getLong("budget_total_fen") * 1000;
        long daily = r.getLong("budget_daily_fen") * 1000;
        long slot = "cpm".equals(r.getString("bid_model")) ? r.getLong("bid_fen") : r.getLong("bid_fen") * 1000;
        long over = Math.max(0, ledger - total) + Math.max(0, r.getLong("day") - daily);
        // exhausted: not one more slot fits in the total or the day's budget
        boolean full = ledger + slot > total || r.getLong("day") + slot > daily;
        List<Long> times = s.served().getOrDefault(id, List.of());
        long lastServed = times.stream().mapToLong(Long::longValue).max().orElse(0);
        Long lastBilled = r.getLong("last_billed");
        long after = lastBilled == null ? 0 : times.stream().filter(t -> t > lastBilled).count();
        overspend += over;
        exhausted += full ? 1 : 0;
        servedAfter += after;
        unbilled += r.getLong("unbilled");
        System.out.printf("%d | %s | %d | %d | %d | %d | %d | %d | %s | %d | %s | %d | %d%n", id,
            r.getString("bid_model"), r.getLong("bid_fen"), r.getLong("budget_total_fen"),
            r.getLong("budget_daily_fen"), ledger, r.getLong("billed"), r.getLong("unbilled"), full ? "yes" : "no",
            times.size(), lastBilled == null ? "-" : Long.toString(lastServed - lastBilled), after, over);
        System.out.printf("  redis cache: %s%n", redisState(stack, id));
        if (ledger != r.getLong("spent_millifen")) {
          throw new IllegalStateException("campaign " + id + ": ledger " + ledger + " != spent " + r.getLong("spent_millifen"));
        }
      }
      System.out.printf("budgets exhausted: %d of %d; entries served after their campaign's last billing: %d; "
          + "billable events billed 0 (past a budget): %d%n", exhausted, small.size(), servedAfter, unbilled);
      System.out.printf("overspend over all small-budget campaigns: %d millifen (%d fen)%n", overspend, overspend / 1000);
      System.out.printf("load average at the end: %s%n", loadAverage());
    } finally {
      client.close();
      stack.close();
    }
    System.exit(0);
  }

  record Run(long nanos, long[] latencies, long pages, long sponsored) {
    double perSecond() {
      return pages * 1e9 / nanos;
    }

    long pct(int p) {
      int index = (int) Math.ceil(p / 100.0 * latencies.length) - 1;
      return latencies[Math.max(0, index)] / 1_000_000;
    }
  }

  /** Closed loop: each client asks for a new page as soon as its last one answered, until the time is up. */
  static Run load(WebClient client, TestStack stack, List<String> tokens, int concurrency, int seconds, String label)
      throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicLong sponsored = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    long start = System.nanoTime();
    List<Future<Void>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      Promise<Void> done = Promise.promise();
      workers.add(done.future());
      stack.clientVertx.runOnContext(v -> loop(client, stack, tokens, next, deadline, latencies, sponsored, failures,
          done));
    }
    Future.all(workers).await(seconds + 120L, TimeUnit.SECONDS);
    long nanos = System.nanoTime() - start;
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    Run run = new Run(nanos, sorted, sorted.length, sponsored.get());
    System.out.printf("%s: %d pages in %.1f s = %.1f pages/s; p50 %d ms, p99 %d ms; %d failed%n", label, run.pages(),
        nanos / 1e9, run.perSecond(), run.pct(50), run.pct(99), failures.get());
    return run;
  }

  private static void loop(WebClient client, TestStack stack, List<String> tokens, AtomicInteger next, long deadline,
      List<Long> latencies, AtomicLong sponsored, AtomicInteger failures, Promise<Void> done) {
    if (System.nanoTime() >= deadline) {
      done.complete();
      return;
    }
    String token = tokens.get(Math.floorMod(next.getAndIncrement(), tokens.size()));
    long sent = System.nanoTime();
    client.get(stack.apiPort(), "127.0.0.1", "/api/v1/feed?limit=20").putHeader("Authorization", "Bearer " + token)
        .timeout(30_000).send().onComplete(r -> {
          if (r.succeeded() && r.result().statusCode() == 200) {
            latencies.add(System.nanoTime() - sent);
            sponsored.addAndGet(sponsoredEntries(r.result()).size());
          } else {
            failures.incrementAndGet();
          }
          loop(client, stack, tokens, next, deadline, latencies, sponsored, failures, done);
        });
  }

  static List<JsonObject> sponsoredEntries(HttpResponse<Buffer> page) {
    List<JsonObject> out = new ArrayList<>();
    for (Object o : page.bodyAsJsonObject().getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (item.getBoolean("sponsored", false)) {
        out.add(item);
      }
    }
    return out;
  }

  /** {@code served}: per campaign, when (epoch ms, as the client received the page) each of its entries was served. */
  record Saturation(long pages, long sponsored, long events, double seconds, java.util.Map<Long, List<Long>> served) {}

  /** What Redis holds for a campaign's serving now: each key and its value (or its size for sets and hashes). */
  static String redisState(TestStack stack, long campaignId) {
    io.vertx.redis.client.Redis client = stack.redisClient();
    try {
      io.vertx.redis.client.RedisAPI redis = io.vertx.redis.client.RedisAPI.api(client);
      List<String> names = new ArrayList<>();
      redis.keys(io.wxmp.handlers.campaigns.Budgets.keyPattern(campaignId)).await(10, TimeUnit.SECONDS)
          .forEach(k -> names.add(k.toString()));
      java.util.Collections.sort(names);
      StringBuilder out = new StringBuilder();
      for (String k : names) {
        if (k.contains(":ures:") || k.contains(":cap:")) {
          continue;
        }
        String type = redis.type(k).await(10, TimeUnit.SECONDS).toString();
        String value = switch (type) {
          case "string" -> redis.get(k).await(10, TimeUnit.SECONDS).toString();
          case "zset" -> "zset of " + redis.zcard(k).await(10, TimeUnit.SECONDS);
          case "hash" -> "hash of " + redis.hlen(k).await(10, TimeUnit.SECONDS);
          default -> type;
        };
        out.append(k.substring(k.lastIndexOf(campaignId + ":"))).append('=').append(value).append("; ");
      }
      return out.toString();
    } catch (Exception e) {
      return e.toString();
    } finally {
      client.close();
    }
  }

  /** The campaign of a sponsored entry, as the page names it. */
  static long campaignOf(JsonObject ad) {
    return Long.parseLong(ad.getString("campaignId"));
  }

  /** Pages and events for every sponsored entry (each sent twice) until nothing sponsored came for 5 s. */
  static Saturation saturate(WebClient client, TestStack stack, List<String> tokens, int concurrency, int maxSeconds)
      throws Exception {
    long start = System.nanoTime();
    long deadline = start + maxSeconds * 1_000_000_000L;
    AtomicLong lastSponsored = new AtomicLong(System.nanoTime());
    AtomicLong pages = new AtomicLong();
    AtomicLong sponsored = new AtomicLong();
    AtomicLong events = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    java.util.Map<Long, List<Long>> served = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<Void>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      Promise<Void> done = Promise.promise();
      workers.add(done.future());
      stack.clientVertx.runOnContext(v -> saturateLoop(client, stack, tokens, next, deadline, lastSponsored, pages,
          sponsored, events, served, done));
    }
    Future.all(workers).await(maxSeconds + 120L, TimeUnit.SECONDS);
    return new Saturation(pages.get(), sponsored.get(), events.get(), (System.nanoTime() - start) / 1e9, served);
  }

  private static void saturateLoop(WebClient client, TestStack stack, List<String> tokens, AtomicInteger next,
      long deadline, AtomicLong lastSponsored, AtomicLong pages, AtomicLong sponsored, AtomicLong events,
      java.util.Map<Long, List<Long>> served, Promise<Void> done) {
    long now = System.nanoTime();
    if (now >= deadline || now - lastSponsored.get() > 5_000_000_000L) {
      done.complete();
      return;
    }
    int n = next.getAndIncrement();
    String token = tokens.get(Math.floorMod(n, tokens.size()));
    client.get(stack.apiPort(), "127.0.0.1", "/api/v1/feed?limit=20").putHeader("Authorization", "Bearer " + token)
        .timeout(30_000).send().compose(page -> {
          pages.incrementAndGet();
          List<JsonObject> ads = page.statusCode() == 200 ? sponsoredEntries(page) : List.of();
          if (ads.isEmpty()) {
            return Future.succeededFuture();
          }
          lastSponsored.set(System.nanoTime());
          sponsored.addAndGet(ads.size());
          long servedAt = System.currentTimeMillis();
          for (JsonObject ad : ads) {
            served.computeIfAbsent(campaignOf(ad), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                .add(servedAt);
          }
          JsonArray batch = new JsonArray();
          for (int twice = 0; twice < 2; twice++) {
            for (JsonObject ad : ads) {
              batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("itemId", ad.getString("id"))
                  .put("type", "impression").put("token", ad.getString("token")));
              batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("itemId", ad.getString("id"))
                  .put("type", "click").put("token", ad.getString("token")));
            }
          }
          events.addAndGet(batch.size());
          return client.post(stack.apiPort(), "127.0.0.1", "/api/v1/events")
              .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json")
              .timeout(30_000).sendBuffer(new JsonObject().put("events", batch).toBuffer()).mapEmpty();
        }).onComplete(r -> saturateLoop(client, stack, tokens, next, deadline, lastSponsored, pages, sponsored,
            events, served, done));
  }

  static List<Long> seedItems(TestStack stack, long merchantId, int n, Random random) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String[] tags = {TAGS[random.nextInt(TAGS.length)], TAGS[random.nextInt(TAGS.length)]};
      Long price = i % 3 == 0 ? null : 100L + random.nextInt(900);
      ids.add(stack.sql("""
          INSERT INTO items (merchant_id, kind, title, summary, body, tags, price_fen, status)
          VALUES ($1, 'article', $2, 's', 'b', $3, $4, 'published') RETURNING id""",
          Tuple.of(merchantId, "Bench item " + i, tags, price)).iterator().next().getLong(0));
    }
    return ids;
  }

  static JsonObject campaign(long itemId, String model, long bid, long total, long daily) {
    return new JsonObject().put("name", "bench " + itemId).put("itemId", Long.toString(itemId))
        .put("bid", new JsonObject().put("model", model).put("amount", bid))
        .put("budget", new JsonObject().put("total", total).put("daily", daily))
        .put("startAt", java.time.OffsetDateTime.now().minusDays(1).toString()).put("status", "active");
  }

  static String create(TestStack stack, TestStack.Merchant m, JsonObject body) {
    var r = stack.api.post("/api/v1/admin/campaigns", m.owner(), body);
    if (r.status() != 201) {
      throw new IllegalStateException("campaign: " + r);
    }
    return r.json().getString("id");
  }

  /** Straight in SQL (50 PATCHes would be slow), announced as a campaign write announces itself to serving. */
  static void setStatus(TestStack stack, List<Long> ids, String status) {
    stack.sql("UPDATE campaigns SET status = $2 WHERE id = ANY($1)", Tuple.of(ids.toArray(new Long[0]), status));
    io.vertx.redis.client.Redis redis = stack.redisClient();
    try {
      io.wxmp.handlers.campaigns.Budgets.changed(io.vertx.redis.client.RedisAPI.api(redis)).await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      redis.close();
    }
  }

  static Future<String> login(TestStack stack) {
    return stack.sandbox.sendAsync(io.vertx.core.http.HttpMethod.POST, "/sandbox/users", null,
            new JsonObject().toBuffer(), null)
        .compose(wx -> stack.api.sendAsync(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/login", null,
            new JsonObject().put("code", wx.json().getString("code")).toBuffer(), null))
        .map(r -> r.json().getString("token"));
  }

  static <T> List<T> inBatches(int n, int width, IntFunction<Future<T>> call) throws Exception {
    List<T> out = new ArrayList<>(n);
    for (int from = 0; from < n; from += width) {
      List<Future<T>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + width); i++) {
        batch.add(call.apply(i));
      }
      Future.all(batch).await(120, TimeUnit.SECONDS);
      batch.forEach(f -> out.add(f.result()));
    }
    return out;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v[v.length / 2];
  }

  static long medianLong(List<Long> values) {
    long[] v = values.stream().mapToLong(Long::longValue).sorted().toArray();
    return v[v.length / 2];
  }

  static String loadAverage() {
    try {
      String[] parts = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (java.io.IOException | RuntimeException e) {
      return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }
}
