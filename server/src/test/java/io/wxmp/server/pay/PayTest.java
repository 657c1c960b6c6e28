package io.wxmp.server.pay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Tuple;
import com.wechat.pay.java.service.refund.model.AmountReq;
import com.wechat.pay.java.service.refund.model.CreateRequest;
import io.wxmp.handlers.pay.WeChatPay;
import io.wxmp.server.DevStack;
import io.wxmp.server.PayClients;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paid items and WeChat Pay against real PostgreSQL, Redis, the wechatpay-java SDK and the sandbox: the full
 * purchase, and every way other projects lose money (replays, races, forgeries, mismatches, crashes, missed
 * notifies, refunds).
 */
class PayTest {
  static TestStack stack;
  static PayWire wire;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    wire = new PayWire(stack.dev.keys());
  }

  // ---- fixtures ----

  record Buyer(String token, String openid, long userId) {}

  static Buyer newBuyer() {
    JsonObject wx = stack.newWeChatUser();
    Reply login = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    assertThat(login.status()).isEqualTo(200);
    return new Buyer(login.json().getString("token"), wx.getString("openid"),
        Long.parseLong(login.json().getJsonObject("user").getString("id")));
  }

  static String item(TestStack.Merchant m, String kind, Long priceFen, Integer days) {
    JsonObject body = new JsonObject().put("kind", kind).put("title", "A " + kind).put("summary", "s")
        .put("body", "the secret body").put("preview", "a taste").put("tags", new JsonArray().add("t"))
        .put("price", priceFen == null ? null : new JsonObject().put("amount", priceFen).put("currency", "CNY"))
        .put("status", "published");
    if (days != null) {
      body.put("membershipDays", days);
    }
    Reply r = stack.api.post("/api/v1/admin/items", m.editor(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static Reply order(Buyer b, String itemId, String key) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (key != null) {
      headers.add("Idempotency-Key", key);
    }
    return stack.api.send(HttpMethod.POST, "/api/v1/orders", b.token(),
        new JsonObject().put("itemId", itemId).toBuffer(), headers);
  }

  static String orderId(Buyer b, String itemId) {
    Reply r = order(b, itemId, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static String outTradeNo(String orderId) {
    return stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
  }

  static String status(String orderId) {
    return stack.sql("SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
  }

  static long grants(String orderId) {
    return stack.count("SELECT count(*) FROM entitlements WHERE order_id = $1 AND revoked_at IS NULL",
        Tuple.of(Long.parseLong(orderId)));
  }

  static long outbox(String topic, String orderId) {
    return stack.count("SELECT count(*) FROM outbox WHERE topic = $1 AND payload->>'orderId' = $2",
        Tuple.of(topic, orderId));
  }

  static Reply confirm(String outTradeNo, JsonObject extra) {
    return stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo)
        .mergeIn(extra == null ? new JsonObject() : extra));
  }

  static void awaitStatus(String orderId, String expected) {
    TestStack.eventually("order " + orderId + " " + expected, 15_000, () -> expected.equals(status(orderId)));
  }

  static boolean locked(Buyer b, String itemId) {
    Reply r = stack.api.get("/api/v1/items/" + itemId, b.token());
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getBoolean("locked");
  }

  static Reply postNotify(String path, PayWire.Notify n) {
    return stack.api.postRaw(path, null, n.buffer(), n.headers());
  }

  static JsonObject runJob() {
    try {
      return stack.server().reconciliation().runOnce().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static void backdate(String orderId) {
    stack.sql("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = $1",
        Tuple.of(Long.parseLong(orderId)));
  }

  // ---- the full purchase ----

  @Test
  void fullPurchaseUnlocksTheItem() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 100L, null);
    Buyer b = newBuyer();
    assertThat(locked(b, item)).isTrue();
    assertThat(stack.api.get("/api/v1/items/" + item, b.token()).json().getString("body")).isNull();

    Reply created = order(b, item, null);
    assertThat(created.status()).isEqualTo(201);
    JsonObject o = created.json();
    assertThat(o.getString("status")).isEqualTo("pending");
    assertThat(o.getString("itemId")).isEqualTo(item);
    assertThat(o.getJsonObject("amount")).isEqualTo(new JsonObject().put("amount", 100).put("currency", "CNY"));
    JsonObject p = o.getJsonObject("payParams");
    assertThat(p.getString("package")).startsWith("prepay_id=");
    assertThat(p.getString("signType")).isEqualTo("RSA");
    String message = DevStack.APP_ID + "\n" + p.getString("timeStamp") + "\n" + p.getString("nonceStr") + "\n"
        + p.getString("package") + "\n";
    assertThat(PayWire.verifies(stack.dev.keys().merchant().getPublic(), message, p.getString("paySign"))).isTrue();

    String id = o.getString("id");
    assertThat(confirm(outTradeNo(id), null).status()).isEqualTo(200);
    awaitStatus(id, "paid");
    // Settled by the notify (not by a query): its row is there with the outcome.
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1 AND outcome = 'applied'",
        Tuple.of(outTradeNo(id)))).isEqualTo(1);
    Reply got = stack.api.get("/api/v1/orders/" + id, b.token());
    assertThat(got.json().getString("status")).isEqualTo("paid");
    assertThat(got.json().getString("paidAt")).isNotNull();
    assertThat(locked(b, item)).isFalse();
    assertThat(stack.api.get("/api/v1/items/" + item, b.token()).json().getString("body")).isEqualTo("the secret body");
    assertThat(grants(id)).isEqualTo(1);
    assertThat(outbox("order.paid", id)).isEqualTo(1);
    JsonArray mine = stack.api.get("/api/v1/orders", b.token()).json().getJsonArray("items");
    assertThat(mine).hasSize(1);
    assertThat(mine.getJsonObject(0).getString("id")).isEqualTo(id);
    // Owning it now, buying again is refused.
    assertThat(order(b, item, null).errorCode()).isEqualTo("already_owned");
    assertThat(stack.api.get("/openapi.yaml", null).raw().toString())
        .contains("/orders/{id}", "/pay/notify", "/pay/refund-notify", "/admin/items/{id}", "/admin/orders/{id}/refund");
    // Free items have nothing to pay.
    assertThat(order(b, item(m, "article", null, null), null).status()).isEqualTo(400);
  }

  @Test
  void sameNotifyTwentyTimesConcurrentlyGrantsOnce() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "course", 990L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    String no = outTradeNo(id);
    // Paid at the sandbox, but we deliver the notifies ourselves, all at once, before any was applied.
    assertThat(confirm(no, new JsonObject().put("notify", false)).status()).isEqualTo(200);
    PayWire.Notify n = wire.paymentNotify(UUID.randomUUID().toString(),
        PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 990, 990));
    List<Future<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      replies.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/pay/notify", null, n.buffer(), n.headers()));
    }
    // Racing them: a query-driven settle and a second notify id for the same payment.
    replies.add(stack.api.sendAsync(HttpMethod.GET, "/api/v1/orders/" + id, b.token(), null, null));
    PayWire.Notify other = wire.paymentNotify(UUID.randomUUID().toString(),
        PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 990, 990));
    replies.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/pay/notify", null, other.buffer(), other.headers()));
    for (int i = 0; i < replies.size(); i++) {
      Reply r = await(replies.get(i));
      assertThat(r.status()).as(r.toString()).isEqualTo(i == 20 ? 200 : 204);
    }
    assertThat(status(id)).isEqualTo("paid");
    assertThat(grants(id)).isEqualTo(1);
    assertThat(outbox("order.paid", id)).isEqualTo(1);
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1", Tuple.of(no)))
        .isEqualTo(2);
    // And replaying the sandbox's real notify later changes nothing either.
    assertThat(postNotify("/api/v1/pay/notify", n).status()).isEqualTo(204);
    assertThat(grants(id)).isEqualTo(1);
  }

  @Test
  void notifyBeforePrepayReturnsSettlesTheOrder() throws Exception {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 300L, null);
    Buyer b = newBuyer();
    // WeChat Pay (the sandbox) processes the prepay at once but answers 1 s late.
    assertThat(stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 1000)).status())
        .isEqualTo(204);
    try {
      Future<Reply> pending = stack.api.sendAsync(HttpMethod.POST, "/api/v1/orders", b.token(),
          new JsonObject().put("itemId", item).toBuffer(), null);
      String[] no = new String[1];
      TestStack.eventually("order row committed before prepay", 5_000, () -> {
        var rows = stack.sql("SELECT out_trade_no FROM orders WHERE user_id = $1", Tuple.of(b.userId()));
        no[0] = rows.size() == 0 ? null : rows.iterator().next().getString(0);
        return no[0] != null;
      });
      TestStack.eventually("sandbox has the prepay", 5_000, () -> confirm(no[0], null).status() == 200);
      TestStack.eventually("notify settled it", 5_000, () -> "paid".equals(
          stack.sql("SELECT status FROM orders WHERE out_trade_no = $1", Tuple.of(no[0])).iterator().next()
              .getString(0)));
      assertThat(pending.isComplete()).as("prepay has not answered yet").isFalse();
      Reply created = pending.await(10, TimeUnit.SECONDS);
      assertThat(created.status()).isEqualTo(201);
      assertThat(created.json().getString("status")).isEqualTo("paid");
      assertThat(created.json().getJsonObject("payParams").getString("paySign")).isNotBlank();
      assertThat(grants(created.json().getString("id"))).isEqualTo(1);
    } finally {
      stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 0));
    }
  }

  @Test
  void forgedOrStaleNotifiesGet401AndChangeNothing() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 200L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    String no = outTradeNo(id);
    assertThat(confirm(no, new JsonObject().put("notify", false)).status()).isEqualTo(200);
    String notifyId = UUID.randomUUID().toString();
    JsonObject tx = PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 200, 200);
    PayWire.Notify good = wire.paymentNotify(notifyId, tx);

    List<PayWire.Notify> bad = List.of(
        good.withBody(good.body().replace("\"summary\":\"test\"", "\"summary\":\"tampered\"")),
        good.withHeader("Wechatpay-Signature", wire.paymentNotify(notifyId, tx).headers().get("Wechatpay-Signature")),
        good.withHeader("Wechatpay-Serial", "PUB_KEY_ID_0000000000000000000000000000"),
        good.withHeader("Wechatpay-Nonce", "another-nonce"),
        wire.notify(notifyId, "TRANSACTION.SUCCESS", "transaction", tx, System.currentTimeMillis() / 1000 - 600),
        wire.notify(notifyId, "TRANSACTION.SUCCESS", "transaction", tx, System.currentTimeMillis() / 1000 + 600),
        new PayWire.Notify(good.body(), MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")));
    for (PayWire.Notify n : bad) {
      Reply r = postNotify("/api/v1/pay/notify", n);
      assertThat(r.status()).as(r.toString()).isEqualTo(401);
      assertThat(r.json().getString("code")).isEqualTo("FAIL");
    }
    assertThat(status(id)).isEqualTo("pending");
    assertThat(grants(id)).isZero();
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE id = $1", Tuple.of(notifyId))).isZero();
    assertThat(postNotify("/api/v1/pay/refund-notify", bad.get(0)).status()).isEqualTo(401);

    assertThat(postNotify("/api/v1/pay/notify", good).status()).isEqualTo(204);
    assertThat(status(id)).isEqualTo("paid");
  }

  @Test
  void amountMismatchMarksForReviewAndGrantsNothing() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 500L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    // The sandbox's own signed notify says the payer paid 1 fen.
    assertThat(confirm(outTradeNo(id), new JsonObject().put("amount", 1)).status()).isEqualTo(200);
    TestStack.eventually("review", 15_000, () -> stack.count(
        "SELECT count(*) FROM orders WHERE id = $1 AND review_reason IS NOT NULL", Tuple.of(Long.parseLong(id))) == 1);
    assertThat(status(id)).isEqualTo("pending");
    assertThat(grants(id)).isZero();
    assertThat(locked(b, item)).isTrue();
    assertThat(outbox("order.review", id)).isEqualTo(1);
    // Neither a query nor the job grants it afterwards.
    assertThat(stack.api.get("/api/v1/orders/" + id, b.token()).json().getString("status")).isEqualTo("pending");
    backdate(id);
    runJob();
    assertThat(grants(id)).isZero();
    assertThat(stack.api.get("/api/v1/admin/orders/" + id, m.owner()).json().getString("review")).contains("amount");

    // A forged-by-WeChat total (signed, so believed) that differs is caught the same way.
    String id2 = orderId(b, item);
    PayWire.Notify n = wire.paymentNotify(UUID.randomUUID().toString(),
        PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, outTradeNo(id2), 499, 499));
    assertThat(postNotify("/api/v1/pay/notify", n).status()).isEqualTo(204);
    assertThat(grants(id2)).isZero();
    // And one for another merchant id (mchid) too.
    String id3 = orderId(b, item);
    PayWire.Notify n3 = wire.paymentNotify(UUID.randomUUID().toString(),
        PayWire.transaction(DevStack.APP_ID, "1999999999", outTradeNo(id3), 500, 500));
    assertThat(postNotify("/api/v1/pay/notify", n3).status()).isEqualTo(204);
    assertThat(grants(id3)).isZero();
    assertThat(stack.sql("SELECT review_reason FROM orders WHERE id = $1", Tuple.of(Long.parseLong(id3)))
        .iterator().next().getString(0)).contains("mchid");
  }

  @Test
  void notifyForUnknownOrderIsAcknowledgedAndRecorded() {
    String no = "Wunknown" + System.nanoTime();
    String notifyId = UUID.randomUUID().toString();
    long ordersBefore = stack.count("SELECT count(*) FROM orders", Tuple.tuple());
    PayWire.Notify n = wire.paymentNotify(notifyId, PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 100, 100));
    assertThat(postNotify("/api/v1/pay/notify", n).status()).isEqualTo(204);
    assertThat(stack.sql("SELECT outcome FROM pay_notifications WHERE id = $1", Tuple.of(notifyId)).iterator().next()
        .getString(0)).isEqualTo("unknown_order");
    assertThat(stack.count("SELECT count(*) FROM orders", Tuple.tuple())).isEqualTo(ordersBefore);
  }

  @Test
  void missedNotifyIsSettledByTheReconciliationJob() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "course", 1200L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    assertThat(confirm(outTradeNo(id), new JsonObject().put("notify", false)).status()).isEqualTo(200);
    assertThat(status(id)).isEqualTo("pending");
    assertThat(runJob().getBoolean("ran")).isTrue();
    assertThat(status(id)).as("too young for the job").isEqualTo("pending");
    backdate(id);
    JsonObject run = runJob();
    assertThat(run.getInteger("settled")).isGreaterThanOrEqualTo(1);
    assertThat(status(id)).isEqualTo("paid");
    assertThat(grants(id)).isEqualTo(1);
    runJob();
    assertThat(outbox("order.paid", id)).isEqualTo(1);
    assertThat(locked(b, item)).isFalse();
  }

  @Test
  void expiredOrderIsClosedHereAndAtWeChatPay() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 100L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    String no = outTradeNo(id);
    stack.sql("UPDATE orders SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 minute' "
        + "WHERE id = $1", Tuple.of(Long.parseLong(id)));
    assertThat(runJob().getInteger("closed")).isGreaterThanOrEqualTo(1);
    assertThat(status(id)).isEqualTo("closed");
    assertThat(stack.api.get("/api/v1/orders/" + id, b.token()).json().getString("status")).isEqualTo("closed");
    // Closed at WeChat Pay too: the user can no longer pay it there.
    assertThat(confirm(no, null).status()).isEqualTo(409);
    assertThat(outbox("order.closed", id)).isEqualTo(1);

    // Had WeChat Pay taken the money anyway, its success notify wins: paid and granted, once.
    PayWire.Notify late = wire.paymentNotify(UUID.randomUUID().toString(),
        PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 100, 100));
    assertThat(postNotify("/api/v1/pay/notify", late).status()).isEqualTo(204);
    assertThat(status(id)).isEqualTo("paid");
    assertThat(grants(id)).isEqualTo(1);
  }

  @Test
  void refundRevokesAndPartialRefundKeepsTheGrant() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 800L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    confirm(outTradeNo(id), null);
    awaitStatus(id, "paid");

    String path = "/api/v1/admin/orders/" + id + "/refund";
    JsonObject body = new JsonObject().put("reason", "customer asked");
    assertThat(stack.api.post(path, m.analyst(), body).status()).isEqualTo(403);
    assertThat(stack.api.post(path, m.editor(), body).status()).isEqualTo(403);
    assertThat(stack.api.post(path, m.owner(), new JsonObject()).status()).isEqualTo(400);
    assertThat(stack.api.post(path, m.owner(), body.copy().put("amount", 801)).status()).isEqualTo(409);
    assertThat(status(id)).isEqualTo("paid");

    Reply refund = stack.api.post(path, m.owner(), body);
    assertThat(refund.status()).as(refund.toString()).isEqualTo(202);
    assertThat(refund.json().getString("status")).isIn("refunding", "refunded");
    // A second refund while one is under way is refused.
    if ("refunding".equals(status(id))) {
      assertThat(stack.api.post(path, m.owner(), body).status()).isEqualTo(409);
    }
    awaitStatus(id, "refunded");
    TestStack.eventually("refund notify recorded", 10_000, () -> stack.count(
        "SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1 AND event_type LIKE 'REFUND.%'",
        Tuple.of(outTradeNo(id))) == 1);
    assertThat(grants(id)).isZero();
    assertThat(locked(b, item)).isTrue();
    assertThat(stack.count("SELECT count(*) FROM refunds r JOIN orders o ON o.id = r.order_id "
        + "WHERE o.id = $1 AND r.status = 'succeeded'", Tuple.of(Long.parseLong(id)))).isEqualTo(1);
    assertThat(stack.api.get("/api/v1/orders/" + id, b.token()).json().getString("status")).isEqualTo("refunded");

    // Partial: 1 fen back, the item stays unlocked.
    String item2 = item(m, "article", 100L, null);
    String id2 = orderId(b, item2);
    confirm(outTradeNo(id2), null);
    awaitStatus(id2, "paid");
    Reply partial = stack.api.post("/api/v1/admin/orders/" + id2 + "/refund", m.owner(),
        new JsonObject().put("reason", "goodwill").put("amount", 1));
    assertThat(partial.status()).isEqualTo(202);
    awaitStatus(id2, "refunded");
    assertThat(grants(id2)).isEqualTo(1);
    assertThat(locked(b, item2)).isFalse();
    JsonObject admin = stack.api.get("/api/v1/admin/orders/" + id2, m.owner()).json();
    assertThat(admin.getJsonObject("refunded").getLong("amount")).isEqualTo(1);
  }

  /**
   * A refund whose notify never comes (made at WeChat Pay with no notify_url, as if every delivery was lost) is
   * settled by the job's query; a refund WeChat Pay never heard of is undone.
   */
  @Test
  void refundWithoutNotifyIsSettledByTheJob() throws Exception {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 600L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    confirm(outTradeNo(id), null);
    awaitStatus(id, "paid");
    String outRefundNo = "Rjob" + System.nanoTime();
    stack.sql("UPDATE orders SET status = 'refunding' WHERE id = $1", Tuple.of(Long.parseLong(id)));
    stack.sql("INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, created_at) "
        + "VALUES ($1, $2, 600, 'job test', now() - interval '1 hour')", Tuple.of(Long.parseLong(id), outRefundNo));
    WeChatPay pay = PayClients.create(Settings.of(stack.settings));
    CreateRequest request = new CreateRequest();
    request.setOutTradeNo(outTradeNo(id));
    request.setOutRefundNo(outRefundNo);
    request.setReason("job test");
    AmountReq amount = new AmountReq();
    amount.setRefund(600L);
    amount.setTotal(600L);
    amount.setCurrency("CNY");
    request.setAmount(amount);
    pay.refunds().create(request);
    TestStack.eventually("the job settles the refund", 10_000, () -> {
      runJob();
      return "refunded".equals(status(id));
    });
    assertThat(grants(id)).isZero();
    assertThat(locked(b, item)).isTrue();
    assertThat(outbox("order.refunded", id)).isEqualTo(1);

    String id2 = orderId(b, item(m, "article", 100L, null));
    confirm(outTradeNo(id2), null);
    awaitStatus(id2, "paid");
    stack.sql("UPDATE orders SET status = 'refunding' WHERE id = $1", Tuple.of(Long.parseLong(id2)));
    stack.sql("INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, created_at) "
        + "VALUES ($1, $2, 100, 'never sent', now() - interval '1 hour')", Tuple.of(Long.parseLong(id2),
        "Rlost" + System.nanoTime()));
    runJob();
    assertThat(status(id2)).isEqualTo("paid");
    assertThat(grants(id2)).isEqualTo(1);
  }

  @Test
  void twoUsersBuyingConcurrentlyEachGetTheirOwn() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "course", 700L, null);
    Buyer a = newBuyer();
    Buyer b = newBuyer();
    Future<Reply> fa = stack.api.sendAsync(HttpMethod.POST, "/api/v1/orders", a.token(),
        new JsonObject().put("itemId", item).toBuffer(), null);
    Future<Reply> fb = stack.api.sendAsync(HttpMethod.POST, "/api/v1/orders", b.token(),
        new JsonObject().put("itemId", item).toBuffer(), null);
    String ida = await(fa).json().getString("id");
    String idb = await(fb).json().getString("id");
    assertThat(ida).isNotEqualTo(idb);
    Future<Reply> ca = stack.sandbox.sendAsync(HttpMethod.POST, "/sandbox/pay/confirm", null,
        new JsonObject().put("outTradeNo", outTradeNo(ida)).toBuffer(), null);
    Future<Reply> cb = stack.sandbox.sendAsync(HttpMethod.POST, "/sandbox/pay/confirm", null,
        new JsonObject().put("outTradeNo", outTradeNo(idb)).toBuffer(), null);
    assertThat(await(ca).status()).isEqualTo(200);
    assertThat(await(cb).status()).isEqualTo(200);
    awaitStatus(ida, "paid");
    awaitStatus(idb, "paid");
    assertThat(locked(a, item)).isFalse();
    assertThat(locked(b, item)).isFalse();
    assertThat(stack.count("SELECT count(*) FROM entitlements WHERE item_id = $1", Tuple.of(Long.parseLong(item))))
        .isEqualTo(2);
  }

  @Test
  void sameIdempotencyKeyReturnsTheSameOrder() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 100L, null);
    Buyer b = newBuyer();
    Reply first = order(b, item, "key-1");
    Reply second = order(b, item, "key-1");
    assertThat(first.status()).isEqualTo(201);
    assertThat(second.status()).isEqualTo(201);
    assertThat(second.json().getString("id")).isEqualTo(first.json().getString("id"));
    assertThat(second.json().getJsonObject("payParams")).isEqualTo(first.json().getJsonObject("payParams"));
    // Concurrent requests with one key make one order too.
    String otherItem = item(m, "article", 100L, null);
    List<Future<Reply>> concurrent = new ArrayList<>();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Idempotency-Key", "key-2");
    for (int i = 0; i < 5; i++) {
      concurrent.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/orders", b.token(),
          new JsonObject().put("itemId", otherItem).toBuffer(), headers));
    }
    List<String> ids = concurrent.stream().map(f -> await(f).json().getString("id")).distinct().toList();
    assertThat(ids).hasSize(1);
    assertThat(stack.count("SELECT count(*) FROM orders WHERE user_id = $1", Tuple.of(b.userId()))).isEqualTo(2);
    // A key reused for another item is refused.
    assertThat(order(b, item(m, "article", 100L, null), "key-1").errorCode()).isEqualTo("idempotency_key_reused");
  }

  @Test
  void aSecondOrderForTheSameItemIsThePendingOne() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 100L, null);
    Buyer b = newBuyer();
    String first = orderId(b, item);
    // A double tap, a retry without a key, or another key: the payable order already there, not a second one.
    assertThat(orderId(b, item)).isEqualTo(first);
    assertThat(order(b, item, "another-key").json().getString("id")).isEqualTo(first);
    List<Future<Reply>> concurrent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      concurrent.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/orders", b.token(),
          new JsonObject().put("itemId", item).toBuffer(), null));
    }
    assertThat(concurrent.stream().map(f -> await(f).json().getString("id")).distinct().toList())
        .containsExactly(first);
    assertThat(stack.count("SELECT count(*) FROM orders WHERE user_id = $1", Tuple.of(b.userId()))).isEqualTo(1);

    // Once it can no longer be paid, it is closed and a new order takes its place.
    stack.sql("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
        Tuple.of(Long.parseLong(first)));
    String second = orderId(b, item);
    assertThat(second).isNotEqualTo(first);
    assertThat(stack.sql("SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(first)))
        .iterator().next().getString(0)).isEqualTo("closed");
    confirm(outTradeNo(second), null);
    awaitStatus(second, "paid");
    assertThat(order(b, item, null).errorCode()).isEqualTo("already_owned");
  }

  @Test
  void merchantsAndUsersSeeOnlyTheirOwn() {
    TestStack.Merchant a = stack.newMerchant();
    TestStack.Merchant other = stack.newMerchant();
    String item = item(a, "article", 100L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    confirm(outTradeNo(id), null);
    awaitStatus(id, "paid");
    assertThat(stack.api.get("/api/v1/admin/items/" + item, other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.patch("/api/v1/admin/items/" + item, other.owner(), new JsonObject().put("title", "x"))
        .status()).isEqualTo(404);
    assertThat(stack.api.delete("/api/v1/admin/items/" + item, other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/orders/" + id, other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.post("/api/v1/admin/orders/" + id + "/refund", other.owner(),
        new JsonObject().put("reason", "x")).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/orders", other.owner()).json().getJsonArray("items")).isEmpty();
    assertThat(stack.api.get("/api/v1/admin/orders?status=paid", a.analyst()).json().getJsonArray("items"))
        .hasSize(1);
    assertThat(stack.api.get("/api/v1/orders/" + id, newBuyer().token()).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/orders/" + id, null).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/admin/items", a.owner()).json().getJsonArray("items")).hasSize(1);
  }

  @Test
  void adminItemsValidateAndEnforceRoles() {
    TestStack.Merchant m = stack.newMerchant();
    Reply bad = stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "article")
        .put("title", "").put("price", new JsonObject().put("amount", 0))
        .put("tags", new JsonArray().add("a".repeat(30))).put("coverUrl", "ftp://x"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getJsonObject("error").getJsonObject("fields").fieldNames())
        .contains("title", "price", "tags", "coverUrl");
    Reply membership = stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "membership")
        .put("title", "M"));
    assertThat(membership.json().getJsonObject("error").getJsonObject("fields").fieldNames())
        .contains("membershipDays", "price");
    assertThat(stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "nope")
        .put("title", "x")).json().getJsonObject("error").getJsonObject("fields").fieldNames()).contains("kind");
    assertThat(stack.api.post("/api/v1/admin/items", m.analyst(), new JsonObject().put("kind", "article")
        .put("title", "x")).status()).isEqualTo(403);

    Reply created = stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "article")
        .put("title", "Draft"));
    assertThat(created.status()).isEqualTo(201);
    JsonObject item = created.json();
    assertThat(item.getString("status")).isEqualTo("draft");
    assertThat(item.getValue("price")).isNull();
    String id = item.getString("id");
    Buyer b = newBuyer();
    assertThat(stack.api.get("/api/v1/items/" + id, b.token()).status()).as("drafts are hidden").isEqualTo(404);
    Reply patched = stack.api.patch("/api/v1/admin/items/" + id, m.editor(), new JsonObject().put("status", "published")
        .put("price", new JsonObject().put("amount", 250).put("currency", "CNY")).put("tags", new JsonArray().add("x")));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    assertThat(patched.json().getJsonObject("price").getLong("amount")).isEqualTo(250);
    assertThat(patched.json().getString("title")).isEqualTo("Draft");
    assertThat(stack.api.patch("/api/v1/admin/items/" + id, m.analyst(), new JsonObject().put("title", "x")).status())
        .isEqualTo(403);
    assertThat(stack.api.patch("/api/v1/admin/items/" + id, m.owner(), new JsonObject().put("kind", "course"))
        .status()).isEqualTo(400);
    assertThat(locked(b, id)).isTrue();
    assertThat(stack.api.get("/api/v1/admin/items/" + id, m.analyst()).status()).isEqualTo(200);
    assertThat(stack.api.delete("/api/v1/admin/items/" + id, m.analyst()).status()).isEqualTo(403);
    assertThat(stack.api.delete("/api/v1/admin/items/" + id, m.owner()).status()).isEqualTo(204);
    assertThat(stack.api.get("/api/v1/admin/items/" + id, m.owner()).json().getString("status")).isEqualTo("archived");
    assertThat(stack.api.get("/api/v1/items/" + id, b.token()).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/items?status=archived", m.owner()).json().getJsonArray("items"))
        .hasSize(1);
  }

  @Test
  void membershipUnlocksTheMerchantsPaidItemsAndExtends() {
    TestStack.Merchant m = stack.newMerchant();
    String course = item(m, "course", 5000L, null);
    String membership = item(m, "membership", 1990L, 30);
    Buyer b = newBuyer();
    assertThat(locked(b, course)).isTrue();
    assertThat(stack.api.get("/api/v1/me", b.token()).json().getValue("memberUntil")).isNull(); // now cached
    String first = orderId(b, membership);
    confirm(outTradeNo(first), null);
    awaitStatus(first, "paid");
    assertThat(locked(b, course)).isFalse();
    OffsetDateTime until1 = OffsetDateTime.parse(stack.api.get("/api/v1/me", b.token()).json().getString("memberUntil"));
    assertThat(until1).isAfter(OffsetDateTime.now().plusDays(29));
    assertThat(order(b, course, null).errorCode()).isEqualTo("already_owned");
    String second = orderId(b, membership);
    confirm(outTradeNo(second), null);
    awaitStatus(second, "paid");
    OffsetDateTime until2 = OffsetDateTime.parse(stack.api.get("/api/v1/me", b.token()).json().getString("memberUntil"));
    assertThat(until2).isAfter(until1.plusDays(29));
    // A merchant's full refund of the second takes its 30 days back off what /me shows.
    Reply refund = stack.api.post("/api/v1/admin/orders/" + second + "/refund", m.owner(),
        new JsonObject().put("reason", "changed their mind"));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(202);
    awaitStatus(second, "refunded");
    TestStack.eventually("/me shows the shortened membership", 10_000, () -> OffsetDateTime.parse(
        stack.api.get("/api/v1/me", b.token()).json().getString("memberUntil")).isBefore(until2.minusDays(29)));
    // Another merchant's paid items stay locked.
    assertThat(locked(b, item(stack.newMerchant(), "course", 100L, null))).isTrue();
  }

  @Test
  void onlyOneJobInstanceActsAtATime() {
    Redis client = stack.redisClient();
    RedisAPI redis = RedisAPI.api(client);
    try {
      await(redis.set(List.of("wxmp:pay:reconcile:lock", "another-instance", "PX", "30000")));
      assertThat(runJob().getBoolean("ran")).isFalse();
      await(redis.del(List.of("wxmp:pay:reconcile:lock")));
      assertThat(runJob().getBoolean("ran")).isTrue();
    } finally {
      client.close();
    }
  }

  @Test
  void badPaySettingsStopStartUpNamingTheSetting() throws Exception {
    Map<String, String> base = new HashMap<>(stack.settings);
    base.put("WXMP_HTTP_PORT", Integer.toString(TestStack.freePort()));
    Map<String, String> shortKey = new HashMap<>(base);
    shortKey.put("WXMP_PAY_APIV3_KEY", "too-short");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(shortKey))).isInstanceOf(Settings.ConfigException.class)
        .hasMessageStartingWith("WXMP_PAY_APIV3_KEY:");
    Map<String, String> noKey = new HashMap<>(base);
    noKey.remove("WXMP_PAY_APIV3_KEY");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(noKey))).hasMessageStartingWith("WXMP_PAY_APIV3_KEY:");
    Map<String, String> noFile = new HashMap<>(base);
    noFile.put("WXMP_PAY_MERCHANT_KEY_FILE", "/nonexistent/key.pem");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(noFile))).hasMessageStartingWith("WXMP_PAY_MERCHANT_KEY_FILE:");
    Map<String, String> notPem = new HashMap<>(base);
    java.nio.file.Path garbage = java.nio.file.Files.createTempFile("not-a-key", ".pem");
    java.nio.file.Files.writeString(garbage, "not a key");
    notPem.put("WXMP_PAY_PUBLIC_KEY_FILE", garbage.toString());
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(notPem)))
        .hasMessage("WXMP_PAY_PUBLIC_KEY_FILE: not a PEM RSA public key");
    Map<String, String> notPrivate = new HashMap<>(base);
    notPrivate.put("WXMP_PAY_MERCHANT_KEY_FILE", stack.settings.get("WXMP_PAY_PUBLIC_KEY_FILE"));
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(notPrivate)))
        .hasMessage("WXMP_PAY_MERCHANT_KEY_FILE: not a PKCS#8 PEM RSA private key");
    Map<String, String> badMch = new HashMap<>(base);
    badMch.remove("WXMP_PAY_MCH_ID");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(badMch))).hasMessageStartingWith("WXMP_PAY_MCH_ID:");
  }

  /**
   * The notify is received and processed but the transaction cannot commit (here a trigger makes its last insert
   * fail, as a crash would before COMMIT): everything it did is rolled back, WeChat Pay gets a 500 and retries, and
   * the retry after the fault is gone applies it once.
   */
  @Test
  void notifyThatFailsBeforeCommitIsRetriedAndAppliedOnce() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 100L, null);
    Buyer b = newBuyer();
    String id = orderId(b, item);
    String no = outTradeNo(id);
    String fn = "fail_outbox_" + id;
    stack.sql("CREATE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.payload->>'orderId' = '" + id + "' THEN RAISE EXCEPTION 'injected crash before commit'; END IF; "
        + "RETURN NEW; END $$", Tuple.tuple());
    stack.sql("CREATE TRIGGER " + fn + " BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION " + fn + "()",
        Tuple.tuple());
    try {
      assertThat(confirm(no, null).status()).isEqualTo(200);
      TestStack.eventually("the notify failed twice", 10_000, () -> stack.sandbox.get("/sandbox/pay/notifications",
          null).jsonArray().stream().map(JsonObject.class::cast).filter(n -> no.equals(n.getString("outTradeNo")))
          .anyMatch(n -> n.getJsonArray("attempts").size() >= 2
              && n.getJsonArray("attempts").getJsonObject(0).getInteger("status") == 500));
      assertThat(status(id)).isEqualTo("pending");
      assertThat(grants(id)).isZero();
      assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1", Tuple.of(no)))
          .isZero();
    } finally {
      stack.sql("DROP TRIGGER " + fn + " ON outbox", Tuple.tuple());
      stack.sql("DROP FUNCTION " + fn + "()", Tuple.tuple());
    }
    awaitStatus(id, "paid");
    assertThat(grants(id)).isEqualTo(1);
    assertThat(outbox("order.paid", id)).isEqualTo(1);
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1", Tuple.of(no)))
        .isEqualTo(1);
  }

  /** The server is down when WeChat Pay delivers: the sandbox retries, and the order ends paid exactly once. */
  @Test
  void serverDownWhenTheNotifyComesEndsPaidOnce() {
    TestStack own = TestStack.create();
    try {
      TestStack.Merchant m = own.newMerchant();
      JsonObject wx = own.newWeChatUser();
      String token = own.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")))
          .json().getString("token");
      String item = own.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "article")
          .put("title", "x").put("status", "published").put("price", new JsonObject().put("amount", 100)))
          .json().getString("id");
      String id = own.api.post("/api/v1/orders", token, new JsonObject().put("itemId", item)).json().getString("id");
      long orderId = Long.parseLong(id);
      String no = own.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(orderId)).iterator().next()
          .getString(0);
      own.stopServer();
      assertThat(own.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", no)).status())
          .isEqualTo(200);
      TestStack.eventually("the sandbox failed to deliver at least twice", 10_000, () -> {
        JsonArray all = own.sandbox.get("/sandbox/pay/notifications", null).jsonArray();
        return all.stream().map(JsonObject.class::cast).filter(n -> no.equals(n.getString("outTradeNo")))
            .anyMatch(n -> n.getJsonArray("attempts").size() >= 2);
      });
      assertThat(own.sql("SELECT status FROM orders WHERE id = $1", Tuple.of(orderId)).iterator().next()
          .getString(0)).isEqualTo("pending");
      own.startServer();
      TestStack.eventually("a retry settles it", 40_000, () -> "paid".equals(
          own.sql("SELECT status FROM orders WHERE id = $1", Tuple.of(orderId)).iterator().next().getString(0)));
      assertThat(own.count("SELECT count(*) FROM entitlements WHERE order_id = $1", Tuple.of(orderId))).isEqualTo(1);
      assertThat(own.count("SELECT count(*) FROM pay_notifications WHERE out_trade_no = $1", Tuple.of(no)))
          .isEqualTo(1);
      assertThat(own.count("SELECT count(*) FROM outbox WHERE topic = 'order.paid' AND payload->>'orderId' = $1",
          Tuple.of(id))).isEqualTo(1);
    } finally {
      own.close();
    }
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
