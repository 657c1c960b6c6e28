package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.campaigns.Conversions;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conversions end to end: clicks through the real {@code POST /events} (tokens signed with the server's key, as the
 * feed signs them), orders paid and refunded through the WeChat Pay sandbox, and the server's own outbox consumer
 * attributing them: click then buy counts, a full refund undoes it, buying without a click (or after one older than 7
 * days, or on another item) counts nothing, the last click wins, and a duplicated outbox row counts once.
 */
class CampaignConversionsTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static byte[] key;

  record User(String token, String id) {}

  record Campaign(String id, String itemId) {}

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    key = io.wxmp.server.WxmpServer.feedTokenKey(io.wxmp.server.Settings.of(stack.settings));
  }

  @AfterAll
  static void stop() {
    CampaignFixtures.endCampaigns(stack, "merchant_id = $1", Tuple.of(merchant.id()));
  }

  // ---- fixtures ----

  static User user() {
    Reply r = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    return new User(r.json().getString("token"), r.json().getJsonObject("user").getString("id"));
  }

  static Campaign campaign(String itemId) {
    Reply r = stack.api.post("/api/v1/admin/campaigns", merchant.owner(),
        CampaignFixtures.campaignBody(itemId, "cpc", 10, 100_000, 100_000).put("status", "active"));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new Campaign(r.json().getString("id"), itemId);
  }

  static Campaign campaign() {
    return campaign(CampaignFixtures.publishedItem(stack, merchant, List.of("tea")));
  }

  static void event(User u, Campaign c, String type) {
    String token = new FeedToken(FeedToken.newTokenId(), u.id(), c.itemId(), 2, "sponsored", c.id(), null, null, null,
        System.currentTimeMillis()).sign(key);
    long before = ledger(c, u, type);
    Reply r = stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", new JsonArray()
        .add(new JsonObject().put("id", UUID.randomUUID().toString()).put("itemId", c.itemId()).put("type", type)
            .put("token", token))));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    TestStack.eventually("the " + type + " is in the ledger", 10_000, () -> ledger(c, u, type) == before + 1);
  }

  static long ledger(Campaign c, User u, String type) {
    return stack.count("SELECT count(*) FROM campaign_ledger WHERE campaign_id = $1 AND user_id = $2 "
        + "AND event_type = $3", Tuple.of(Long.parseLong(c.id()), Long.parseLong(u.id()), type));
  }

  static String buy(User u, String itemId) {
    Reply r = stack.api.post("/api/v1/orders", u.token(), new JsonObject().put("itemId", itemId));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    String orderId = r.json().getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
    stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo));
    awaitStatus(orderId, "paid");
    awaitConsumed(orderId, "order.paid");
    return orderId;
  }

  static void refund(String orderId, Long amount) {
    JsonObject body = new JsonObject().put("reason", "customer asked");
    if (amount != null) {
      body.put("amount", amount);
    }
    Reply r = stack.api.post("/api/v1/admin/orders/" + orderId + "/refund", merchant.owner(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    TestStack.eventually("refund of " + orderId + " settled", 15_000, () -> stack.count(
        "SELECT count(*) FROM refunds WHERE order_id = $1 AND status = 'succeeded'",
        Tuple.of(Long.parseLong(orderId))) >= 1 && stack.count("SELECT count(*) FROM outbox WHERE topic = "
        + "'order.refunded' AND payload->>'orderId' = $1", Tuple.of(orderId)) >= 1);
    awaitConsumed(orderId, "order.refunded");
  }

  static void awaitStatus(String orderId, String status) {
    TestStack.eventually("order " + orderId + " " + status, 15_000, () -> status.equals(stack.sql(
        "SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId))).iterator().next().getString(0)));
  }

  /** Until the conversions consumer's position is past every outbox row of that topic for the order. */
  static void awaitConsumed(String orderId, String topic) {
    TestStack.eventually("the conversions consumer read " + topic + " of " + orderId, 15_000, () -> {
      poll(stack.server().conversions());
      return stack.count("""
          SELECT count(*) FROM outbox o
          WHERE o.topic = $2 AND o.payload->>'orderId' = $1
            AND NOT EXISTS (SELECT 1 FROM outbox_positions p WHERE p.consumer = $3
                            AND (p.last_txid, p.last_id) >= (o.txid, o.id))""",
          Tuple.of(orderId, topic, Conversions.CONSUMER)) == 0;
    });
  }

  static void poll(Conversions c) {
    try {
      c.pollOnce().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static List<Row> conversions(String orderId) {
    List<Row> out = new java.util.ArrayList<>();
    stack.sql("SELECT campaign_id, user_id, item_id, amount_fen, undone_at FROM campaign_conversions "
        + "WHERE order_id = $1", Tuple.of(Long.parseLong(orderId))).forEach(out::add);
    return out;
  }

  static JsonObject stats(Campaign c) {
    Reply r = stack.api.get("/api/v1/admin/campaigns/" + c.id() + "/stats?bucket=hour", merchant.analyst());
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  static long seriesConversions(JsonObject stats) {
    return stats.getJsonArray("series").stream().mapToLong(b -> ((JsonObject) b).getLong("conversions")).sum();
  }

  // ---- tests ----

  @Test
  void clickThenBuyCountsOnceEvenDeliveredTwiceAndAFullRefundUndoesIt() throws Exception {
    Campaign c = campaign();
    User u = user();
    event(u, c, "click");
    String order = buy(u, c.itemId());

    List<Row> rows = conversions(order);
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).getLong("campaign_id")).isEqualTo(Long.parseLong(c.id()));
    assertThat(rows.get(0).getLong("user_id")).isEqualTo(Long.parseLong(u.id()));
    assertThat(rows.get(0).getLong("amount_fen")).isEqualTo(100);
    assertThat(rows.get(0).getValue("undone_at")).isNull();
    JsonObject stats = stats(c);
    assertThat(stats.getJsonObject("totals").getLong("conversions")).isEqualTo(1);
    assertThat(seriesConversions(stats)).isEqualTo(1);

    // the same order.paid delivered again, read by two consumers of the position at once: still one conversion
    stack.sql("INSERT INTO outbox (topic, payload) SELECT topic, payload FROM outbox WHERE topic = 'order.paid' "
        + "AND payload->>'orderId' = $1", Tuple.of(order));
    Conversions second = new Conversions(stack.server().vertx(), stack.server().pool(), 60_000);
    Future.join(stack.server().conversions().pollOnce(), second.pollOnce()).await(10, TimeUnit.SECONDS);
    awaitConsumed(order, "order.paid");
    assertThat(conversions(order)).hasSize(1);
    assertThat(stats(c).getJsonObject("totals").getLong("conversions")).isEqualTo(1);

    refund(order, null);
    rows = conversions(order);
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).getValue("undone_at")).isNotNull();
    stats = stats(c);
    assertThat(stats.getJsonObject("totals").getLong("conversions")).isZero();
    assertThat(seriesConversions(stats)).isZero();
    // clicks and spend are untouched by the refund: the ledger is the ledger
    assertThat(stats.getJsonObject("totals").getLong("clicks")).isEqualTo(1);
    assertThat(stats.getJsonObject("totals").getLong("spend")).isEqualTo(10);
  }

  @Test
  void buyingWithoutAClickWithinSevenDaysOfTheItemCountsNothing() {
    Campaign c = campaign();
    Campaign elsewhere = campaign();

    User noClick = user();
    String a = buy(noClick, c.itemId());

    User onlySaw = user();
    event(onlySaw, c, "impression");
    String b = buy(onlySaw, c.itemId());

    User longAgo = user();
    event(longAgo, c, "click");
    stack.sql("UPDATE campaign_ledger SET at = at - interval '8 days' WHERE campaign_id = $1 AND user_id = $2",
        Tuple.of(Long.parseLong(c.id()), Long.parseLong(longAgo.id())));
    String d = buy(longAgo, c.itemId());

    User otherItem = user();
    event(otherItem, elsewhere, "click");
    String e = buy(otherItem, c.itemId());

    for (String order : List.of(a, b, d, e)) {
      assertThat(conversions(order)).as("order " + order).isEmpty();
    }
    assertThat(stats(c).getJsonObject("totals").getLong("conversions")).isZero();
    assertThat(stats(elsewhere).getJsonObject("totals").getLong("conversions")).isZero();

    // the control: a click 6 days before paying does count
    User sixDays = user();
    event(sixDays, c, "click");
    stack.sql("UPDATE campaign_ledger SET at = at - interval '6 days' WHERE campaign_id = $1 AND user_id = $2",
        Tuple.of(Long.parseLong(c.id()), Long.parseLong(sixDays.id())));
    assertThat(conversions(buy(sixDays, c.itemId()))).hasSize(1);
  }

  @Test
  void theLastClickWinsAndAPartialRefundKeepsTheConversion() {
    String item = CampaignFixtures.publishedItem(stack, merchant, List.of("tea"));
    Campaign first = campaign(item);
    Campaign last = campaign(item);
    User u = user();
    event(u, first, "click");
    stack.sql("UPDATE campaign_ledger SET at = at - interval '1 hour' WHERE campaign_id = $1 AND user_id = $2",
        Tuple.of(Long.parseLong(first.id()), Long.parseLong(u.id())));
    event(u, last, "click");
    String order = buy(u, item);

    List<Row> rows = conversions(order);
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).getLong("campaign_id")).isEqualTo(Long.parseLong(last.id()));
    assertThat(stats(last).getJsonObject("totals").getLong("conversions")).isEqualTo(1);
    assertThat(stats(first).getJsonObject("totals").getLong("conversions")).isZero();

    refund(order, 1L);
    assertThat(conversions(order).get(0).getValue("undone_at")).isNull();
    assertThat(stats(last).getJsonObject("totals").getLong("conversions")).isEqualTo(1);
  }
}
