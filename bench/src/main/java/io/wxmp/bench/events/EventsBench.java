package io.wxmp.bench.events;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.server.testkit.TestStack;
import java.lang.management.ManagementFactory;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Load test for {@code POST /events}: {@code users} logged-in users send batches of {@code batch} events (a mix of
 * impressions, clicks, dwells, likes; each with a client id, half with a fresh {@code at}) with {@code concurrency}
 * requests in flight, for {@code seconds} per round; prints events/s and p50/p99 request latency. In the same round,
 * on the same users and connections and at the same concurrency, a baseline of {@code GET /me} (token check in Redis
 * plus one PostgreSQL read). Also the time each batch spends in the event listeners (the feed's fold-in once it is
 * registered; a recording listener here), p50/p99 per batch.
 *
 * <p>Everything runs on this machine in one JVM: embedded PostgreSQL and Redis, the server (2 HTTP event loops, as
 * in the tests) and the load client, so the client's CPU is part of the cost. The events table is preloaded with
 * {@code preload} rows so inserts land in an index of realistic depth. Options (system properties):
 * {@code -Dusers=1000 -Ditems=10000 -Dbatch=20 -Dconcurrency=64 -Dseconds=15 -Drounds=3 -Dpreload=1000000}.
 */
public final class EventsBench {
  private EventsBench() {}

  private static final String[] TYPES = {"impression", "impression", "impression", "impression", "click", "dwell",
      "like", "complete"};

  public static void main(String[] args) throws Exception {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int users = Integer.getInteger("users", 1000);
    int items = Integer.getInteger("items", 10_000);
    int batch = Integer.getInteger("batch", 20);
    int concurrency = Integer.getInteger("concurrency", 64);
    int seconds = Integer.getInteger("seconds", 15);
    int rounds = Integer.getInteger("rounds", 3);
    long preload = Long.getLong("preload", 1_000_000);
    System.out.printf("EventsBench: %d users, %d items, batches of %d, %d in flight, %d s x %d rounds (+ warm-up); "
            + "%d CPUs, JDK %s, max heap %d MiB%n", users, items, batch, concurrency, seconds, rounds,
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf("load average at the start: %s%n", loadAverage());
    TestStack stack = TestStack.create();
    WebClient client = WebClient.create(stack.clientVertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(concurrency).setMaxWaitQueueSize(-1));
    try {
      System.out.printf("PostgreSQL %s (embedded; fsync=%s, synchronous_commit=%s), pool %s connections; "
              + "rate limit %s batches/user/min%n",
          stack.sql("SHOW server_version", Tuple.tuple()).iterator().next().getString(0),
          stack.sql("SHOW fsync", Tuple.tuple()).iterator().next().getString(0),
          stack.sql("SHOW synchronous_commit", Tuple.tuple()).iterator().next().getString(0),
          stack.settings.getOrDefault("WXMP_PG_POOL_SIZE", "16"),
          stack.settings.getOrDefault("WXMP_EVENTS_RATE_PER_MIN", "120"));
      TestStack.Merchant merchant = stack.newMerchant();
      long t = System.nanoTime();
      stack.sql("INSERT INTO items (merchant_id, kind, title, tags, status) SELECT $1, 'article', 'Item ' || g, "
          + "ARRAY['tag' || (g % 50), 'tag' || (g % 7)], 'published' FROM generate_series(1, $2) g",
          Tuple.of(merchant.id(), items));
      long[] itemIds = stack.sql("SELECT id FROM items WHERE merchant_id = $1 ORDER BY id", Tuple.of(merchant.id()))
          .value().stream().mapToLong(r -> r.getLong(0)).toArray();
      if (preload > 0) {
        stack.sql("INSERT INTO events (user_id, item_id, type, at) SELECT 1 + g % 100000, $1 + g % $2, "
            + "(ARRAY['impression','click','dwell','like'])[1 + g % 4], now() - (g % 500000) * interval '1 second' "
            + "FROM generate_series(1, $3) g", Tuple.of(itemIds[0], items, preload));
        stack.sql("ANALYZE events", Tuple.tuple());
      }
      System.out.printf("made %d items and preloaded %d events in %d ms%n", items, preload,
          (System.nanoTime() - t) / 1_000_000);
      t = System.nanoTime();
      List<String> tokens = inBatches(users, 20, i -> login(stack, 5));
      System.out.printf("logged in %d users in %d ms%n", users, (System.nanoTime() - t) / 1_000_000);

      // Time spent in the listeners, per batch (the feed's fold-in registers there too when it is on main).
      LongAdder heard = new LongAdder();
      stack.server().events().listeners().add((EventListener) (userId, events) -> {
        heard.add(events.size());
        return Future.succeededFuture();
      });

      io.vertx.redis.client.RedisAPI redis = io.vertx.redis.client.RedisAPI.api(stack.redisClient());
      long postmaster = postmasterPid(stack);
      AtomicLong seq = new AtomicLong();
      SplittableRandom random = new SplittableRandom(42);
      for (int round = 0; round <= rounds; round++) {
        int duration = round == 0 ? Math.max(3, seconds / 3) : seconds;
        Run me = run(concurrency, duration, i -> client.get(stack.apiPort(), "127.0.0.1", "/api/v1/me")
            .putHeader("Authorization", "Bearer " + tokens.get(i % users)).timeout(30_000).send(), 200);
        long storedBefore = stack.count("SELECT count(*) FROM events", Tuple.tuple());
        long heardBefore = heard.sum();
        Cpu cpuBefore = Cpu.read(redis, postmaster);
        Run events = run(concurrency, duration, i -> {
          JsonArray list = new JsonArray();
          OffsetDateTime now = OffsetDateTime.now();
          for (int e = 0; e < batch; e++) {
            String type = TYPES[random.nextInt(TYPES.length)];
            JsonObject event = new JsonObject().put("id", "b" + seq.incrementAndGet())
                .put("itemId", Long.toString(itemIds[random.nextInt(itemIds.length)])).put("type", type);
            if (type.equals("dwell")) {
              event.put("dwellMs", 1000 + random.nextInt(60_000));
            }
            if (e % 2 == 0) {
              event.put("at", now.minusSeconds(random.nextInt(60)).toString());
            }
            list.add(event);
          }
          return client.post(stack.apiPort(), "127.0.0.1", "/api/v1/events")
              .putHeader("Authorization", "Bearer " + tokens.get(i % users))
              .putHeader("Content-Type", "application/json").timeout(30_000)
              .sendBuffer(new JsonObject().put("events", list).toBuffer());
        }, 202);
        Cpu cpu = Cpu.read(redis, postmaster).minus(cpuBefore);
        long stored = stack.count("SELECT count(*) FROM events", Tuple.tuple()) - storedBefore;
        double eventsPerSecond = events.calls() * (double) batch * 1e9 / events.wallNanos();
        System.out.printf("%s: POST /events %d batches (%d x 202, %d other) in %.1f s = %.0f batches/s = %.0f events/s"
                + " (%d rows stored, %d heard by the listeners); p50 %.1f ms, p99 %.1f ms; JVM CPU %.3f ms/event"
                + " | baseline GET /me: %.0f/s, p50 %.1f ms, p99 %.1f ms | events batches/s ÷ GET /me /s = %.2f%n",
            round == 0 ? "warm-up" : "round " + round, events.calls(), events.ok(), events.calls() - events.ok(),
            events.wallNanos() / 1e9, events.perSecond(), eventsPerSecond, stored, heard.sum() - heardBefore,
            events.pct(50), events.pct(99), events.cpuNanos() / 1e6 / (events.calls() * (double) batch),
            me.perSecond(), me.pct(50), me.pct(99), events.perSecond() / me.perSecond());
        System.out.printf("  CPU per batch: JVM (server + load client) %.0f us, PostgreSQL %.0f us, Redis %.0f us;"
                + " Redis commands by time (calls per batch x us per call; a script's time includes its calls): %s%n",
            events.cpuNanos() / 1e3 / events.calls(), cpu.pgMicros() / events.calls(),
            cpu.redisMicros() / events.calls(),
            cpu.topCommands(events.calls(), 8));
        if (events.ok() != events.calls() || me.ok() != me.calls()) {
          throw new IllegalStateException("some requests failed: events " + events.statuses() + ", /me "
              + me.statuses());
        }
        if (stored != events.calls() * (long) batch) {
          throw new IllegalStateException(stored + " rows stored for " + events.calls() * (long) batch + " events");
        }
      }
      System.out.printf("JVM: %s; load average at the end: %s%n", ManagementFactory.getRuntimeMXBean().getVmName(),
          loadAverage());
    } finally {
      client.close();
      stack.close();
    }
    System.exit(0);
  }

  /** The embedded PostgreSQL's postmaster: the parent of a backend. */
  private static long postmasterPid(TestStack stack) {
    try {
      long backend = stack.sql("SELECT pg_backend_pid()", Tuple.tuple()).iterator().next().getInteger(0);
      return Long.parseLong(statFields(java.nio.file.Path.of("/proc/" + backend + "/stat"))[1]);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** The fields of a /proc stat file after the command name (field 3, the state, is [0]). */
  private static String[] statFields(java.nio.file.Path stat) {
    try {
      String s = java.nio.file.Files.readString(stat);
      return s.substring(s.lastIndexOf(')') + 2).split(" ");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * CPU used so far by PostgreSQL (the postmaster and its children, from /proc; -1 when not readable) and Redis
   * ({@code INFO cpu}), and Redis's per-command call counts and times ({@code INFO commandstats}).
   */
  private record Cpu(double pgMicros, double redisMicros, java.util.Map<String, long[]> commands) {
    static Cpu read(io.vertx.redis.client.RedisAPI redis, long postmaster) throws Exception {
      double pg = -1;
      if (postmaster > 0) {
        long ticks = 0;
        try (var procs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
          for (java.nio.file.Path dir : (Iterable<java.nio.file.Path>) procs::iterator) {
            String name = dir.getFileName().toString();
            if (!name.chars().allMatch(Character::isDigit)) {
              continue;
            }
            try {
              String[] f = statFields(dir.resolve("stat"));
              if (name.equals(Long.toString(postmaster)) || f[1].equals(Long.toString(postmaster))) {
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
              }
            } catch (RuntimeException gone) {
              // the process ended meanwhile
            }
          }
        }
        pg = ticks * 1e6 / 100; // USER_HZ
      }
      String info = redis.info(List.of("cpu")).await(10, TimeUnit.SECONDS).toString();
      double redisSeconds = 0;
      for (String line : info.split("\r?\n")) {
        if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
          redisSeconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      java.util.Map<String, long[]> commands = io.wxmp.bench.feed.RedisStats.commandstats(
          redis.info(List.of("commandstats")).await(10, TimeUnit.SECONDS).toString());
      return new Cpu(pg, redisSeconds * 1e6, commands);
    }

    Cpu minus(Cpu before) {
      java.util.Map<String, long[]> d = new java.util.TreeMap<>();
      commands.forEach((name, v) -> {
        long[] b = before.commands.getOrDefault(name, new long[2]);
        if (v[0] > b[0]) {
          d.put(name, new long[] {v[0] - b[0], v[1] - b[1]});
        }
      });
      return new Cpu(pgMicros < 0 || before.pgMicros < 0 ? -1 : pgMicros - before.pgMicros,
          redisMicros - before.redisMicros, d);
    }

    String topCommands(long batches, int n) {
      return commands.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).limit(n)
          .map(e -> String.format("%s %.1f x %.1f us", e.getKey(), e.getValue()[0] / (double) batches,
              e.getValue()[1] / (double) e.getValue()[0]))
          .collect(java.util.stream.Collectors.joining(", "));
    }
  }

  /** One closed-loop run: {@code concurrency} requests in flight until {@code seconds} pass. */
  private record Run(long wallNanos, long[] sortedLatencies, long ok, long cpuNanos, String statuses) {
    long calls() {
      return sortedLatencies.length;
    }

    double perSecond() {
      return calls() * 1e9 / wallNanos;
    }

    double pct(int p) {
      int index = (int) Math.ceil(p / 100.0 * sortedLatencies.length) - 1;
      return sortedLatencies[Math.max(0, index)] / 1e6;
    }
  }

  private static Run run(int concurrency, int seconds, IntFunction<Future<HttpResponse<Buffer>>> call, int expected)
      throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicLong ok = new AtomicLong();
    java.util.Map<Integer, Integer> statuses = new java.util.concurrent.ConcurrentHashMap<>();
    AtomicInteger counter = new AtomicInteger();
    long cpuBefore = jvmCpuNanos();
    long start = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      Promise<Void> done = Promise.promise();
      loop(call, counter, deadline, latencies, ok, statuses, expected, done);
      loops.add(done.future());
    }
    Future.all(loops).await(seconds + 120L, TimeUnit.SECONDS);
    long wall = System.nanoTime() - start;
    long cpu = jvmCpuNanos() - cpuBefore;
    long[] sorted = latencies.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    return new Run(wall, sorted, ok.get(), cpu, statuses.toString());
  }

  private static void loop(IntFunction<Future<HttpResponse<Buffer>>> call, AtomicInteger counter, long deadline,
      List<Long> latencies, AtomicLong ok, java.util.Map<Integer, Integer> statuses, int expected,
      Promise<Void> done) {
    if (System.nanoTime() >= deadline) {
      done.complete();
      return;
    }
    long sent = System.nanoTime();
    call.apply(counter.getAndIncrement()).onComplete(r -> {
      latencies.add(System.nanoTime() - sent);
      int status = r.succeeded() ? r.result().statusCode() : -1;
      statuses.merge(status, 1, Integer::sum);
      if (status == expected) {
        ok.incrementAndGet();
      }
      loop(call, counter, deadline, latencies, ok, statuses, expected, done);
    });
  }

  private static String loadAverage() {
    try {
      String[] parts = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (java.io.IOException | RuntimeException e) {
      return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  private static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** A fresh WeChat user logged in; retried, since a loaded machine can make the sandbox miss the upstream timeout. */
  private static Future<String> login(TestStack stack, int tries) {
    return stack.sandbox.sendAsync(HttpMethod.POST, "/sandbox/users", null, new JsonObject().toBuffer(), null)
        .compose(wx -> stack.api.sendAsync(HttpMethod.POST, "/api/v1/auth/login", null,
            new JsonObject().put("code", wx.json().getString("code")).toBuffer(), null))
        .compose(r -> r.status() == 200 ? Future.succeededFuture(r.json().getString("token"))
            : tries > 1 ? login(stack, tries - 1) : Future.failedFuture("login: " + r));
  }

  private static <T> List<T> inBatches(int n, int width, IntFunction<Future<T>> call) throws Exception {
    List<T> out = new ArrayList<>(n);
    for (int from = 0; from < n; from += width) {
      List<Future<T>> part = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + width); i++) {
        part.add(call.apply(i));
      }
      Future.all(part).await(60, TimeUnit.SECONDS);
      part.forEach(f -> out.add(f.result()));
    }
    return out;
  }
}
