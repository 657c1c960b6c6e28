package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Quiz answers that got lost: the attempt read back, the stored result on a second submit, the list of open quizzes. */
class QuizAttemptsTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  private static JsonArray firstChoices(JsonObject attempt) {
    JsonArray answers = new JsonArray();
    for (Object q : attempt.getJsonArray("questions")) {
      JsonObject question = (JsonObject) q;
      answers.add(new JsonObject().put("questionId", question.getString("id"))
          .put("choiceId", question.getJsonArray("choices").getJsonObject(0).getString("id")));
    }
    return answers;
  }

  @Test
  void theStoredResultIsThereAfterTheAnswerWasLost() {
    TestStack.Merchant m = stack.newMerchant();
    String quizId = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Lost answers")).json()
        .getString("id");
    String user = stack.newUserToken();
    JsonObject attempt = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", user, null).json();
    String base = "/api/v1/quizzes/" + quizId + "/attempts/" + attempt.getString("attemptId");

    Reply open = stack.api.get(base, user);
    assertThat(open.status()).isEqualTo(200);
    assertThat(open.json().getString("status")).isEqualTo("open");
    assertThat(open.json().getValue("result")).isNull();
    assertThat(open.json().getString("deadline")).isEqualTo(attempt.getString("deadline"));
    assertThat(open.json().getString("startedAt")).isEqualTo(attempt.getString("startedAt"));

    Reply submitted = stack.api.post(base + "/submit", user, new JsonObject().put("answers", firstChoices(attempt)));
    assertThat(submitted.status()).isEqualTo(200);
    JsonObject result = submitted.json();
    assertThat(result.getInteger("score")).isEqualTo(2);

    Reply again = stack.api.post(base + "/submit", user, new JsonObject().put("answers", new JsonArray()));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("already_submitted");
    JsonObject stored = again.json().getJsonObject("result");
    assertThat(stored.getInteger("score")).isEqualTo(2);
    assertThat(stored.getInteger("total")).isEqualTo(2);
    assertThat(stored.getInteger("pointsAwarded")).isEqualTo(10);
    assertThat(stored.getJsonArray("results")).isEqualTo(result.getJsonArray("results"));
    assertThat(stored.getLong("rank")).isEqualTo(1);
    assertThat(stack.api.get("/api/v1/me", user).json().getLong("points")).isEqualTo(10); // awarded once

    Reply read = stack.api.get(base, user);
    assertThat(read.json().getString("status")).isEqualTo("submitted");
    assertThat(read.json().getJsonObject("result").getJsonArray("results")).isEqualTo(result.getJsonArray("results"));

    // someone else's attempt is not found
    assertThat(stack.api.get(base, stack.newUserToken()).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/attempts/999999999", user).status()).isEqualTo(404);
  }

  @Test
  void anAttemptPastItsDeadlineReadsExpired() {
    TestStack.Merchant m = stack.newMerchant();
    String quizId = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Expiring")).json()
        .getString("id");
    String user = stack.newUserToken();
    String attemptId = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", user, null).json()
        .getString("attemptId");
    stack.sql("UPDATE quiz_attempts SET started_at = now() - interval '2 minutes', deadline = now() - interval "
        + "'1 minute' WHERE id = $1", io.vertx.sqlclient.Tuple.of(Long.parseLong(attemptId)));
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/attempts/" + attemptId, user).json()
        .getString("status")).isEqualTo("expired");
  }

  @Test
  void theListShowsPublishedQuizzesOpenNow() {
    TestStack.Merchant m = stack.newMerchant();
    String open = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Open now")).json()
        .getString("id");
    String draft = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Draft").put("status", "draft"))
        .json().getString("id");
    String later = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Later")
        .put("startAt", java.time.OffsetDateTime.now().plusDays(1).toString())).json().getString("id");
    String user = stack.newUserToken();
    Reply page = stack.api.get("/api/v1/quizzes?limit=50", user);
    assertThat(page.status()).isEqualTo(200);
    JsonArray items = page.json().getJsonArray("items");
    assertThat(items.stream().map(q -> ((JsonObject) q).getString("id"))).contains(open).doesNotContain(draft, later);
    JsonObject entry = items.stream().map(q -> (JsonObject) q).filter(q -> q.getString("id").equals(open))
        .findFirst().orElseThrow();
    assertThat(entry.getString("title")).isEqualTo("Open now");
    assertThat(entry.getInteger("questionCount")).isEqualTo(2);
    assertThat(entry.getInteger("timeLimitSec")).isEqualTo(60);
    assertThat(entry.getInteger("maxAttempts")).isEqualTo(3);
    assertThat(entry.containsKey("questions")).isFalse();
    // paging
    Reply first = stack.api.get("/api/v1/quizzes?limit=1", user);
    assertThat(first.json().getJsonArray("items")).hasSize(1);
    String cursor = first.json().getString("nextCursor");
    assertThat(cursor).isNotNull();
    Reply next = stack.api.get("/api/v1/quizzes?limit=1&cursor=" + cursor, user);
    assertThat(next.json().getJsonArray("items").getJsonObject(0).getString("id"))
        .isNotEqualTo(first.json().getJsonArray("items").getJsonObject(0).getString("id"));
    assertThat(stack.api.get("/api/v1/quizzes", null).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/quizzes?limit=0", user).status()).isEqualTo(400);
  }
}
