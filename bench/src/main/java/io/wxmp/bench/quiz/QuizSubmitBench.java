package io.wxmp.bench.quiz;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Load test for {@code POST /quizzes/{id}/attempts/{attemptId}/submit}: N users (default 1,000) with an attempt
 * each submit the same quiz at the same moment; prints submits/second and p50/p99/max latency per round. The first
 * round warms up the JIT and opens the connections and is reported apart.
 *
 * <p>Everything runs in one JVM on the same machine: embedded PostgreSQL and Redis, the sandbox, the real server
 * (two HTTP event-loop verticles, as in the tests) and the client, so the client's CPU is part of the cost.
 * Options (system properties): {@code -Dusers=1000 -Drounds=5 -Dquestions=5}.
 */
public final class QuizSubmitBench {
  private QuizSubmitBench() {}

  public static void main(String[] args) throws Exception {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int users = Integer.getInteger("users", 1000);
    int rounds = Integer.getInteger("rounds", 5);
    int questions = Integer.getInteger("questions", 5);
    System.out.printf("QuizSubmitBench: %d users, %d rounds (+1 warm-up), %d questions; %d CPUs, JDK %s, max heap %d MiB%n",
        users, rounds, questions, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf("load average at the start: %s%n", loadAverage());
    TestStack stack = TestStack.create();
    WebClient client = WebClient.create(stack.clientVertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(users).setMaxWaitQueueSize(-1));
    try {
      System.out.printf("PostgreSQL %s (embedded; fsync=%s, synchronous_commit=%s), pool %s connections%n",
          stack.sql("SHOW server_version", Tuple.tuple()).iterator().next().getString(0),
          stack.sql("SHOW fsync", Tuple.tuple()).iterator().next().getString(0),
          stack.sql("SHOW synchronous_commit", Tuple.tuple()).iterator().next().getString(0),
          stack.settings.getOrDefault("WXMP_PG_POOL_SIZE", "16"));
      TestStack.Merchant merchant = stack.newMerchant();
      Reply created = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quiz(questions, rounds + 1));
      if (created.status() != 201) {
        throw new IllegalStateException("quiz: " + created);
      }
      JsonObject quiz = created.json();
      String quizId = quiz.getString("id");

      long t = System.nanoTime();
      List<String> tokens = inBatches(users, 100, i -> stack.sandbox.sendAsync(io.vertx.core.http.HttpMethod.POST,
              "/sandbox/users", null, new JsonObject().toBuffer(), null)
          .compose(wx -> stack.api.sendAsync(io.vertx.core.http.HttpMethod.POST, "/api/v1/auth/login", null,
              new JsonObject().put("code", wx.json().getString("code")).toBuffer(), null))
          .map(login -> login.json().getString("token")));
      System.out.printf("logged in %d users in %d ms%n", users, (System.nanoTime() - t) / 1_000_000);

      for (int round = 0; round <= rounds; round++) {
        List<String> attempts = inBatches(users, 100, i -> stack.api.sendAsync(io.vertx.core.http.HttpMethod.POST,
            "/api/v1/quizzes/" + quizId + "/attempts", tokens.get(i), null, null).map(r -> {
              if (r.status() != 201) {
                throw new IllegalStateException("start: " + r);
              }
              return r.json().getString("attemptId");
            }));
        List<Buffer> bodies = new ArrayList<>();
        for (int i = 0; i < users; i++) {
          bodies.add(answers(quiz, (i + round) % (questions + 1)).toBuffer());
        }

        // Baseline in the same round, on the same users and connections: the same burst of GET /me (token check in
        // Redis plus one PostgreSQL read), the floor of an authenticated request. The ratio is the submit's price.
        Burst me = burst(users, i -> client.get(stack.apiPort(), "127.0.0.1", "/api/v1/me")
            .putHeader("Authorization", "Bearer " + tokens.get(i)).timeout(60_000).send());
        Burst submit = burst(users, i -> client.post(stack.apiPort(), "127.0.0.1",
                "/api/v1/quizzes/" + quizId + "/attempts/" + attempts.get(i) + "/submit")
            .putHeader("Authorization", "Bearer " + tokens.get(i))
            .putHeader("Content-Type", "application/json")
            .timeout(60_000)
            .sendBuffer(bodies.get(i)));
        long ok = submit.ok();
        System.out.printf("%s: %d submits (%d x 200) in %d ms = %.0f submits/s; latency p50 %d ms, p99 %d ms, "
                + "max %d ms; JVM (server + client) CPU %.2f ms per submit | baseline GET /me burst: %.0f/s, "
                + "p50 %d ms, p99 %d ms, %.2f ms CPU each | submit/baseline: throughput %.2f, p99 %.2f%n",
            round == 0 ? "warm-up" : "round " + round, users, ok, submit.wallNanos() / 1_000_000, submit.perSecond(),
            submit.pct(50), submit.pct(99), submit.max(), submit.cpuPerCallMs(),
            me.perSecond(), me.pct(50), me.pct(99), me.cpuPerCallMs(),
            submit.perSecond() / me.perSecond(), (double) submit.pct(99) / Math.max(1, me.pct(99)));
        if (me.ok() != users) {
          throw new IllegalStateException((users - me.ok()) + " baseline requests did not answer 200");
        }
        if (ok != users) {
          throw new IllegalStateException((users - ok) + " submits did not answer 200");
        }
      }
      long awards = stack.count("SELECT count(*) FROM points_ledger WHERE source_key LIKE 'quiz-attempt:%'", Tuple.tuple());
      long finished = stack.count("SELECT count(*) FROM quiz_attempts WHERE quiz_id = $1 AND submitted_at IS NOT NULL",
          Tuple.of(Long.parseLong(quizId)));
      Reply board = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard?limit=3", tokens.get(0));
      System.out.printf("check: %d finished attempts, %d point awards (attempts with score 0 earn none), board top %s%n",
          finished, awards, board.json().getJsonArray("entries").encode());
      System.out.printf("JVM: %s; load average at the end: %s%n", ManagementFactory.getRuntimeMXBean().getVmName(),
          loadAverage());
    } finally {
      client.close();
      stack.close();
    }
    System.exit(0);
  }

  /** One burst: every call fired at once, then timed until the last answer. */
  private record Burst(long wallNanos, long[] sortedLatencies, long ok, long cpuNanos) {
    double perSecond() {
      return sortedLatencies.length * 1e9 / wallNanos;
    }

    long pct(int p) {
      return QuizSubmitBench.pct(sortedLatencies, p);
    }

    long max() {
      return sortedLatencies[sortedLatencies.length - 1] / 1_000_000;
    }

    double cpuPerCallMs() {
      return cpuNanos / 1e6 / sortedLatencies.length;
    }
  }

  private static Burst burst(int n, IntFunction<Future<HttpResponse<Buffer>>> call) throws Exception {
    long[] latencies = new long[n];
    int[] statuses = new int[n];
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>(n);
    long cpuBefore = jvmCpuNanos();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      int index = i;
      long sent = System.nanoTime();
      all.add(call.apply(i).onComplete(done -> {
        latencies[index] = System.nanoTime() - sent;
        statuses[index] = done.succeeded() ? done.result().statusCode() : -1;
      }));
    }
    Future.join(all).await(120, TimeUnit.SECONDS);
    long wall = System.nanoTime() - start;
    long cpu = jvmCpuNanos() - cpuBefore;
    Arrays.sort(latencies);
    return new Burst(wall, latencies, Arrays.stream(statuses).filter(st -> st == 200).count(), cpu);
  }

  /** The machine's 1/5/15-minute load: other work on the same cores changes the numbers, so it is printed. */
  private static String loadAverage() {
    try {
      String[] parts = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (java.io.IOException | RuntimeException e) {
      return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /** CPU time of this JVM (server and client, not PostgreSQL or Redis, which are their own processes). */
  private static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static long pct(long[] sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, index)] / 1_000_000;
  }

  /** Runs {@code n} calls, {@code width} at a time, and answers their results in order. */
  private static <T> List<T> inBatches(int n, int width, IntFunction<Future<T>> call) throws Exception {
    List<T> out = new ArrayList<>(n);
    for (int from = 0; from < n; from += width) {
      List<Future<T>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + width); i++) {
        batch.add(call.apply(i));
      }
      Future.all(batch).await(60, TimeUnit.SECONDS);
      batch.forEach(f -> out.add(f.result()));
    }
    return out;
  }

  private static JsonObject quiz(int n, int maxAttempts) {
    JsonArray questions = new JsonArray();
    for (int i = 0; i < n; i++) {
      questions.add(new JsonObject().put("text", "Question " + i).put("tags", new JsonArray().add("bench"))
          .put("choices", new JsonArray()
              .add(new JsonObject().put("text", "right").put("correct", true))
              .add(new JsonObject().put("text", "wrong").put("correct", false))
              .add(new JsonObject().put("text", "also wrong").put("correct", false))));
    }
    return new JsonObject().put("title", "Bench quiz").put("timeLimitSec", 3600).put("maxAttempts", maxAttempts)
        .put("pointsPerCorrect", 10).put("status", "published").put("questions", questions);
  }

  /** Answers every question, the first {@code right} of them correctly. */
  private static JsonObject answers(JsonObject quiz, int right) {
    JsonArray out = new JsonArray();
    JsonArray questions = quiz.getJsonArray("questions");
    for (int i = 0; i < questions.size(); i++) {
      JsonObject q = questions.getJsonObject(i);
      JsonArray choices = q.getJsonArray("choices");
      out.add(new JsonObject().put("questionId", q.getString("id"))
          .put("choiceId", choices.getJsonObject(i < right ? 0 : 1).getString("id")));
    }
    return new JsonObject().put("answers", out);
  }
}
