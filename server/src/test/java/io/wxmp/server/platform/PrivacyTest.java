package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PIPL rights: the export holds what the user made; after DELETE /me nothing personal is left in any table. */
class PrivacyTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  /** A user with a bit of everything: phone, nickname, a paid order, a quiz attempt with points, a consent. */
  record Person(String token, long userId, String openid, String phone, String nickname, String orderId,
      String quizId, String itemId, long merchantId) {}

  static Person person() {
    JsonObject wx = stack.newWeChatUser();
    Reply login = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    String token = login.json().getString("token");
    long userId = Long.parseLong(login.json().getJsonObject("user").getString("id"));
    assertThat(stack.api.post("/api/v1/auth/phone", token, new JsonObject().put("code", wx.getString("phoneCode")))
        .status()).isEqualTo(200);
    String nickname = PlatformKit.unique("nick");
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", nickname)).status())
        .isEqualTo(200);
    assertThat(stack.api.post("/api/v1/me/subscriptions", token,
        new JsonObject().put("templateIds", new JsonArray().add("dev-template-payment"))).status()).isEqualTo(200);

    TestStack.Merchant m = stack.newMerchant();
    String itemId = stack.api.post("/api/v1/admin/items", m.editor(), PlatformKit.paidArticle("Private", 700)).json()
        .getString("id");
    String orderId = stack.api.post("/api/v1/orders", token, new JsonObject().put("itemId", itemId)).json()
        .getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
    stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo));
    TestStack.eventually("paid", 15_000, () -> "paid".equals(stack.api.get("/api/v1/orders/" + orderId, token).json()
        .getString("status")));

    String quizId = stack.api.post("/api/v1/admin/quizzes", m.editor(), PlatformKit.quiz("Private quiz")).json()
        .getString("id");
    JsonObject attempt = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", token, null).json();
    JsonArray answers = new JsonArray();
    for (Object q : attempt.getJsonArray("questions")) {
      JsonObject question = (JsonObject) q;
      JsonObject first = question.getJsonArray("choices").getJsonObject(0); // the right one in PlatformKit.quiz
      answers.add(new JsonObject().put("questionId", question.getString("id")).put("choiceId", first.getString("id")));
    }
    Reply submit = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts/" + attempt.getString("attemptId")
        + "/submit", token, new JsonObject().put("answers", answers));
    assertThat(submit.json().getInteger("pointsAwarded")).isEqualTo(10);
    return new Person(token, userId, wx.getString("openid"), wx.getString("phone"), nickname, orderId, quizId, itemId,
        m.id());
  }

  @Test
  void theExportHoldsWhatTheUserMade() {
    Person p = person();
    Reply r = stack.api.get("/api/v1/me/export", p.token());
    assertThat(r.status()).isEqualTo(200);
    JsonObject doc = r.json();
    assertThat(doc.fieldNames()).contains("profile", "orders", "points", "attempts", "events", "interests");
    assertThat(doc.getJsonObject("profile").getString("id")).isEqualTo(Long.toString(p.userId()));
    assertThat(doc.getJsonObject("profile").getString("nickname")).isEqualTo(p.nickname());
    assertThat(doc.getJsonObject("profile").getString("phone")).isEqualTo(p.phone());
    assertThat(doc.getJsonArray("orders")).hasSize(1);
    JsonObject order = doc.getJsonArray("orders").getJsonObject(0);
    assertThat(order.getString("id")).isEqualTo(p.orderId());
    assertThat(order.getString("status")).isEqualTo("paid");
    assertThat(order.getJsonObject("amount").getLong("amount")).isEqualTo(700);
    assertThat(doc.getJsonObject("points").getLong("balance")).isEqualTo(10);
    assertThat(doc.getJsonObject("points").getJsonArray("ledger")).hasSize(1);
    JsonObject attempt = doc.getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("quizId")).isEqualTo(p.quizId());
    assertThat(attempt.getInteger("score")).isEqualTo(2);
    assertThat(attempt.getJsonArray("answers")).hasSize(2);
    assertThat(doc.getJsonArray("interests").stream().map(i -> ((JsonObject) i).getString("tag"))).contains("math");
    assertThat(doc.getJsonArray("events")).isNotNull();
    assertThat(doc.getJsonArray("subscriptions")).hasSize(1);
    // the phone is stored encrypted, never as the number
    String stored = stack.sql("SELECT phone FROM users WHERE id = $1", Tuple.of(p.userId())).iterator().next()
        .getString(0);
    assertThat(stored).startsWith("v1:").doesNotContain(p.phone()).doesNotContain(p.phone().substring(3));
    // what others see of the user stays masked
    assertThat(stack.api.get("/api/v1/me", p.token()).json().getBoolean("phoneBound")).isTrue();
  }

  @Test
  void afterEraseNoPersonalFieldIsLeftTheOrdersAddUpAndALoginIsANewUser() {
    Person p = person();
    long merchantRevenue = stack.count("SELECT COALESCE(sum(amount_fen), 0) FROM orders WHERE merchant_id = $1 "
        + "AND status = 'paid'", Tuple.of(p.merchantId()));
    assertThat(stack.api.get("/api/v1/quizzes/" + p.quizId() + "/leaderboard", p.token()).json()
        .getJsonArray("entries")).hasSize(1);

    assertThat(stack.api.get("/api/v1/me", p.token()).json().getString("nickname")).isEqualTo(p.nickname()); // cached
    assertThat(stack.api.delete("/api/v1/me", p.token()).status()).isEqualTo(204);
    assertThat(stack.api.get("/api/v1/me", p.token()).status()).isEqualTo(401);
    // nor is the cached /me answer left in Redis (only the user's generation number, until it expires)
    io.vertx.redis.client.Redis redis = stack.redisClient();
    try {
      io.vertx.redis.client.Response fields = io.vertx.redis.client.RedisAPI.api(redis)
          .hkeys(io.wxmp.handlers.common.ProfileCache.key(p.userId())).await(10, java.util.concurrent.TimeUnit.SECONDS);
      List<String> names = new ArrayList<>();
      fields.forEach(f -> names.add(f.toString()));
      assertThat(names).containsOnly("g");
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      redis.close();
    }

    // no table holds a row of the user, nor any of their personal values anywhere
    for (Row col : stack.sql("""
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name IN ('user_id', 'owner_user_id')""", Tuple.tuple())) {
      String table = col.getString(0);
      String column = stack.count("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
          + "AND table_name = $1 AND column_name = 'user_id'", Tuple.of(table)) > 0 ? "user_id" : "owner_user_id";
      assertThat(stack.count("SELECT count(*) FROM " + table + " WHERE " + column + " = $1", Tuple.of(p.userId())))
          .as(table).isZero();
    }
    assertThat(stack.count("SELECT count(*) FROM users WHERE id = $1", Tuple.of(p.userId()))).isZero();
    List<String> leaks = new ArrayList<>();
    for (Row col : stack.sql("""
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')""",
        Tuple.tuple())) {
      String sql = "SELECT count(*) FROM \"" + col.getString(0) + "\" WHERE \"" + col.getString(1)
          + "\"::text LIKE '%' || $1 || '%'";
      for (String value : List.of(p.openid(), p.phone(), p.nickname())) {
        if (stack.count(sql, Tuple.of(value)) > 0) {
          leaks.add(col.getString(0) + "." + col.getString(1));
        }
      }
    }
    assertThat(leaks).as("personal values still stored").isEmpty();

    // the order is kept, under an anonymous id, and the merchant's numbers add up as before
    Row order = stack.sql("SELECT o.user_id, o.amount_fen, o.status, u.openid, u.nickname, u.phone, u.erased_at "
        + "FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = $1", Tuple.of(Long.parseLong(p.orderId())))
        .iterator().next();
    assertThat(order.getLong("user_id")).isNotEqualTo(p.userId());
    assertThat(order.getLong("amount_fen")).isEqualTo(700);
    assertThat(order.getString("status")).isEqualTo("paid");
    assertThat(order.getString("nickname")).isNull();
    assertThat(order.getString("phone")).isNull();
    assertThat(order.getValue("erased_at")).isNotNull();
    assertThat(stack.count("SELECT COALESCE(sum(amount_fen), 0) FROM orders WHERE merchant_id = $1 "
        + "AND status = 'paid'", Tuple.of(p.merchantId()))).isEqualTo(merchantRevenue);

    // the leaderboard no longer shows them
    String other = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/quizzes/" + p.quizId() + "/leaderboard", other).json()
        .getJsonArray("entries")).isEmpty();

    // the same WeChat account logs in as a new user, owning nothing
    Reply again = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", stack.codeFor(p.openid())));
    assertThat(again.json().getJsonObject("user").getBoolean("isNew")).isTrue();
    assertThat(again.json().getJsonObject("user").getString("id")).isNotEqualTo(Long.toString(p.userId()));
    String fresh = again.json().getString("token");
    assertThat(stack.api.get("/api/v1/me", fresh).json().getLong("points")).isZero();
    assertThat(stack.api.get("/api/v1/items/" + p.itemId(), fresh).json().getBoolean("locked")).isTrue();
    assertThat(stack.api.get("/api/v1/me/export", fresh).json().getJsonArray("orders")).isEmpty();
  }
}
