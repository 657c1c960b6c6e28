package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What merchants publish goes through WeChat content security: 422 content_rejected naming the field, nothing saved. */
class ContentSecurityTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  private static JsonObject fields(Reply r) {
    return r.json().getJsonObject("error").getJsonObject("fields");
  }

  @Test
  void riskyItemTextIsRejectedWhenPublished() {
    TestStack.Merchant m = stack.newMerchant();
    Reply risky = stack.api.post("/api/v1/admin/items", m.editor(),
        PlatformKit.paidArticle("Fine title", 100).put("body", "visit our casino tonight"));
    assertThat(risky.status()).isEqualTo(422);
    assertThat(risky.errorCode()).isEqualTo("content_rejected");
    assertThat(fields(risky).fieldNames()).containsExactly("body");
    assertThat(stack.count("SELECT count(*) FROM items WHERE merchant_id = $1", Tuple.of(m.id()))).isZero();

    // a draft is not checked until it is published
    Reply draft = stack.api.post("/api/v1/admin/items", m.editor(),
        PlatformKit.paidArticle("赌博 guide", 100).put("status", "draft"));
    assertThat(draft.status()).isEqualTo(201);
    String id = draft.json().getString("id");
    Reply publish = stack.api.patch("/api/v1/admin/items/" + id, m.editor(), new JsonObject().put("status", "published"));
    assertThat(publish.status()).isEqualTo(422);
    assertThat(fields(publish).fieldNames()).containsExactly("title");
    assertThat(stack.api.get("/api/v1/admin/items/" + id, m.editor()).json().getString("status")).isEqualTo("draft");
    assertThat(stack.api.patch("/api/v1/admin/items/" + id, m.editor(),
        new JsonObject().put("status", "published").put("title", "Tea guide")).status()).isEqualTo(200);
    // editing a published item checks what changed
    Reply edit = stack.api.patch("/api/v1/admin/items/" + id, m.editor(),
        new JsonObject().put("summary", "now with CASINO bonuses"));
    assertThat(edit.status()).isEqualTo(422);
    assertThat(fields(edit).fieldNames()).containsExactly("summary");
    assertThat(stack.api.get("/api/v1/admin/items/" + id, m.editor()).json().getString("summary"))
        .isEqualTo("a summary");
  }

  @Test
  void riskyQuizTextIsRejectedWhenPublished() {
    TestStack.Merchant m = stack.newMerchant();
    JsonObject quiz = PlatformKit.quiz("Quiz night");
    quiz.getJsonArray("questions").getJsonObject(1).getJsonArray("choices").getJsonObject(1).put("text", "casino");
    Reply risky = stack.api.post("/api/v1/admin/quizzes", m.editor(), quiz);
    assertThat(risky.status()).isEqualTo(422);
    assertThat(fields(risky).fieldNames()).containsExactly("questions[1].choices[1].text");
    assertThat(stack.count("SELECT count(*) FROM quizzes WHERE merchant_id = $1", Tuple.of(m.id()))).isZero();

    Reply draft = stack.api.post("/api/v1/admin/quizzes", m.editor(), quiz.copy().put("status", "draft"));
    assertThat(draft.status()).isEqualTo(201);
    String id = draft.json().getString("id");
    Reply publish = stack.api.patch("/api/v1/admin/quizzes/" + id, m.editor(),
        new JsonObject().put("status", "published"));
    assertThat(publish.status()).isEqualTo(422);
    assertThat(fields(publish).fieldNames()).containsExactly("questions[1].choices[1].text");
    JsonArray clean = PlatformKit.quiz("x").getJsonArray("questions");
    assertThat(stack.api.patch("/api/v1/admin/quizzes/" + id, m.editor(),
        new JsonObject().put("status", "published").put("questions", clean)).status()).isEqualTo(200);
  }
}
