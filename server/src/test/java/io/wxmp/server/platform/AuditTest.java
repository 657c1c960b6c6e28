package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every write by a merchant account is in its merchant's audit log, with who, when, the request id and the change. */
class AuditTest {
  static TestStack stack;
  static String operator;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    operator = PlatformKit.operatorToken(stack.settings, stack.api);
  }

  private static List<JsonObject> audit(String ownerToken) {
    List<JsonObject> all = new ArrayList<>();
    String cursor = null;
    do {
      Reply page = stack.api.get("/api/v1/admin/audit?limit=3" + (cursor == null ? "" : "&cursor=" + cursor),
          ownerToken);
      assertThat(page.status()).as(page.toString()).isEqualTo(200);
      page.json().getJsonArray("items").forEach(e -> all.add((JsonObject) e));
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    return all;
  }

  private static JsonObject entry(List<JsonObject> entries, String action) {
    return entries.stream().filter(e -> e.getString("action").equals(action)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + action + " in " + entries));
  }

  @Test
  void eachKindOfWriteIsRecordedForItsOwnMerchantOnly() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    String[] editor = PlatformKit.newAccount(stack.api, shop.owner(), "editor");

    MultiMap withId = MultiMap.caseInsensitiveMultiMap().add("X-Request-Id", "audit-request-0001");
    Reply created = stack.api.send(HttpMethod.POST, "/api/v1/admin/items", editor[1],
        PlatformKit.paidArticle("Audited", 200).toBuffer(), withId);
    String itemId = created.json().getString("id");
    stack.api.patch("/api/v1/admin/items/" + itemId, editor[1], new JsonObject().put("title", "Audited again"));
    stack.api.delete("/api/v1/admin/items/" + itemId, editor[1]);
    String quizId = stack.api.post("/api/v1/admin/quizzes", editor[1], PlatformKit.quiz("Audited quiz")).json()
        .getString("id");
    stack.api.patch("/api/v1/admin/quizzes/" + quizId, editor[1], new JsonObject().put("maxAttempts", 7));
    // a refund: an order paid by a user, refunded by the owner
    String paid = stack.api.post("/api/v1/admin/items", editor[1], PlatformKit.paidArticle("Refunded", 300)).json()
        .getString("id");
    String user = stack.newUserToken();
    String orderId = stack.api.post("/api/v1/orders", user, new JsonObject().put("itemId", paid)).json()
        .getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
    stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo));
    TestStack.eventually("paid", 15_000, () -> "paid".equals(stack.api.get("/api/v1/orders/" + orderId, user).json()
        .getString("status")));
    Reply refund = stack.api.post("/api/v1/admin/orders/" + orderId + "/refund", shop.owner(),
        new JsonObject().put("reason", "customer asked"));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(202);
    // a write that fails changes nothing and leaves no entry
    assertThat(stack.api.patch("/api/v1/admin/items/" + itemId, editor[1], new JsonObject().put("title", ""))
        .status()).isEqualTo(400);

    List<JsonObject> entries = audit(shop.owner());
    assertThat(entries).extracting(e -> e.getString("action")).contains("account.create", "account.password",
        "item.create", "item.update", "item.archive", "quiz.create", "quiz.update", "order.refund");
    assertThat(entries.stream().filter(e -> e.getString("action").equals("item.update")).count()).isEqualTo(1);
    // newest first, ids strings
    assertThat(Long.parseLong(entries.get(0).getString("id")))
        .isGreaterThan(Long.parseLong(entries.get(entries.size() - 1).getString("id")));

    JsonObject create = entries.stream().filter(e -> e.getString("action").equals("item.create")
        && e.getJsonObject("target").getString("id").equals(itemId)).findFirst().orElseThrow();
    assertThat(create.getString("requestId")).isEqualTo("audit-request-0001");
    assertThat(create.getJsonObject("account").getString("username")).isEqualTo(editor[0]);
    assertThat(create.getJsonObject("account").getString("id")).isEqualTo(editor[2]);
    assertThat(create.getJsonObject("target")).isEqualTo(new JsonObject().put("type", "item").put("id", itemId));
    assertThat(create.getString("at")).matches("\\d{4}-\\d\\d-\\d\\dT.*(Z|[+-]\\d\\d:\\d\\d)");
    assertThat(create.getJsonObject("changes").getJsonObject("title").getString("to")).isEqualTo("Audited");
    JsonObject update = entry(entries, "item.update").getJsonObject("changes");
    assertThat(update.fieldNames()).containsExactly("title");
    assertThat(update.getJsonObject("title")).isEqualTo(new JsonObject().put("from", "Audited").put("to", "Audited again"));
    assertThat(entry(entries, "item.archive").getJsonObject("changes").getJsonObject("status").getString("to"))
        .isEqualTo("archived");
    assertThat(entry(entries, "quiz.update").getJsonObject("changes").getJsonObject("maxAttempts"))
        .isEqualTo(new JsonObject().put("from", 3).put("to", 7));
    JsonObject refunded = entry(entries, "order.refund");
    assertThat(refunded.getJsonObject("account").getString("username")).isEqualTo(shop.ownerUsername());
    assertThat(refunded.getJsonObject("changes").getJsonObject("reason"))
        .isEqualTo(new JsonObject().put("to", "customer asked"));
    assertThat(refunded.getJsonObject("changes").getJsonObject("status"))
        .isEqualTo(new JsonObject().put("from", "paid").put("to", "refunding"));
    // the refunds table says who refunded
    assertThat(stack.sql("SELECT a.username FROM refunds r JOIN merchant_accounts a ON a.id = r.requested_by "
        + "WHERE r.order_id = $1", Tuple.of(Long.parseLong(orderId))).iterator().next().getString(0))
        .isEqualTo(shop.ownerUsername());
    // no secret in any entry
    assertThat(new JsonArray(new ArrayList<>(entries)).encode()).doesNotContain(PlatformKit.NEW_PASSWORD);

    // accounts: the owner's changes to an account
    stack.api.patch("/api/v1/admin/accounts/" + editor[2], shop.owner(), new JsonObject().put("disabled", true));
    JsonObject disable = entry(audit(shop.owner()), "account.update");
    assertThat(disable.getJsonObject("changes").getJsonObject("disabled"))
        .isEqualTo(new JsonObject().put("from", false).put("to", true));

    // another merchant's owner sees none of it; editors may not read the log
    PlatformKit.Shop other = PlatformKit.newShop(stack, operator);
    assertThat(audit(other.owner())).extracting(e -> e.getString("action")).containsOnly("account.password");
    String[] otherEditor = PlatformKit.newAccount(stack.api, other.owner(), "editor");
    assertThat(stack.api.get("/api/v1/admin/audit", otherEditor[1]).status()).isEqualTo(403);
    // operators' writes are recorded too (merchant made, status changed)
    stack.api.patch("/api/v1/platform/merchants/" + other.merchantId(), operator,
        new JsonObject().put("status", "suspended"));
    assertThat(stack.count("SELECT count(*) FROM audit_log WHERE merchant_id = $1 AND actor_kind = 'operator' "
        + "AND action IN ('merchant.create', 'merchant.status')", Tuple.of(Long.parseLong(other.merchantId()))))
        .isEqualTo(2);
  }
}
