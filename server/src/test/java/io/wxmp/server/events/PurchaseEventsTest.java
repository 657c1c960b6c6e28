package io.wxmp.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.events.EventWeights;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.events.PurchaseEvents;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Purchases as server-side events: a paid order becomes one {@code purchase} event, a full refund one {@code refund}
 * event, a partial refund none; each once, whatever the polls and redeliveries, at a position of their own beside the
 * notification relay's; the online state hears them like any other event.
 */
class PurchaseEventsTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  record Buyer(String token, long userId) {}

  static Buyer buyer() {
    JsonObject wx = stack.newWeChatUser();
    Reply login = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    assertThat(login.status()).isEqualTo(200);
    return new Buyer(login.json().getString("token"),
        Long.parseLong(login.json().getJsonObject("user").getString("id")));
  }

  static String item(TestStack.Merchant m, long priceFen) {
    JsonObject body = new JsonObject().put("kind", "article").put("title", "A paid article").put("summary", "s")
        .put("body", "the body").put("preview", "a taste").put("tags", new JsonArray().add("bought"))
        .put("price", new JsonObject().put("amount", priceFen).put("currency", "CNY")).put("status", "published");
    Reply r = stack.api.post("/api/v1/admin/items", m.editor(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  /** Orders the item and pays through the sandbox; answers the order id once it is paid. */
  static String paid(Buyer b, String itemId) {
    Reply created = stack.api.post("/api/v1/orders", b.token(), new JsonObject().put("itemId", itemId));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String id = created.json().getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(id)))
        .iterator().next().getString(0);
    assertThat(stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo))
        .status()).isEqualTo(200);
    awaitStatus(id, "paid");
    return id;
  }

  static void refund(TestStack.Merchant m, String orderId, Long amount) {
    JsonObject body = new JsonObject().put("reason", "customer asked");
    if (amount != null) {
      body.put("amount", amount);
    }
    Reply r = stack.api.post("/api/v1/admin/orders/" + orderId + "/refund", m.owner(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    awaitStatus(orderId, "refunded");
  }

  static void awaitStatus(String orderId, String status) {
    TestStack.eventually("order " + orderId + " " + status, 15_000, () -> status.equals(stack.sql(
        "SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId))).iterator().next().getString(0)));
  }

  static long events(long userId, String type) {
    return stack.count("SELECT count(*) FROM events WHERE user_id = $1 AND type = $2", Tuple.of(userId, type));
  }

  static PurchaseEvents purchases() {
    return stack.server().purchases();
  }

  static <T> T await(Future<T> f) {
    try {
      return f.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Polls until the consumer has moved past every outbox row there is now (the server's timer polls too). */
  static void drain() {
    TestStack.eventually("the purchase consumer caught up", 20_000, () -> {
      await(purchases().pollOnce());
      return stack.count("""
          SELECT count(*) FROM outbox o, outbox_positions p
          WHERE p.consumer = $1 AND (o.txid, o.id) > (p.last_txid, p.last_id)""",
          Tuple.of(PurchaseEvents.CONSUMER)) == 0;
    });
  }

  @Test
  void aPaidOrderIsOnePurchaseEventWithTheStrongestWeight() {
    TestStack.Merchant m = stack.newMerchant();
    String itemId = item(m, 300);
    Buyer b = buyer();
    String orderId = paid(b, itemId);
    drain();

    assertThat(events(b.userId(), "purchase")).isEqualTo(1);
    Row row = stack.sql("SELECT item_id, client_id, token_id FROM events WHERE user_id = $1 AND type = 'purchase'",
        Tuple.of(b.userId())).iterator().next();
    assertThat(row.getLong("item_id")).isEqualTo(Long.parseLong(itemId));
    assertThat(row.getString("client_id")).isEqualTo("~order:" + orderId + ":purchase");
    assertThat(row.getString("token_id")).isNull();
    // its dedup key sits beside the clients' ids, and the online state has the item at the purchase weight
    assertThat(stack.count("SELECT count(*) FROM event_ids WHERE user_id = $1 AND client_id = $2",
        Tuple.of(b.userId(), "~order:" + orderId + ":purchase"))).isEqualTo(1);
    OnlineState online = stack.server().events().online();
    TestStack.eventually("the purchase in the online history", 10_000,
        () -> await(online.history(Long.toString(b.userId()))).itemIds().contains(itemId));
    OnlineState.History h = await(online.history(Long.toString(b.userId())));
    float strength = h.strengths()[h.itemIds().indexOf(itemId)];
    float strongestClientType = 0;
    for (String t : java.util.List.of("click", "like", "share", "dwell", "complete")) {
      strongestClientType = Math.max(strongestClientType, EventWeights.defaults().weight(t));
    }
    assertThat(EventWeights.defaults().weight("purchase")).isGreaterThan(strongestClientType);
    assertThat(strength).isPositive();
    assertThat(await(online.recentTags(Long.toString(b.userId())))).contains("bought");

    // more polls store nothing more
    await(purchases().pollOnce());
    await(purchases().pollOnce());
    assertThat(events(b.userId(), "purchase")).isEqualTo(1);
  }

  @Test
  void aFullRefundIsARefundEventAndAPartialOneIsNone() {
    TestStack.Merchant m = stack.newMerchant();
    Buyer b = buyer();
    String whole = paid(b, item(m, 500));
    String part = paid(b, item(m, 500));
    refund(m, whole, null);
    refund(m, part, 100L);
    drain();

    assertThat(events(b.userId(), "purchase")).isEqualTo(2);
    assertThat(events(b.userId(), "refund")).isEqualTo(1);
    assertThat(stack.sql("SELECT client_id FROM events WHERE user_id = $1 AND type = 'refund'",
        Tuple.of(b.userId())).iterator().next().getString(0)).isEqualTo("~order:" + whole + ":refund");
    // training sums the weights: the refunded purchase nets out, the partly refunded one keeps its weight
    EventWeights w = EventWeights.defaults();
    assertThat(w.weight("purchase") + w.weight("refund")).isZero();
  }

  @Test
  void aRedeliveredRowStoresNothingTwiceAndTheRelayKeepsItsOwnPosition() {
    TestStack.Merchant m = stack.newMerchant();
    Buyer b = buyer();
    String orderId = paid(b, item(m, 200));
    drain();
    assertThat(events(b.userId(), "purchase")).isEqualTo(1);

    // as if the poll had stored the event and died before its position moved: the row comes again
    Row outbox = stack.sql("SELECT txid::text, id FROM outbox WHERE topic = 'order.paid' AND payload->>'orderId' = $1",
        Tuple.of(orderId)).iterator().next();
    stack.sql("UPDATE outbox_positions SET last_txid = $2::text::xid8, last_id = $3 WHERE consumer = $1",
        Tuple.of(PurchaseEvents.CONSUMER, outbox.getString(0), outbox.getLong(1) - 1));
    drain();
    assertThat(events(b.userId(), "purchase")).isEqualTo(1);

    // the relay reads the same rows from a position of its own
    assertThat(stack.count("SELECT count(*) FROM outbox_positions WHERE consumer IN ($1, 'notifications.relay')",
        Tuple.of(PurchaseEvents.CONSUMER))).isEqualTo(2);
  }
}
