package io.wxmp.server.quiz;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Quizzes end to end against real PostgreSQL and Redis: merchants write quizzes, users answer them once within the
 * server's deadline, points land in the ledger exactly once, and the Redis leaderboard survives losing its key.
 */
class QuizTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static Redis redisClient;
  static RedisAPI redis;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    redisClient = stack.redisClient();
    redis = RedisAPI.api(redisClient);
  }

  @AfterAll
  static void stop() {
    redisClient.close();
  }

  // ---- fixtures ----

  /** A quiz body with {@code n} questions of three choices each; the second choice is the right one. */
  static JsonObject quizBody(int n, int timeLimitSec, int maxAttempts, String status) {
    JsonArray questions = new JsonArray();
    for (int i = 0; i < n; i++) {
      questions.add(new JsonObject().put("text", "Question " + i).put("tags", new JsonArray().add("tag" + i).add("quiz"))
          .put("choices", new JsonArray()
              .add(new JsonObject().put("text", "A" + i).put("correct", false))
              .add(new JsonObject().put("text", "B" + i).put("correct", true))
              .add(new JsonObject().put("text", "C" + i).put("correct", false))));
    }
    return new JsonObject().put("title", "Tea culture").put("timeLimitSec", timeLimitSec)
        .put("maxAttempts", maxAttempts).put("pointsPerCorrect", 10).put("status", status)
        .put("questions", questions);
  }

  /** Creates a quiz as the owner; answers the admin view (with the correct choices). */
  static JsonObject createQuiz(JsonObject body) {
    Reply r = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  static JsonObject publishedQuiz(int n) {
    return createQuiz(quizBody(n, 60, 3, "published"));
  }

  static JsonObject startAttempt(String token, String quizId) {
    Reply r = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", token, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  /** Answers: the first {@code right} questions correctly, the rest with a wrong choice. */
  static JsonObject answers(JsonObject adminQuiz, int right) {
    JsonArray out = new JsonArray();
    JsonArray questions = adminQuiz.getJsonArray("questions");
    for (int i = 0; i < questions.size(); i++) {
      JsonObject q = questions.getJsonObject(i);
      JsonArray choices = q.getJsonArray("choices");
      String choice = null;
      for (int j = 0; j < choices.size(); j++) {
        if (choices.getJsonObject(j).getBoolean("correct") == (i < right)) {
          choice = choices.getJsonObject(j).getString("id");
          break;
        }
      }
      out.add(new JsonObject().put("questionId", q.getString("id")).put("choiceId", choice));
    }
    return new JsonObject().put("answers", out);
  }

  static Reply submit(String token, String quizId, String attemptId, JsonObject body) {
    return stack.api.post("/api/v1/quizzes/" + quizId + "/attempts/" + attemptId + "/submit", token, body);
  }

  static long userId(String token) {
    return Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
  }

  static List<Reply> all(List<Future<Reply>> requests) {
    try {
      return Future.all(requests).await(60, TimeUnit.SECONDS).list();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static void deleteBoard(String quizId) {
    try {
      redis.del(List.of("wxmp:quiz:{" + quizId + "}:board")).await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ---- tests ----

  @Test
  void fullFlowScoresAwardsPointsOnceAndFeedsInterests() {
    JsonObject quiz = publishedQuiz(3);
    String quizId = quiz.getString("id");
    assertThat(quiz.getJsonArray("questions")).hasSize(3);
    assertThat(quiz.getJsonArray("questions").getJsonObject(0).getString("id")).matches("\\d+");

    String token = stack.newUserToken();
    Reply read = stack.api.get("/api/v1/quizzes/" + quizId, token);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.json().getJsonArray("questions")).hasSize(3);
    assertThat(read.json().getInteger("timeLimitSec")).isEqualTo(60);
    assertThat(read.raw().toString()).doesNotContain("correct").doesNotContain("tag0");

    JsonObject attempt = startAttempt(token, quizId);
    OffsetDateTime startedAt = OffsetDateTime.parse(attempt.getString("startedAt"));
    OffsetDateTime deadline = OffsetDateTime.parse(attempt.getString("deadline"));
    assertThat(deadline).isEqualTo(startedAt.plusSeconds(60));
    assertThat(attempt.getJsonArray("questions")).hasSize(3);
    assertThat(attempt.encode()).doesNotContain("correct");
    assertThat(stack.api.get("/api/v1/me", token).json().getLong("points")).isZero(); // now cached

    Reply done = submit(token, quizId, attempt.getString("attemptId"), answers(quiz, 2));
    assertThat(done.status()).as(done.toString()).isEqualTo(200);
    JsonObject result = done.json();
    assertThat(result.getInteger("score")).isEqualTo(2);
    assertThat(result.getInteger("total")).isEqualTo(3);
    assertThat(result.getInteger("pointsAwarded")).isEqualTo(20);
    assertThat(result.getLong("rank")).isEqualTo(1L);
    assertThat(result.getJsonArray("results")).hasSize(3);
    JsonObject q0 = quiz.getJsonArray("questions").getJsonObject(0);
    JsonObject r0 = result.getJsonArray("results").stream().map(JsonObject.class::cast)
        .filter(r -> r.getString("questionId").equals(q0.getString("id"))).findFirst().orElseThrow();
    assertThat(r0.getBoolean("correct")).isTrue();
    assertThat(r0.getString("correctChoiceId")).isEqualTo(q0.getJsonArray("choices").getJsonObject(1).getString("id"));

    assertThat(stack.api.get("/api/v1/me", token).json().getLong("points")).isEqualTo(20L);
    long user = userId(token);
    assertThat(stack.count("SELECT count(*) FROM points_ledger WHERE source_key = $1",
        Tuple.of("quiz-attempt:" + attempt.getString("attemptId")))).isEqualTo(1);
    // one event per tag of each answered question: 3 questions x 2 tags
    assertThat(stack.count("SELECT count(*) FROM user_interest_events WHERE user_id = $1 AND source = $2",
        Tuple.of(user, "quiz-attempt:" + attempt.getString("attemptId")))).isEqualTo(6);
    assertThat(stack.count("SELECT count(*) FROM user_interest_events WHERE user_id = $1 AND tag = 'quiz'",
        Tuple.of(user))).isEqualTo(3);

    Reply board = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard", token);
    assertThat(board.status()).isEqualTo(200);
    assertThat(board.json().getJsonArray("entries")).hasSize(1);
    assertThat(board.json().getJsonObject("me").getString("userId")).isEqualTo(Long.toString(user));
    assertThat(board.json().getJsonObject("me").getInteger("score")).isEqualTo(2);

    // the merchant sees answers; the analyst may read
    assertThat(stack.api.get("/api/v1/admin/quizzes/" + quizId, merchant.analyst()).json().encode())
        .contains("\"correct\":true");
    Reply list = stack.api.get("/api/v1/admin/quizzes?limit=50", merchant.analyst());
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().getJsonArray("items").stream().map(JsonObject.class::cast)
        .anyMatch(i -> i.getString("id").equals(quizId))).isTrue();
    assertThat(stack.api.get("/openapi.yaml", null).raw().toString())
        .contains("/quizzes/{id}/attempts/{attemptId}/submit").contains("/admin/quizzes/{id}");
  }

  @Test
  void submitAfterTheDeadlineAndGraceIsExpiredButWithinGraceCounts() {
    // The deadline is moved into the past in SQL rather than waited for: the server compares it with its own
    // clock, so this is the same as a user who answered too late, without a test that sleeps.
    JsonObject quiz = createQuiz(quizBody(2, 1, 3, "published"));
    String quizId = quiz.getString("id");
    String token = stack.newUserToken();

    JsonObject late = startAttempt(token, quizId);
    stack.sql("UPDATE quiz_attempts SET started_at = now() - interval '10 seconds', "
        + "deadline = now() - interval '5 seconds' WHERE id = $1", Tuple.of(Long.parseLong(late.getString("attemptId"))));
    Reply expired = submit(token, quizId, late.getString("attemptId"), answers(quiz, 2));
    assertThat(expired.status()).isEqualTo(409);
    assertThat(expired.errorCode()).isEqualTo("attempt_expired");
    assertThat(stack.count("SELECT count(*) FROM points_ledger WHERE source_key = $1",
        Tuple.of("quiz-attempt:" + late.getString("attemptId")))).isZero();

    // half a second past the deadline is inside the 2 s grace; the duration is capped at the time limit
    JsonObject graced = startAttempt(token, quizId);
    stack.sql("UPDATE quiz_attempts SET started_at = now() - interval '1500 milliseconds', "
        + "deadline = now() - interval '500 milliseconds' WHERE id = $1",
        Tuple.of(Long.parseLong(graced.getString("attemptId"))));
    Reply ok = submit(token, quizId, graced.getString("attemptId"), answers(quiz, 2));
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
    assertThat(ok.json().getLong("durationMs")).isEqualTo(1000L);
  }

  @Test
  void aOneSecondQuizExpiresOnTheServersClock() {
    // A real 1 s time limit: poll the database clock (the server's clock) until deadline + the 2 s grace has
    // passed, then submit. About three seconds, no sleeping as synchronisation.
    JsonObject quiz = createQuiz(quizBody(1, 1, 1, "published"));
    String token = stack.newUserToken();
    String attemptId = startAttempt(token, quiz.getString("id")).getString("attemptId");
    TestStack.eventually("deadline + grace passed", 10_000, () -> stack.count(
        "SELECT count(*) FROM quiz_attempts WHERE id = $1 AND now() > deadline + interval '2 seconds'",
        Tuple.of(Long.parseLong(attemptId))) == 1);
    Reply late = submit(token, quiz.getString("id"), attemptId, answers(quiz, 1));
    assertThat(late.status()).isEqualTo(409);
    assertThat(late.errorCode()).isEqualTo("attempt_expired");
    assertThat(stack.count("SELECT count(*) FROM quiz_attempts WHERE id = $1 AND submitted_at IS NULL",
        Tuple.of(Long.parseLong(attemptId)))).isEqualTo(1);
  }

  @Test
  void eachAttemptGetsItsOwnOrderOfTheSameQuestions() {
    JsonObject quiz = publishedQuiz(5);
    List<String> ids = new ArrayList<>();
    quiz.getJsonArray("questions").forEach(q -> ids.add(((JsonObject) q).getString("id")));
    java.util.Set<List<String>> orders = new java.util.HashSet<>();
    for (int i = 0; i < 4; i++) {
      JsonObject attempt = startAttempt(stack.newUserToken(), quiz.getString("id"));
      List<String> order = new ArrayList<>();
      attempt.getJsonArray("questions").forEach(q -> order.add(((JsonObject) q).getString("id")));
      assertThat(order).containsExactlyInAnyOrderElementsOf(ids);
      orders.add(order);
    }
    // four shuffles of five questions all alike: (1/120)^3, under one chance in a million
    assertThat(orders).hasSizeGreaterThan(1);
  }

  @Test
  void twentyConcurrentSubmitsGiveOneScoreAndOneAward() {
    JsonObject quiz = publishedQuiz(3);
    String quizId = quiz.getString("id");
    String token = stack.newUserToken();
    String attemptId = startAttempt(token, quizId).getString("attemptId");

    List<Future<Reply>> submits = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      submits.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/quizzes/" + quizId + "/attempts/" + attemptId
          + "/submit", token, answers(quiz, 3).toBuffer(), null));
    }
    List<Reply> replies = all(submits);
    assertThat(replies.stream().filter(r -> r.status() == 200)).hasSize(1);
    assertThat(replies.stream().filter(r -> r.status() == 409 && "already_submitted".equals(r.errorCode())))
        .hasSize(19);
    assertThat(stack.count("SELECT count(*) FROM points_ledger WHERE source_key = $1",
        Tuple.of("quiz-attempt:" + attemptId))).isEqualTo(1);
    assertThat(stack.api.get("/api/v1/me", token).json().getLong("points")).isEqualTo(30L);

    Reply again = submit(token, quizId, attemptId, answers(quiz, 3));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("already_submitted");
  }

  @Test
  void attemptsAreLimitedEvenWhenStartedConcurrently() {
    JsonObject once = createQuiz(quizBody(1, 60, 1, "published"));
    String token = stack.newUserToken();
    List<Future<Reply>> starts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      starts.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/quizzes/" + once.getString("id") + "/attempts",
          token, null, null));
    }
    List<Reply> replies = all(starts);
    assertThat(replies.stream().filter(r -> r.status() == 201)).hasSize(1);
    assertThat(replies.stream().filter(r -> r.status() == 409 && "attempts_exhausted".equals(r.errorCode())))
        .hasSize(19);
    assertThat(stack.count("SELECT count(*) FROM quiz_attempts WHERE quiz_id = $1",
        Tuple.of(Long.parseLong(once.getString("id"))))).isEqualTo(1);

    JsonObject twice = createQuiz(quizBody(1, 60, 2, "published"));
    startAttempt(token, twice.getString("id"));
    startAttempt(token, twice.getString("id"));
    Reply third = stack.api.post("/api/v1/quizzes/" + twice.getString("id") + "/attempts", token, null);
    assertThat(third.status()).isEqualTo(409);
    assertThat(third.errorCode()).isEqualTo("attempts_exhausted");
  }

  @Test
  void choicesThatDoNotBelongToTheQuestionAre400AndChangeNothing() {
    JsonObject quiz = publishedQuiz(2);
    JsonObject other = publishedQuiz(1);
    String quizId = quiz.getString("id");
    String token = stack.newUserToken();
    String attemptId = startAttempt(token, quizId).getString("attemptId");
    JsonArray questions = quiz.getJsonArray("questions");

    // question 0 answered with a choice of question 1
    JsonObject swapped = new JsonObject().put("answers", new JsonArray().add(new JsonObject()
        .put("questionId", questions.getJsonObject(0).getString("id"))
        .put("choiceId", questions.getJsonObject(1).getJsonArray("choices").getJsonObject(1).getString("id"))));
    Reply bad = submit(token, quizId, attemptId, swapped);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.errorCode()).isEqualTo("bad_request");
    assertThat(bad.json().getJsonObject("error").getJsonObject("fields").getString("answers[0].choiceId")).isNotNull();

    // a question of another quiz
    JsonObject foreign = new JsonObject().put("answers", new JsonArray().add(new JsonObject()
        .put("questionId", other.getJsonArray("questions").getJsonObject(0).getString("id"))
        .put("choiceId", other.getJsonArray("questions").getJsonObject(0).getJsonArray("choices").getJsonObject(1)
            .getString("id"))));
    assertThat(submit(token, quizId, attemptId, foreign).status()).isEqualTo(400);
    assertThat(submit(token, quizId, attemptId, new JsonObject().put("answers", "nope")).status()).isEqualTo(400);

    // nothing was submitted: the attempt still takes a good submit
    Reply ok = submit(token, quizId, attemptId, answers(quiz, 2));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().getInteger("score")).isEqualTo(2);
    // another user's attempt is not found
    assertThat(submit(stack.newUserToken(), quizId, attemptId, answers(quiz, 2)).status()).isEqualTo(404);
  }

  @Test
  void quizzesOutsideTheirWindowOrUnpublishedAreNotFoundToUsers() {
    String token = stack.newUserToken();
    JsonObject future = createQuiz(quizBody(1, 60, 1, "published")
        .put("startAt", OffsetDateTime.now().plusDays(1).toString()));
    JsonObject past = createQuiz(quizBody(1, 60, 1, "published")
        .put("startAt", OffsetDateTime.now().minusDays(2).toString())
        .put("endAt", OffsetDateTime.now().minusDays(1).toString()));
    JsonObject draft = createQuiz(quizBody(1, 60, 1, "draft"));
    for (JsonObject quiz : List.of(future, past, draft)) {
      assertThat(stack.api.get("/api/v1/quizzes/" + quiz.getString("id"), token).status()).isEqualTo(404);
      Reply start = stack.api.post("/api/v1/quizzes/" + quiz.getString("id") + "/attempts", token, null);
      assertThat(start.status()).isEqualTo(404);
    }
    // opening the window (an edit) makes it playable
    Reply opened = stack.api.patch("/api/v1/admin/quizzes/" + future.getString("id"), merchant.editor(),
        new JsonObject().put("startAt", OffsetDateTime.now().minusMinutes(1).toString()));
    assertThat(opened.status()).isEqualTo(200);
    assertThat(stack.api.get("/api/v1/quizzes/" + future.getString("id"), token).status()).isEqualTo(200);
    assertThat(stack.api.get("/api/v1/quizzes/999999999", token).status()).isEqualTo(404);
  }

  @Test
  void leaderboardRanksScoreThenDurationWithTiesAndSurvivesLosingRedis() {
    JsonObject quiz = publishedQuiz(3);
    String quizId = quiz.getString("id");
    String[] tokens = {stack.newUserToken(), stack.newUserToken(), stack.newUserToken(), stack.newUserToken()};
    long[] users = new long[4];
    // user 0: 3 right; users 1..3: 2 right, in 5 s, 10 s, 10 s (durations fixed through started_at)
    int[] right = {3, 2, 2, 2};
    int[] seconds = {20, 5, 10, 10};
    for (int i = 0; i < 4; i++) {
      users[i] = userId(tokens[i]);
      stack.sql("UPDATE users SET nickname = $2 WHERE id = $1", Tuple.of(users[i], "player" + i));
      String attemptId = startAttempt(tokens[i], quizId).getString("attemptId");
      stack.sql("UPDATE quiz_attempts SET started_at = now() - make_interval(secs => $2), "
          + "deadline = now() + interval '1 minute' WHERE id = $1", Tuple.of(Long.parseLong(attemptId), seconds[i]));
      Reply r = submit(tokens[i], quizId, attemptId, answers(quiz, right[i]));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }
    // users 2 and 3 took exactly as long (same score, same duration): a tie
    stack.sql("UPDATE quiz_attempts SET duration_ms = 10000 WHERE quiz_id = $1 AND user_id = ANY($2)",
        Tuple.of(Long.parseLong(quizId), (Object) new Long[] {users[2], users[3]}));
    deleteBoard(quizId); // the board is rebuilt from PostgreSQL, now with the exact tie

    // ten readers at once find it missing: one rebuilds under the lock, the others wait for it; all see everyone
    List<Future<Reply>> readers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      readers.add(stack.api.sendAsync(HttpMethod.GET, "/api/v1/quizzes/" + quizId + "/leaderboard", tokens[i % 4],
          null, null));
    }
    assertThat(all(readers)).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().getJsonArray("entries")).hasSize(4);
    });

    JsonObject board = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard", tokens[3]).json();
    JsonArray entries = board.getJsonArray("entries");
    assertThat(entries).hasSize(4);
    assertThat(entries.getJsonObject(0).getString("userId")).isEqualTo(Long.toString(users[0]));
    assertThat(entries.getJsonObject(0).getInteger("score")).isEqualTo(3);
    assertThat(entries.getJsonObject(0).getString("nickname")).isEqualTo("player0");
    assertThat(entries.getJsonObject(1).getString("userId")).isEqualTo(Long.toString(users[1]));
    assertThat(entries.getJsonObject(1).getLong("rank")).isEqualTo(2L);
    long lower = Math.min(users[2], users[3]);
    long higher = Math.max(users[2], users[3]);
    assertThat(entries.getJsonObject(2).getString("userId")).isEqualTo(Long.toString(lower));
    assertThat(entries.getJsonObject(3).getString("userId")).isEqualTo(Long.toString(higher));
    assertThat(entries.getJsonObject(2).getLong("rank")).isEqualTo(3L);
    assertThat(entries.getJsonObject(3).getLong("rank")).isEqualTo(3L);
    assertThat(entries.getJsonObject(3).getLong("durationMs")).isEqualTo(10_000L);
    assertThat(board.getJsonObject("me").getLong("rank")).isEqualTo(3L);
    assertThat(board.getJsonObject("me").getString("nickname")).isEqualTo("player3");

    JsonObject top1 = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard?limit=1", tokens[3]).json();
    assertThat(top1.getJsonArray("entries")).hasSize(1);
    assertThat(top1.getJsonObject("me").getLong("rank")).isEqualTo(3L);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard?limit=51", tokens[3]).status())
        .isEqualTo(400);
    String outsider = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard", outsider).json().getValue("me")).isNull();

    // a submit while the board is missing rebuilds it first, so nobody drops off; the best attempt counts
    deleteBoard(quizId);
    String second = startAttempt(tokens[1], quizId).getString("attemptId");
    Reply worse = submit(tokens[1], quizId, second, answers(quiz, 0));
    assertThat(worse.status()).isEqualTo(200);
    assertThat(worse.json().getLong("rank")).isEqualTo(2L);
    JsonObject rebuilt = stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard", tokens[0]).json();
    assertThat(rebuilt.getJsonArray("entries")).hasSize(4);
    assertThat(rebuilt.getJsonArray("entries").getJsonObject(1).getInteger("score")).isEqualTo(2);
    assertThat(rebuilt.getJsonObject("me").getLong("rank")).isEqualTo(1L);
  }

  @Test
  void editingQuestionsMakesANewVersionAndKeepsFinishedScores() {
    JsonObject quiz = publishedQuiz(2);
    String quizId = quiz.getString("id");
    String token = stack.newUserToken();
    String finished = startAttempt(token, quizId).getString("attemptId");
    assertThat(submit(token, quizId, finished, answers(quiz, 2)).json().getInteger("score")).isEqualTo(2);
    String inFlight = startAttempt(token, quizId).getString("attemptId");

    // the merchant rewrites the questions: now the first choice is the right one, and there are three
    JsonObject rewritten = quizBody(3, 60, 3, "published");
    rewritten.getJsonArray("questions").forEach(q -> {
      JsonArray choices = ((JsonObject) q).getJsonArray("choices");
      choices.getJsonObject(0).put("correct", true);
      choices.getJsonObject(1).put("correct", false);
    });
    Reply edited = stack.api.patch("/api/v1/admin/quizzes/" + quizId, merchant.owner(),
        new JsonObject().put("questions", rewritten.getJsonArray("questions")).put("title", "Tea culture II"));
    assertThat(edited.status()).as(edited.toString()).isEqualTo(200);
    assertThat(edited.json().getInteger("version")).isEqualTo(2);
    assertThat(edited.json().getJsonArray("questions")).hasSize(3);
    assertThat(edited.json().getJsonArray("questions").getJsonObject(0).getString("id"))
        .isNotEqualTo(quiz.getJsonArray("questions").getJsonObject(0).getString("id"));

    // the finished attempt keeps its score; the attempt in flight is graded on the questions it was shown
    assertThat(stack.count("SELECT score FROM quiz_attempts WHERE id = $1", Tuple.of(Long.parseLong(finished))))
        .isEqualTo(2);
    Reply old = submit(token, quizId, inFlight, answers(quiz, 2));
    assertThat(old.status()).as(old.toString()).isEqualTo(200);
    assertThat(old.json().getInteger("score")).isEqualTo(2);
    assertThat(old.json().getInteger("total")).isEqualTo(2);
    // new attempts get the new version
    JsonObject fresh = startAttempt(token, quizId);
    assertThat(fresh.getJsonArray("questions")).hasSize(3);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId, token).json().getString("title")).isEqualTo("Tea culture II");
  }

  @Test
  void merchantsAreScopedAndAnalystsOnlyRead() {
    JsonObject quiz = publishedQuiz(1);
    String quizId = quiz.getString("id");
    TestStack.Merchant other = stack.newMerchant();
    assertThat(stack.api.get("/api/v1/admin/quizzes/" + quizId, other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.patch("/api/v1/admin/quizzes/" + quizId, other.owner(),
        new JsonObject().put("title", "mine now")).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/quizzes", other.owner()).json().getJsonArray("items")).isEmpty();

    Reply create = stack.api.post("/api/v1/admin/quizzes", merchant.analyst(), quizBody(1, 60, 1, "draft"));
    assertThat(create.status()).isEqualTo(403);
    assertThat(create.errorCode()).isEqualTo("forbidden");
    Reply patch = stack.api.patch("/api/v1/admin/quizzes/" + quizId, merchant.analyst(),
        new JsonObject().put("status", "archived"));
    assertThat(patch.status()).isEqualTo(403);
    assertThat(stack.api.post("/api/v1/admin/quizzes", merchant.editor(), quizBody(1, 60, 1, "draft")).status())
        .isEqualTo(201);
    // a user token does not open admin routes
    assertThat(stack.api.get("/api/v1/admin/quizzes", stack.newUserToken()).status()).isEqualTo(401);
  }

  @Test
  void quizzesNeedExactlyOneCorrectChoicePerQuestion() {
    JsonObject body = quizBody(2, 60, 1, "draft");
    body.getJsonArray("questions").getJsonObject(1).getJsonArray("choices").getJsonObject(0).put("correct", true);
    body.getJsonArray("questions").getJsonObject(0).getJsonArray("choices").getJsonObject(1).put("correct", false);
    body.put("timeLimitSec", 0);
    Reply r = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), body);
    assertThat(r.status()).isEqualTo(400);
    JsonObject fields = r.json().getJsonObject("error").getJsonObject("fields");
    assertThat(fields.getString("questions[0].choices")).contains("exactly one");
    assertThat(fields.getString("questions[1].choices")).contains("exactly one");
    assertThat(fields.getString("timeLimitSec")).isNotNull();
    Reply window = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quizBody(1, 60, 1, "draft")
        .put("startAt", "2030-01-02T00:00:00Z").put("endAt", "2030-01-01T00:00:00Z"));
    assertThat(window.status()).isEqualTo(400);
    assertThat(window.json().getJsonObject("error").getJsonObject("fields").getString("endAt")).isNotNull();
  }
}
