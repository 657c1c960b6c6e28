package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.FailureHandler;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TcpProxy;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL and Redis reached through {@link TcpProxy}s that stall, go silent or go down: every request answers in
 * seconds, with 503 {@code upstream_unavailable} naming the part that failed, the readiness probe does not pin the
 * pool, the service comes back by itself, and the log says each kind of failure once rather than once per request.
 */
class DependencyFaultsTest {
  /** The statement deadline these tests run with (WXMP_PG_QUERY_TIMEOUT_MS). */
  private static final int QUERY_TIMEOUT_MS = 1_000;
  /** What "answers in seconds" means here: the deadline plus the margins, on a loaded 2-core machine. */
  private static final long FAST_MS = 4_000;
  /** A route that reads PostgreSQL on every request (GET /me answers from its Redis cache once it has read once). */
  private static final String PG_READ = "/api/v1/me/subscriptions";

  static TestStack stack;
  static TcpProxy pg;
  static TcpProxy redis;

  @BeforeAll
  static void start() {
    stack = TestStack.create(); // its own: these tests break its PostgreSQL and Redis
    stack.stopServer();
    pg = TcpProxy.start(stack.dev.postgresPort());
    redis = TcpProxy.start(stack.dev.redisPort());
    stack.settings.put("WXMP_PG_URL", "postgresql://postgres:postgres@127.0.0.1:" + pg.port() + "/postgres");
    stack.settings.put("WXMP_REDIS_URL", "redis://127.0.0.1:" + redis.port());
    stack.settings.put("WXMP_REDIS_MODE", "standalone");
    stack.settings.put("WXMP_PG_POOL_SIZE", "4"); // small, so pinned connections would show at once
    stack.settings.put("WXMP_PG_QUERY_TIMEOUT_MS", Integer.toString(QUERY_TIMEOUT_MS));
    stack.settings.put("WXMP_REDIS_REPAIR_INTERVAL_SEC", "1");
    stack.startServer();
  }

  @AfterAll
  static void stop() {
    stack.close();
    pg.close();
    redis.close();
  }

  @AfterEach
  void heal() {
    pg.resume();
    pg.up();
    redis.resume();
    redis.up();
    TestStack.eventually("ready again", 30_000, () -> stack.api.get("/health/ready", null).status() == 200);
  }

  @Test
  void stalledPostgresAnswers503FastAndComesBack() {
    String cached = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/me", cached).status()).isEqualTo(200);
    String token = stack.newUserToken(); // its /me answer is not cached: it needs PostgreSQL

    pg.pause();
    List<Timed> probes = concurrently(20, "/health/ready", null);
    for (Timed probe : probes) {
      assertThat(probe.reply.status()).isEqualTo(503);
      assertThat(probe.reply.json().getJsonObject("checks").getString("postgres")).isEqualTo("down");
      assertThat(probe.reply.json().getJsonObject("checks").getString("redis")).isEqualTo("up");
      assertThat(probe.ms).isLessThan(FAST_MS);
    }
    for (Timed me : concurrently(10, "/api/v1/me", token)) {
      assertUnavailable(me, "PostgreSQL");
    }
    // a user whose answer is cached still gets it: GET /me is a Redis read then
    Timed fromCache = timed(HttpMethod.GET, "/api/v1/me", cached);
    assertThat(fromCache.reply.status()).isEqualTo(200);
    assertThat(fromCache.ms).isLessThan(FAST_MS);

    pg.resume();
    TestStack.eventually("GET /me 200 after the stall", 15_000,
        () -> stack.api.get("/api/v1/me", token).status() == 200);
    for (Timed me : concurrently(12, "/api/v1/me", token)) {
      assertThat(me.reply.status()).isEqualTo(200);
    }
  }

  /**
   * Connections that went silent for good (half-open after a failover) are dropped at their deadline, by requests and
   * by the readiness probe alike, so the pool heals itself on new connections instead of staying pinned.
   */
  @Test
  void silentConnectionsAreDroppedNotKept() {
    String token = stack.newUserToken();
    for (Timed me : concurrently(8, PG_READ, token)) {
      assertThat(me.reply.status()).isEqualTo(200); // the pool has its connections open
    }

    pg.stallOpenConnections();
    for (Timed probe : concurrently(20, "/health/ready", null)) {
      assertThat(probe.reply.status()).isIn(200, 503);
      assertThat(probe.ms).isLessThan(FAST_MS);
    }
    long deadline = System.currentTimeMillis() + 20_000;
    int ok = 0;
    while (ok < 3) {
      assertThat(System.currentTimeMillis()).as("GET /me/subscriptions back to 200 on fresh connections")
          .isLessThan(deadline);
      Timed me = timed(HttpMethod.GET, PG_READ, token);
      assertThat(me.ms).isLessThan(FAST_MS);
      if (me.reply.status() == 200) {
        ok++;
      } else {
        assertUnavailable(me, "PostgreSQL");
      }
    }
    TestStack.eventually("ready 200", 10_000, () -> stack.api.get("/health/ready", null).status() == 200);
  }

  @Test
  void postgresDownAnswers503WithOneLogLinePerKind() {
    String token = stack.newUserToken();
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger failures = (Logger) LoggerFactory.getLogger(FailureHandler.class);
    log.start();
    failures.addAppender(log);
    try {
      pg.down();
      for (Timed me : concurrently(30, "/api/v1/me", token)) {
        assertUnavailable(me, "PostgreSQL");
      }
      Reply ready = stack.api.get("/health/ready", null);
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.json().getJsonObject("checks").getString("postgres")).isEqualTo("down");
    } finally {
      failures.detachAppender(log);
    }
    // 30 failed requests, a kind or two of failure (refused, closed): a line each, and no stack trace
    assertThat(log.list).hasSizeBetween(1, 3);
    assertThat(log.list).allSatisfy(e -> {
      assertThat(e.getThrowableProxy()).isNull();
      assertThat(e.getFormattedMessage()).contains("PostgreSQL");
    });

    pg.up();
    TestStack.eventually("GET /me 200 once PostgreSQL is back", 15_000,
        () -> stack.api.get("/api/v1/me", token).status() == 200);
  }

  /** Redis down during a login: the answer names Redis, not WeChat (the WeChat call itself worked). */
  @Test
  void redisDownDuringLoginNamesRedis() {
    JsonObject wx = stack.newWeChatUser();
    String token = stack.newUserToken();
    redis.down();
    Timed login = timed(HttpMethod.POST, "/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    assertUnavailable(login, "Redis");
    assertUnavailable(timed(HttpMethod.GET, "/api/v1/me", token), "Redis");
    Reply ready = stack.api.get("/health/ready", null);
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.json().getJsonObject("checks").getString("redis")).isEqualTo("down");
    assertThat(ready.json().getJsonObject("checks").getString("postgres")).isEqualTo("up");
  }

  /** Redis stalled (not refusing): requests still answer in seconds, naming Redis. */
  @Test
  void stalledRedisAnswers503Fast() {
    String token = stack.newUserToken();
    redis.pause();
    for (Timed me : concurrently(10, "/api/v1/me", token)) {
      assertUnavailable(me, "Redis");
    }
    redis.resume();
    TestStack.eventually("GET /me 200 after the Redis stall", 15_000,
        () -> stack.api.get("/api/v1/me", token).status() == 200);
  }

  /**
   * A submit that commits in PostgreSQL while Redis goes away answers 200 (it is committed), and its attempt reaches
   * the leaderboard once Redis is back, although the board itself never went missing (nobody flushes anything).
   */
  @Test
  void submitCommittedWhileRedisDiesReachesTheBoardOnceRedisIsBack() throws Exception {
    TestStack.Merchant merchant = stack.newMerchant();
    JsonObject quiz = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quizBody(3)).json();
    String quizId = quiz.getString("id");
    String first = stack.newUserToken();
    assertThat(submit(first, quizId, startAttempt(first, quizId), answers(quiz, 1)).status()).isEqualTo(200);
    assertThat(boardScores(quizId, first)).hasSize(1); // the board exists

    String second = stack.newUserToken();
    String secondId = stack.api.get("/api/v1/me", second).json().getString("id");
    String attemptId = startAttempt(second, quizId);
    // hold the attempt's row, so the submit waits inside PostgreSQL after it has authenticated against Redis
    io.vertx.sqlclient.SqlConnection holder = stack.db.getConnection().await(10, TimeUnit.SECONDS);
    Future<Reply> submitted;
    try {
      holder.query("BEGIN").execute().await(10, TimeUnit.SECONDS);
      holder.preparedQuery("SELECT 1 FROM quiz_attempts WHERE id = $1 FOR UPDATE")
          .execute(io.vertx.sqlclient.Tuple.of(Long.parseLong(attemptId))).await(10, TimeUnit.SECONDS);
      submitted = stack.api.sendAsync(HttpMethod.POST, "/api/v1/quizzes/" + quizId + "/attempts/" + attemptId
          + "/submit", second, answers(quiz, 3).toBuffer(), null);
      TestStack.eventually("the submit waits for the attempt's row", 5_000, () -> stack.count(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
          io.vertx.sqlclient.Tuple.tuple()) > 0);
      redis.down();
    } finally {
      holder.query("COMMIT").execute().await(10, TimeUnit.SECONDS);
      holder.close();
    }
    Reply reply = submitted.await(20, TimeUnit.SECONDS);
    assertThat(reply.status()).as(reply.toString()).isEqualTo(200); // committed: Redis failing after it is no error
    assertThat(reply.json().getInteger("score")).isEqualTo(3);
    assertThat(stack.count("SELECT count(*) FROM quiz_attempts WHERE id = $1 AND submitted_at IS NOT NULL",
        io.vertx.sqlclient.Tuple.of(Long.parseLong(attemptId)))).isEqualTo(1);

    redis.up();
    TestStack.eventually("the committed attempt reaches the board", 20_000,
        () -> boardScores(quizId, second).containsKey(secondId));
    assertThat(boardScores(quizId, second).get(secondId)).isEqualTo(3);
  }

  /** Redis lost a board entry it had acknowledged (restarted a second behind its append-only file): it comes back. */
  @Test
  void boardEntryRedisLostComesBack() throws Exception {
    TestStack.Merchant merchant = stack.newMerchant();
    JsonObject quiz = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quizBody(2)).json();
    String quizId = quiz.getString("id");
    String a = stack.newUserToken();
    String b = stack.newUserToken();
    String bId = stack.api.get("/api/v1/me", b).json().getString("id");
    assertThat(submit(a, quizId, startAttempt(a, quizId), answers(quiz, 1)).status()).isEqualTo(200);
    assertThat(submit(b, quizId, startAttempt(b, quizId), answers(quiz, 2)).status()).isEqualTo(200);
    io.vertx.redis.client.Redis client = stack.redisClient();
    try {
      // the entry was there and is gone (the repair pass, every second here, may put it back before a read could
      // see the gap, so the removal itself is what is checked)
      assertThat(io.vertx.redis.client.RedisAPI.api(client).zrem(List.of("wxmp:quiz:{" + quizId + "}:board", bId))
          .await(5, TimeUnit.SECONDS).toInteger()).isEqualTo(1);
    } finally {
      client.close();
    }
    TestStack.eventually("the lost entry is back", 20_000, () -> boardScores(quizId, a).containsKey(bId));
    assertThat(boardScores(quizId, a).get(bId)).isEqualTo(2);
  }

  private static JsonObject quizBody(int n) {
    io.vertx.core.json.JsonArray questions = new io.vertx.core.json.JsonArray();
    for (int i = 0; i < n; i++) {
      questions.add(new JsonObject().put("text", "Question " + i).put("tags", new io.vertx.core.json.JsonArray()
              .add("quiz")).put("choices", new io.vertx.core.json.JsonArray()
              .add(new JsonObject().put("text", "A" + i).put("correct", false))
              .add(new JsonObject().put("text", "B" + i).put("correct", true))));
    }
    return new JsonObject().put("title", "Faults").put("timeLimitSec", 60).put("maxAttempts", 3)
        .put("pointsPerCorrect", 10).put("status", "published").put("questions", questions);
  }

  private static String startAttempt(String token, String quizId) {
    Reply r = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", token, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("attemptId");
  }

  /** The first {@code right} questions answered right, the others wrong. */
  private static JsonObject answers(JsonObject quiz, int right) {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    io.vertx.core.json.JsonArray questions = quiz.getJsonArray("questions");
    for (int i = 0; i < questions.size(); i++) {
      JsonObject q = questions.getJsonObject(i);
      for (Object c : q.getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        if (choice.getBoolean("correct") == (i < right)) {
          out.add(new JsonObject().put("questionId", q.getString("id")).put("choiceId", choice.getString("id")));
          break;
        }
      }
    }
    return new JsonObject().put("answers", out);
  }

  private static Reply submit(String token, String quizId, String attemptId, JsonObject body) {
    return stack.api.post("/api/v1/quizzes/" + quizId + "/attempts/" + attemptId + "/submit", token, body);
  }

  /** userId to score, as the board shows it. */
  private static java.util.Map<String, Integer> boardScores(String quizId, String token) {
    Reply r = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard?limit=50", token);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    java.util.Map<String, Integer> out = new java.util.HashMap<>();
    r.json().getJsonArray("entries").forEach(e -> out.put(((JsonObject) e).getString("userId"),
        ((JsonObject) e).getInteger("score")));
    return out;
  }

  private static void assertUnavailable(Timed r, String part) {
    assertThat(r.reply.status()).as(r.reply.toString()).isEqualTo(503);
    assertThat(r.reply.errorCode()).isEqualTo("upstream_unavailable");
    assertThat(r.reply.json().getJsonObject("error").getString("message")).contains(part);
    assertThat(r.ms).as("answered within " + FAST_MS + " ms").isLessThan(FAST_MS);
  }

  private record Timed(Reply reply, long ms) {}

  private static Timed timed(HttpMethod method, String path, String token) {
    return timed(method, path, token, null);
  }

  private static Timed timed(HttpMethod method, String path, String token, JsonObject body) {
    long t0 = System.nanoTime();
    Reply reply = stack.api.send(method, path, token, body == null ? null : body.toBuffer(), null);
    return new Timed(reply, (System.nanoTime() - t0) / 1_000_000);
  }

  /** {@code n} GETs at once; each with the time it took. */
  private static List<Timed> concurrently(int n, String path, String token) {
    List<Future<Timed>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      all.add(stack.api.sendAsync(HttpMethod.GET, path, token, null, null)
          .map(r -> new Timed(r, (System.nanoTime() - t0) / 1_000_000)));
    }
    try {
      Future.all(all).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(path + ": " + e, e);
    }
    return all.stream().map(Future::result).toList();
  }
}
