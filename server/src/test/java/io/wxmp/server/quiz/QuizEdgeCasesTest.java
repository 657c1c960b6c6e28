package io.wxmp.server.quiz;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input at the quiz routes: always a 4xx with API.md's error body, and nothing written. */
class QuizEdgeCasesTest {
  static TestStack stack;
  static TestStack.Merchant merchant;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
  }

  static JsonObject quizBody() {
    return new JsonObject().put("title", "Edge").put("timeLimitSec", 60).put("maxAttempts", 2)
        .put("pointsPerCorrect", 5).put("status", "published").put("questions", new JsonArray()
            .add(new JsonObject().put("text", "Q").put("tags", new JsonArray().add("tea")).put("choices",
                new JsonArray().add(new JsonObject().put("text", "A").put("correct", true))
                    .add(new JsonObject().put("text", "B").put("correct", false)))));
  }

  long quizCount() {
    return stack.count("SELECT count(*) FROM quizzes WHERE merchant_id = $1", Tuple.of(merchant.id()));
  }

  static void assertBadRequest(Reply r, String field) {
    assertThat(r.status()).as(r.toString()).isEqualTo(400);
    assertThat(r.errorCode()).isEqualTo("bad_request");
    assertThat(r.json().getJsonObject("error").getJsonObject("fields").fieldNames()).as(r.toString())
        .contains(field);
  }

  @Test
  void timesBeyondFourDigitYearsAre400AndNeverPoisonTheQuiz() {
    long before = quizCount();
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(),
        quizBody().put("startAt", "+300000-01-01T00:00:00Z")), "startAt");
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(),
        quizBody().put("endAt", "-5000-01-01T00:00:00Z")), "endAt");
    assertThat(quizCount()).isEqualTo(before);

    Reply created = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quizBody());
    assertThat(created.status()).isEqualTo(201);
    String id = created.json().getString("id");
    assertBadRequest(stack.api.patch("/api/v1/admin/quizzes/" + id, merchant.owner(),
        new JsonObject().put("endAt", "+300000-01-01T00:00:00Z")), "endAt");
    // the quiz still reads, for its merchant and for users
    assertThat(stack.api.get("/api/v1/admin/quizzes/" + id, merchant.analyst()).status()).isEqualTo(200);
    Reply read = stack.api.get("/api/v1/quizzes/" + id, stack.newUserToken());
    assertThat(read.status()).as(read.toString()).isEqualTo(200);
    assertThat(read.json().getString("endAt")).isNull();
  }

  @Test
  void textWithANulCharacterIs400AndChangesNothing() {
    long before = quizCount();
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(),
        quizBody().put("title", "Tea\u0000time")), "title");
    JsonObject badChoice = quizBody();
    badChoice.getJsonArray("questions").getJsonObject(0).getJsonArray("choices").getJsonObject(0)
        .put("text", "A\u0000");
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(), badChoice),
        "questions[0].choices[0].text");
    JsonObject badTag = quizBody();
    badTag.getJsonArray("questions").getJsonObject(0).put("tags", new JsonArray().add("t\u0000"));
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(), badTag), "questions[0].tags");
    JsonObject loneSurrogate = quizBody().put("title", "Tea \ud800");
    assertBadRequest(stack.api.post("/api/v1/admin/quizzes", merchant.owner(), loneSurrogate), "title");
    assertThat(quizCount()).isEqualTo(before);
  }

  @Test
  void aMissingOrNonJsonBodyIs4xxNot500() {
    String id = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), quizBody()).json().getString("id");
    String token = stack.newUserToken();
    String attemptId = stack.api.post("/api/v1/quizzes/" + id + "/attempts", token, null).json()
        .getString("attemptId");
    String submit = "/api/v1/quizzes/" + id + "/attempts/" + attemptId + "/submit";

    Reply noBody = stack.api.post(submit, token, null);
    assertThat(noBody.status()).as(noBody.toString()).isEqualTo(400);
    assertThat(noBody.errorCode()).isEqualTo("bad_request");

    MultiMap multipart = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "multipart/form-data; boundary=b");
    Reply form = stack.api.send(HttpMethod.POST, "/api/v1/admin/quizzes", merchant.owner(), Buffer.buffer(
        "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--b--\r\n"), multipart);
    assertThat(form.status()).as(form.toString()).isEqualTo(415);
    assertThat(form.errorCode()).isEqualTo("unsupported_media_type");

    MultiMap urlEncoded = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "application/x-www-form-urlencoded");
    Reply encoded = stack.api.send(HttpMethod.POST, submit, token, Buffer.buffer("answers=1"), urlEncoded);
    assertThat(encoded.status()).as(encoded.toString()).isEqualTo(415);

    // nothing was submitted by any of these: the attempt still takes its one submit
    Reply ok = stack.api.post(submit, token, new JsonObject().put("answers", new JsonArray()));
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
  }
}
