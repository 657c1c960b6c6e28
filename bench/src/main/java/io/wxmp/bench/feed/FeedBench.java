package io.wxmp.bench.feed;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.feed.FeedTrainer;
import io.wxmp.handlers.feed.ModelStore;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load test of {@code GET /feed} beside {@code GET /me} (an authenticated PostgreSQL + Redis read) in the same run.
 *
 * <p>Data: {@code items} items (default 100,000) in 50 tag clusters across 100 merchants, {@code users} users (default
 * 100,000) with 20 weighted events each, mostly in one cluster; a model trained from them (iALS, d = 64; the training
 * time is printed); the ranking verticle on the CPU. Then {@code sessions} of the planted users log in through the
 * sandbox (so pages rank with their trained vectors) and the load generator measures, per endpoint: the saturation
 * throughput (closed loop, {@code concurrency} requests in flight), then open-loop runs at fixed rates (fractions of the
 * feed's saturation) with latency taken from each request's scheduled start (no coordinated omission). Every request of
 * those runs opens a new feed for a random session (a user's refresh: with the candidate cache, mostly the same
 * ranking again); then a browsing run, where each of {@code concurrency} virtual users opens a feed, follows its
 * {@code nextCursor} for two more pages, and posts the impressions of each page and, every few pages, a click (which
 * re-solves the user's vector, so their next page ranks again). Both print the candidate cache's hit share and the
 * ranking worker's time per query from the server's counters.
 *
 * <p>Everything runs in one JVM on one machine (embedded PostgreSQL and Redis, the server with two HTTP event loops,
 * the client on its own Vert.x), so the client's CPU is part of the cost. Options (system properties):
 * {@code -Ditems -Dusers -Dsessions=2000 -Dconcurrency=64 -Dseconds=15 -Dfractions=0.25,0.5,0.75,1.0}, 
 * {@code -Depochs} (training epochs, default the server's 16: fewer make a run short enough to repeat) and
 * {@code -Dsettings=K=V,...} (server settings, e.g. a longer {@code WXMP_PG_QUERY_TIMEOUT_MS} on a loaded machine).
 */
public final class FeedBench {
  private FeedBench() {}

  public static void main(String[] args) throws Exception {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int items = Integer.getInteger("items", 100_000);
    int users = Integer.getInteger("users", 100_000);
    int sessions = Integer.getInteger("sessions", 2_000);
    int concurrency = Integer.getInteger("concurrency", 64);
    int seconds = Integer.getInteger("seconds", 15);
    double[] fractions = Arrays.stream(System.getProperty("fractions", "0.25,0.5,0.75,1.0").split(","))
        .mapToDouble(Double::parseDouble).toArray();
    System.out.printf("FeedBench: %,d items, %,d users, %,d sessions, concurrency %d, %d s per run; %d CPUs, JDK %s "
            + "(%s), max heap %d MiB%n", items, users, sessions, concurrency, seconds,
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf("load average at the start: %s%n", loadAverage());
    TestStack stack = TestStack.create();
    try {
      String epochs = System.getProperty("epochs");
      String extra = System.getProperty("settings", "");
      if (epochs != null || !extra.isBlank()) {
        // fewer training epochs make a shorter run (the vectors' shape, and so the serving cost, is the same);
        // settings: K=V,... for the server (a longer WXMP_PG_QUERY_TIMEOUT_MS for training on a loaded machine)
        stack.stopServer();
        if (epochs != null) {
          stack.settings.put("WXMP_FEED_TRAIN_EPOCHS", epochs);
        }
        for (String kv : extra.split(",")) {
          if (kv.contains("=")) {
            stack.settings.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
          }
        }
        stack.startServer();
      }
      long t = System.nanoTime();
      plant(stack, items, users);
      System.out.printf("planted in %.1f s: %,d events%n", (System.nanoTime() - t) / 1e9,
          stack.count("SELECT count(*) FROM events", Tuple.tuple()));
      t = System.nanoTime();
      FeedTrainer.Run run = stack.server().feed().trainer().start().await(60, TimeUnit.SECONDS);
      ModelStore.ModelRow model = run.finished().await(60, TimeUnit.MINUTES);
      if (!"serving".equals(model.status())) {
        throw new IllegalStateException("training failed: " + model.status() + " " + model.error());
      }
      System.out.printf("trained %s (%s) in %.1f s wall (trainSeconds %s): %s users, %s items, metrics %s%n",
          model.version(), model.status(), (System.nanoTime() - t) / 1e9,
          model.metrics() == null ? "-" : model.metrics().getValue("trainSeconds"), model.users(), model.items(),
          model.metrics());
      stack.server().feed().refresh().await(10, TimeUnit.MINUTES);
      System.out.printf("serving %s%n", stack.server().feed().serving().current().version());
      if (!"false".equals(System.getProperty("ivfRecall"))) {
        ivfRecall(stack, model.id());
      }
      if (Boolean.getBoolean("ivfOnly")) {
        stack.close();
        System.exit(0);
      }

      t = System.nanoTime();
      List<String> tokens = login(stack, sessions, users);
      System.out.printf("logged in %,d sessions in %.1f s%n", tokens.size(), (System.nanoTime() - t) / 1e9);
      Vertx vertx = stack.clientVertx;
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(concurrency * 4).setMaxWaitQueueSize(-1));
      int port = stack.apiPort();
      // warm-up: JIT, connections, caches
      closedLoop(client, port, "/api/v1/feed?limit=20", tokens, concurrency, 10);
      closedLoop(client, port, "/api/v1/me", tokens, concurrency, 5);

      Result meMax = closedLoop(client, port, "/api/v1/me", tokens, concurrency, seconds);
      String feedBefore = metricsText(stack);
      Map<String, long[]> redisBefore = RedisStats.on() ? RedisStats.commandstats(stack) : null;
      Result feedMax = closedLoop(client, port, "/api/v1/feed?limit=20", tokens, concurrency, seconds);
      String feedAfter = metricsText(stack);
      if (RedisStats.on()) {
        RedisStats.print("GET /feed saturation", redisBefore, RedisStats.commandstats(stack), feedMax.count());
      }
      System.out.println();
      System.out.println("| endpoint | load | offered req/s | achieved req/s | p50 ms | p99 ms | errors |");
      System.out.println("|---|---|---|---|---|---|---|");
      print("GET /me", "saturation (" + concurrency + " in flight)", Double.NaN, meMax);
      print("GET /feed", "saturation (" + concurrency + " in flight)", Double.NaN, feedMax);
      for (double f : fractions) {
        double rate = f * feedMax.throughput();
        print("GET /me", String.format(Locale.ROOT, "%.0f %% of feed saturation", f * 100), rate,
            openLoop(vertx, client, port, "/api/v1/me", tokens, rate, seconds));
        if (RedisStats.on() && f == fractions[0]) {
          RedisStats.slowlogStart(stack);
        }
        Result feedOpen = openLoop(vertx, client, port, "/api/v1/feed?limit=20", tokens, rate, seconds);
        print("GET /feed", String.format(Locale.ROOT, "%.0f %% of feed saturation", f * 100), rate, feedOpen);
        if (RedisStats.on() && f == fractions[0]) {
          RedisStats.slowlogPrint(stack, "GET /feed open loop", feedOpen.count());
        }
      }
      System.out.printf("%nfeed / me saturation throughput: %.2f%n", feedMax.throughput() / meMax.throughput());

      // browsing: each virtual user opens a feed, follows nextCursor for two more pages, posts the impressions of
      // each page and a click every few pages (which folds into the user's vector: the next page ranks again)
      String browseBefore = metricsText(stack);
      Map<String, long[]> redisBrowse = RedisStats.on() ? RedisStats.commandstats(stack) : null;
      Result browsing = browse(client, port, tokens, concurrency, seconds);
      String browseAfter = metricsText(stack);
      if (RedisStats.on()) {
        RedisStats.print("browsing (pages and their events' batches)", redisBrowse, RedisStats.commandstats(stack),
            browsing.count());
      }
      System.out.println();
      System.out.println("| GET /feed | load | pages/s | p50 ms | p99 ms | errors | candidate cache hits | "
          + "ranking queries per page | ranking µs per query | IVF rows per query |");
      System.out.println("|---|---|---|---|---|---|---|---|---|---|");
      printMode("a new feed per request", "saturation (" + concurrency + " in flight)", feedMax, feedBefore, feedAfter);
      printMode("browsing: " + PAGES_PER_FEED + " pages a feed, impressions, a click every " + CLICK_EVERY + " pages",
          "saturation (" + concurrency + " users)", browsing, browseBefore, browseAfter);

      // POST /events, batches of 20, closed loop, with the model serving (so every batch with a positive event
      // re-solves the user's vector: the fold-in), beside GET /me once more
      long firstItem = stack.sql("SELECT min(id) FROM items WHERE title LIKE 'Bench item %'", Tuple.tuple())
          .iterator().next().getLong(0);
      long storedBefore = stack.count("SELECT count(*) FROM events", Tuple.tuple());
      closedLoopPost(client, port, tokens, firstItem, items, concurrency, 5); // warm-up
      String before = metricsText(stack);
      Result meAgain = closedLoop(client, port, "/api/v1/me", tokens, concurrency, seconds);
      Result events = closedLoopPost(client, port, tokens, firstItem, items, concurrency, seconds);
      String after = metricsText(stack);
      long stored = stack.count("SELECT count(*) FROM events", Tuple.tuple()) - storedBefore;
      System.out.println();
      System.out.println("| endpoint | load | batches/s | events/s | p50 ms | p99 ms | errors |");
      System.out.println("|---|---|---|---|---|---|---|");
      System.out.printf(Locale.ROOT, "| GET /me | saturation (%d in flight) | — | %.0f req/s | %.1f | %.1f | %d |%n",
          concurrency, meAgain.throughput(), meAgain.p50(), meAgain.p99(), meAgain.errors());
      System.out.printf(Locale.ROOT, "| POST /events (20 per batch) | saturation (%d in flight) | %.0f | %.0f | %.1f | "
              + "%.1f | %d |%n", concurrency, events.throughput(), events.throughput() * BATCH, events.p50(),
          events.p99(), events.errors());
      System.out.printf("events stored during the warm-up and the run: %,d%n", stored);
      System.out.printf("fold-in (the user step, per batch with a positive event) during the whole run: %s more solves, "
              + "p50 %s ms, p99 %s ms (the server's timer, a decaying 1-2 min window)%n",
          count(after, "wxmp_feed_foldin_seconds_count") - count(before, "wxmp_feed_foldin_seconds_count"),
          quantileMs(after, "0.5"), quantileMs(after, "0.99"));
      after.lines().filter(l -> l.startsWith("wxmp_feed_foldin")).forEach(l -> System.out.println("  " + l));
      System.out.printf("candidate cache during the run: %s hits, misses by reason %s%n",
          (long) sum(metricsText(stack), "wxmp_feed_candidate_cache_hits_total"),
          metricsText(stack).lines().filter(l -> l.startsWith("wxmp_feed_candidate_cache_misses_total{"))
              .map(l -> l.substring(l.indexOf("reason=\"") + 8, l.indexOf('"', l.indexOf("reason=\"") + 8)) + " "
                  + (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList());
      System.out.printf("ranking fallbacks during the run: %s%n", stack.management().get("/metrics", null).raw().toString()
          .lines().filter(l -> l.startsWith("wxmp_feed_ranking_fallbacks_total")).findFirst().orElse("-"));
      System.out.printf("collections ranked through an IVF index: %s%n", stack.management().get("/metrics", null).raw()
          .toString().lines().filter(l -> l.startsWith("wxmp_ranking_indexed_collections")).findFirst().orElse("-"));
      System.out.printf("load average at the end: %s%n", loadAverage());
    } catch (Throwable e) {
      e.printStackTrace();
      stack.close();
      System.exit(1);
    }
    stack.close();
    System.exit(0);
  }

  static final int BATCH = 20;
  static final int PAGES_PER_FEED = 3;
  static final int CLICK_EVERY = 4;

  /**
   * One row of the feed-modes table: the run's pages/s and latency, and from the server's counters over the run the
   * candidate cache's hit share, ranking requests per page and the ranking worker's time per query ("-" where the
   * build has no such counter).
   */
  static void printMode(String mode, String load, Result r, String before, String after) {
    double hits = sum(after, "wxmp_feed_candidate_cache_hits_total") - sum(before, "wxmp_feed_candidate_cache_hits_total");
    double misses = sum(after, "wxmp_feed_candidate_cache_misses_total")
        - sum(before, "wxmp_feed_candidate_cache_misses_total");
    double queries = sum(after, "wxmp_ranking_batch_size_sum") - sum(before, "wxmp_ranking_batch_size_sum");
    double seconds = sum(after, "wxmp_ranking_score_seconds_sum") - sum(before, "wxmp_ranking_score_seconds_sum");
    double rows = sum(after, "wxmp_ranking_ivf_rows_total") - sum(before, "wxmp_ranking_ivf_rows_total");
    boolean cache = after.contains("wxmp_feed_candidate_cache_hits_total");
    System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.1f | %.1f | %d | %s | %.2f | %s | %s |%n", mode, load,
        r.throughput(),
        r.p50(), r.p99(), r.errors(),
        !cache || hits + misses == 0 ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * hits / (hits + misses)),
        r.count() == 0 ? 0.0 : queries / r.count(),
        queries == 0 ? "-" : String.format(Locale.ROOT, "%.0f", seconds * 1e6 / queries),
        queries == 0 || !after.contains("wxmp_ranking_ivf_rows_total") ? "-"
            : String.format(Locale.ROOT, "%.0f", rows / queries));
  }

  /** The sum of every series of a metric (its lines {@code name value} and {@code name{labels} value}). */
  static double sum(String metrics, String name) {
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /**
   * {@code users} virtual users for {@code seconds}, each in a loop: one of the sessions opens a feed and follows its
   * {@code nextCursor} for {@value #PAGES_PER_FEED} pages in all, and after each page posts the impressions of what
   * it showed (with their tokens) and, on every {@value #CLICK_EVERY}th page of that virtual user, a click on one of
   * its items. Latency and throughput count the pages only (the posts are part of the load).
   */
  static Result browse(HttpClient client, int port, List<String> tokens, int users, int seconds) throws Exception {
    mark("browsing /api/v1/feed for " + seconds + " s");
    Browsing b = new Browsing(client, port, tokens, System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds),
        new long[4_000_000], new AtomicInteger(), new AtomicLong(), new AtomicInteger(users), Promise.promise());
    long start = System.nanoTime();
    for (int u = 0; u < users; u++) {
      browseFeed(b, new int[1]);
    }
    b.done().future().await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return summarise(b.latencies(), Math.min(b.n().get(), b.latencies().length), elapsed, b.errors().get());
  }

  private record Browsing(HttpClient client, int port, List<String> tokens, long end, long[] latencies,
      AtomicInteger n, AtomicLong errors, AtomicInteger running, Promise<Void> done) {}

  private static void browseFeed(Browsing b, int[] pagesSeen) {
    if (System.nanoTime() >= b.end()) {
      if (b.running().decrementAndGet() == 0) {
        b.done().tryComplete();
      }
      return;
    }
    browsePage(b, b.tokens().get(ThreadLocalRandom.current().nextInt(b.tokens().size())), null, 1, pagesSeen);
  }

  private static void browsePage(Browsing b, String token, String cursor, int pageOfFeed, int[] pagesSeen) {
    String uri = "/api/v1/feed?limit=20" + (cursor == null ? ""
        : "&cursor=" + java.net.URLEncoder.encode(cursor, java.nio.charset.StandardCharsets.UTF_8));
    long t0 = System.nanoTime();
    b.client().request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(b.port())
            .setURI(uri).putHeader("Authorization", "Bearer " + token).setTimeout(30_000))
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> resp.statusCode() == 200
            ? body.toJsonObject() : null)))
        .onComplete(r -> {
          record(b.latencies(), b.n(), System.nanoTime() - t0);
          if (r.failed() || r.result() == null) {
            b.errors().incrementAndGet();
            browseFeed(b, pagesSeen);
            return;
          }
          JsonObject page = r.result();
          io.vertx.core.json.JsonArray shown = page.getJsonArray("items");
          io.vertx.core.json.JsonArray events = new io.vertx.core.json.JsonArray();
          for (int i = 0; i < shown.size(); i++) {
            JsonObject item = shown.getJsonObject(i);
            events.add(new JsonObject().put("id", "fb" + SEQ.incrementAndGet()).put("itemId", item.getString("id"))
                .put("type", "impression").put("token", item.getString("token")));
          }
          if (++pagesSeen[0] % CLICK_EVERY == 0 && !shown.isEmpty()) {
            JsonObject item = shown.getJsonObject(ThreadLocalRandom.current().nextInt(shown.size()));
            events.add(new JsonObject().put("id", "fb" + SEQ.incrementAndGet()).put("itemId", item.getString("id"))
                .put("type", "click").put("token", item.getString("token")));
          }
          String next = page.getString("nextCursor");
          Future<Integer> posted = events.isEmpty() ? Future.succeededFuture(202)
              : b.client().request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                      .setPort(b.port()).setURI("/api/v1/events").putHeader("Authorization", "Bearer " + token)
                      .putHeader("Content-Type", "application/json").setTimeout(30_000))
                  .compose(req -> req.send(new JsonObject().put("events", events).toBuffer())
                      .compose(resp -> resp.body().map(x -> resp.statusCode())));
          posted.onComplete(p -> {
            if (pageOfFeed < PAGES_PER_FEED && next != null && System.nanoTime() < b.end()) {
              browsePage(b, token, next, pageOfFeed + 1, pagesSeen);
            } else {
              browseFeed(b, pagesSeen);
            }
          });
        });
  }
  private static final String[] TYPES = {"impression", "impression", "impression", "impression", "impression",
      "impression", "impression", "impression", "impression", "impression", "click", "click", "click", "dwell",
      "dwell", "like", "complete", "share", "impression", "click"};
  private static final AtomicLong SEQ = new AtomicLong();

  /** {@code inFlight} POST /events of {@link #BATCH} events each (ten impressions, clicks, dwells, ...). */
  static Result closedLoopPost(HttpClient client, int port, List<String> tokens, long firstItem, int items,
      int inFlight, int seconds) throws Exception {
    mark("closed loop POST /api/v1/events for " + seconds + " s");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long[] latencies = new long[4_000_000];
    AtomicInteger n = new AtomicInteger();
    AtomicLong errors = new AtomicLong();
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(inFlight);
    long start = System.nanoTime();
    for (int c = 0; c < inFlight; c++) {
      postLoop(client, port, tokens, firstItem, items, end, latencies, n, errors, running, done);
    }
    done.future().await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return summarise(latencies, Math.min(n.get(), latencies.length), elapsed, errors.get());
  }

  private static void postLoop(HttpClient client, int port, List<String> tokens, long firstItem, int items, long end,
      long[] latencies, AtomicInteger n, AtomicLong errors, AtomicInteger running, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
    java.time.OffsetDateTime now = java.time.OffsetDateTime.now();
    for (int e = 0; e < BATCH; e++) {
      String type = TYPES[e];
      JsonObject event = new JsonObject().put("id", "fb" + SEQ.incrementAndGet())
          .put("itemId", Long.toString(firstItem + random.nextInt(items))).put("type", type);
      if (type.equals("dwell")) {
        event.put("dwellMs", 1000 + random.nextInt(60_000));
      }
      if (e % 2 == 0) {
        event.put("at", now.minusSeconds(random.nextInt(60)).toString());
      }
      list.add(event);
    }
    String token = tokens.get(random.nextInt(tokens.size()));
    long t0 = System.nanoTime();
    client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
            .setURI("/api/v1/events").putHeader("Authorization", "Bearer " + token)
            .putHeader("Content-Type", "application/json").setTimeout(30_000))
        .compose(req -> req.send(new JsonObject().put("events", list).toBuffer())
            .compose(resp -> resp.body().map(b -> resp.statusCode())))
        .onComplete(r -> {
          record(latencies, n, System.nanoTime() - t0);
          if (r.failed() || r.result() != 202) {
            errors.incrementAndGet();
          }
          postLoop(client, port, tokens, firstItem, items, end, latencies, n, errors, running, done);
        });
  }

  private static String metricsText(TestStack stack) {
    return stack.management().get("/metrics", null).raw().toString();
  }

  private static long count(String metrics, String name) {
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{")).findFirst()
        .map(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(0L);
  }

  /**
   * The fold-in's quantile q, as the upper bound of the histogram bucket it falls in (the server publishes buckets
   * around the 1 ms budget, no client-side percentiles): "≤ x ms".
   */
  private static String quantileMs(String metrics, String q) {
    List<double[]> buckets = new java.util.ArrayList<>(); // {le seconds, cumulative count}
    metrics.lines().filter(l -> l.startsWith("wxmp_feed_foldin_seconds_bucket{")).forEach(l -> {
      int i = l.indexOf("le=\"") + 4;
      String le = l.substring(i, l.indexOf('"', i));
      buckets.add(new double[] {le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le),
          Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))});
    });
    if (buckets.isEmpty() || buckets.get(buckets.size() - 1)[1] == 0) {
      return "-";
    }
    buckets.sort(java.util.Comparator.comparingDouble(b -> b[0]));
    double target = Double.parseDouble(q) * buckets.get(buckets.size() - 1)[1];
    for (double[] b : buckets) {
      if (b[1] >= target) {
        return Double.isInfinite(b[0]) ? "> 10" : String.format(Locale.ROOT, "≤ %.2f", b[0] * 1000);
      }
    }
    return "-";
  }

  /** Items, users and events in SQL (setseed: the same data every run); events 10,000 users per statement. */
  static void plant(TestStack stack, int items, int users) throws Exception {
    sql(stack, "SELECT setseed(0.42)", Tuple.tuple());
    sql(stack, "INSERT INTO merchants (name) SELECT 'Bench shop ' || m FROM generate_series(1, 100) m", Tuple.tuple());
    sql(stack, """
        INSERT INTO items (merchant_id, kind, title, summary, tags, price_fen, status)
        SELECT (SELECT min(id) FROM merchants WHERE name LIKE 'Bench shop %') + (i % 100), 'article', 'Bench item ' || i,
               'A benchmark item', ARRAY['t' || (i % 50), 'm' || (i % 7)], CASE WHEN i % 4 = 0 THEN 100 END, 'published'
        FROM generate_series(0, $1 - 1) i""", Tuple.of(items));
    sql(stack, "INSERT INTO users (openid) SELECT 'bench-u' || u FROM generate_series(0, $1 - 1) u", Tuple.of(users));
    // each user: 20 events, 17 in their cluster (u % 50), 3 anywhere; items of cluster c are those with id % 50 = c
    for (int from = 0; from < users; from += 10_000) {
      sql(stack, """
          INSERT INTO events (user_id, item_id, type, at)
          SELECT u.id, x.item, CASE WHEN random() < 0.2 THEN 'like' ELSE 'click' END,
                 now() - random() * interval '6 days'
          FROM (SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users
                                   WHERE openid LIKE 'bench-u%') all_users WHERE n >= $2 AND n < $3) u
          CROSS JOIN LATERAL (
            SELECT CASE WHEN k <= 17
                     THEN (SELECT min(id) FROM items) + ((u.n % 50) + 50 * floor(random() * ($1 / 50))::int)
                     ELSE (SELECT min(id) FROM items) + floor(random() * $1)::int END AS item
            FROM generate_series(1, 20) k) x""", Tuple.of(items, from, from + 10_000));
    }
    sql(stack, "ANALYZE", Tuple.tuple());
  }

  /** A statement with a bench-sized time limit (the test kit's own waits 20 s). */
  static void sql(TestStack stack, String sql, Tuple args) throws Exception {
    stack.db.preparedQuery(sql).execute(args).await(30, TimeUnit.MINUTES);
  }

  /**
   * Logs in {@code n} of the planted users through the sandbox (their openids), 20 at a time; a login that a loaded
   * machine timed out (503) is tried again, up to 5 times.
   */
  static List<String> login(TestStack stack, int n, int users) throws Exception {
    List<String> tokens = new ArrayList<>();
    for (int from = 0; from < n; from += 20) {
      List<String> openids = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + 20); i++) {
        openids.add("bench-u" + (long) i * users / n);
      }
      for (int attempt = 1; !openids.isEmpty(); attempt++) {
        List<Future<Reply>> batch = new ArrayList<>();
        for (String openid : openids) {
          batch.add(stack.sandbox.sendAsync(HttpMethod.POST, "/sandbox/users", null,
                  new JsonObject().put("openid", openid).toBuffer(), null)
              .compose(r -> stack.api.sendAsync(HttpMethod.POST, "/api/v1/auth/login", null,
                  new JsonObject().put("code", r.json().getString("code")).toBuffer(), null)));
        }
        List<String> again = new ArrayList<>();
        for (int k = 0; k < batch.size(); k++) {
          Future<Reply> f = batch.get(k);
          try {
            Reply r = f.await(60, TimeUnit.SECONDS);
            if (r.status() == 200) {
              tokens.add(r.json().getString("token"));
              continue;
            }
            if (attempt >= 5) {
              throw new IllegalStateException("login: " + r);
            }
          } catch (IllegalStateException e) {
            throw e;
          } catch (Exception e) {
            if (attempt >= 5) {
              throw e;
            }
          }
          again.add(openids.get(k));
        }
        openids = again;
      }
    }
    return tokens;
  }

  record Result(double throughput, long count, double p50, double p99, long errors) {}

  static void print(String endpoint, String load, double offered, Result r) {
    System.out.printf(Locale.ROOT, "| %s | %s | %s | %.0f | %.1f | %.1f | %d |%n", endpoint, load,
        Double.isNaN(offered) ? "—" : String.format(Locale.ROOT, "%.0f", offered), r.throughput(), r.p50(), r.p99(),
        r.errors());
  }

  /**
   * The IVF pre-selection's recall of the exact top-300 on this run's model: its trained item vectors, and 1,000 of
   * its trained user vectors as queries (the same index the ranking verticle builds; measured before the load runs).
   */
  static void ivfRecall(TestStack stack, long modelId) {
    List<Long> ids = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    for (io.vertx.sqlclient.Row r : stack.sql("SELECT item_id, vector FROM feed_item_vectors WHERE model_id = $1",
        Tuple.of(modelId))) {
      ids.add(r.getLong(0));
      vectors.add(floats(r.getBuffer(1).getBytes()));
    }
    List<float[]> queries = new ArrayList<>();
    for (io.vertx.sqlclient.Row r : stack.sql("SELECT vector FROM feed_user_vectors WHERE model_id = $1 "
        + "ORDER BY user_id LIMIT 1000", Tuple.of(modelId))) {
      queries.add(floats(r.getBuffer(0).getBytes()));
    }
    io.wxmp.gpu.IvfRecall recall = new io.wxmp.gpu.IvfRecall(ids.stream().mapToLong(Long::longValue).toArray(),
        vectors.toArray(new float[0][]));
    try {
      System.out.println();
      System.out.print(recall.table(queries.toArray(new float[0][]), 300, new int[] {8, 16, 24, 32, 48, 64}));
      System.out.println();
    } finally {
      recall.close();
    }
  }

  private static float[] floats(byte[] bytes) {
    java.nio.FloatBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  /** A line on stderr with the wall-clock time a phase starts (to cut a profile of the whole run into phases). */
  static void mark(String phase) {
    System.err.printf("# %s %s%n", java.time.LocalTime.now(java.time.ZoneOffset.UTC), phase);
  }

  /** {@code inFlight} requests at all times for {@code seconds}. */
  static Result closedLoop(HttpClient client, int port, String path, List<String> tokens, int inFlight, int seconds)
      throws Exception {
    mark("closed loop " + path + " for " + seconds + " s");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long[] latencies = new long[4_000_000];
    AtomicInteger n = new AtomicInteger();
    AtomicLong errors = new AtomicLong();
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(inFlight);
    long start = System.nanoTime();
    for (int c = 0; c < inFlight; c++) {
      loop(client, port, path, tokens, end, latencies, n, errors, running, done);
    }
    done.future().await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return summarise(latencies, Math.min(n.get(), latencies.length), elapsed, errors.get());
  }

  private static void loop(HttpClient client, int port, String path, List<String> tokens, long end, long[] latencies,
      AtomicInteger n, AtomicLong errors, AtomicInteger running, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    long t0 = System.nanoTime();
    send(client, port, path, tokens).onComplete(r -> {
      record(latencies, n, System.nanoTime() - t0);
      if (r.failed() || r.result() != 200) {
        errors.incrementAndGet();
      }
      loop(client, port, path, tokens, end, latencies, n, errors, running, done);
    });
  }

  /** Requests started at a fixed rate for {@code seconds}; latency from each one's scheduled start. */
  static Result openLoop(Vertx v, HttpClient client, int port, String path, List<String> tokens, double rate, int seconds)
      throws Exception {
    mark(String.format(Locale.ROOT, "open loop %s at %.0f/s for %d s", path, rate, seconds));
    long total = Math.max(1, (long) (rate * seconds));
    long[] latencies = new long[(int) Math.min(total, 4_000_000)];
    AtomicInteger n = new AtomicInteger();
    AtomicLong errors = new AtomicLong();
    AtomicLong issued = new AtomicLong();
    AtomicLong finished = new AtomicLong();
    Promise<Void> done = Promise.promise();
    long start = System.nanoTime();
    double intervalNanos = 1e9 / rate;
    v.setPeriodic(1, id -> {
      long due = (long) ((System.nanoTime() - start) / intervalNanos) + 1;
      while (issued.get() < Math.min(due, total)) {
        long scheduled = start + (long) (issued.getAndIncrement() * intervalNanos);
        send(client, port, path, tokens).onComplete(r -> {
          record(latencies, n, System.nanoTime() - scheduled);
          if (r.failed() || r.result() != 200) {
            errors.incrementAndGet();
          }
          if (finished.incrementAndGet() == total) {
            done.tryComplete();
          }
        });
      }
      if (issued.get() >= total) {
        v.cancelTimer(id);
      }
    });
    done.future().await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    return summarise(latencies, Math.min(n.get(), latencies.length), elapsed, errors.get());
  }

  private static Future<Integer> send(HttpClient client, int port, String path, List<String> tokens) {
    String token = tokens.get(ThreadLocalRandom.current().nextInt(tokens.size()));
    return client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
            .setURI(path).putHeader("Authorization", "Bearer " + token).setTimeout(30_000))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> resp.statusCode())));
  }

  private static void record(long[] latencies, AtomicInteger n, long nanos) {
    int i = n.getAndIncrement();
    if (i < latencies.length) {
      latencies[i] = nanos;
    }
  }

  private static Result summarise(long[] latencies, int count, double elapsed, long errors) {
    long[] sorted = Arrays.copyOf(latencies, count);
    Arrays.sort(sorted);
    double p50 = count == 0 ? 0 : sorted[(int) Math.min(count - 1, count * 0.50)] / 1e6;
    double p99 = count == 0 ? 0 : sorted[(int) Math.min(count - 1, count * 0.99)] / 1e6;
    return new Result(count / elapsed, count, p50, p99, errors);
  }

  private static String loadAverage() {
    return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }
}
