package io.wxmp.server.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The merchants' dashboard: real purchases, refunds and quiz attempts show up once, in Asia/Shanghai buckets. */
class StatsOverviewTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  record Buyer(String token, long userId) {}

  static Buyer newBuyer() {
    Reply login = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    assertThat(login.status()).isEqualTo(200);
    return new Buyer(login.json().getString("token"),
        Long.parseLong(login.json().getJsonObject("user").getString("id")));
  }

  static String paidItem(TestStack.Merchant m, long fen) {
    Reply r = stack.api.post("/api/v1/admin/items", m.editor(), new JsonObject().put("kind", "article")
        .put("title", "Paid").put("body", "b").put("status", "published")
        .put("price", new JsonObject().put("amount", fen).put("currency", "CNY")));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static String buy(Buyer b, String itemId) {
    Reply order = stack.api.post("/api/v1/orders", b.token(), new JsonObject().put("itemId", itemId));
    assertThat(order.status()).as(order.toString()).isEqualTo(201);
    String id = order.json().getString("id");
    String prepay = order.json().getJsonObject("payParams").getString("package").substring("prepay_id=".length());
    assertThat(stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("prepayId", prepay)).status())
        .isEqualTo(200);
    awaitStatus(id, "paid");
    return id;
  }

  static void awaitStatus(String orderId, String status) {
    TestStack.eventually("order " + orderId + " " + status, 15_000, () -> status.equals(stack.sql(
        "SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId))).iterator().next().getString(0)));
  }

  static Reply overview(String token, String query) {
    return stack.api.get("/api/v1/admin/stats/overview" + query, token);
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static long sum(JsonArray series, String key) {
    long total = 0;
    for (int i = 0; i < series.size(); i++) {
      total += series.getJsonObject(i).getLong(key);
    }
    return total;
  }

  @Test
  void purchasesRefundsAndAttemptsCountOnceForTheirMerchantOnly() {
    TestStack.Merchant m = stack.newMerchant();
    TestStack.Merchant other = stack.newMerchant();
    String item = paidItem(m, 990);
    Buyer alice = newBuyer();
    Buyer bob = newBuyer();
    String aliceOrder = buy(alice, item);
    buy(bob, item);
    buy(alice, paidItem(m, 100));

    // WeChat Pay delivers the same notify again: nothing changes, so nothing counts twice.
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1",
        Tuple.of(Long.parseLong(aliceOrder))).iterator().next().getString(0);
    JsonArray sent = stack.sandbox.get("/sandbox/pay/notifications", null).jsonArray();
    for (int i = 0; i < sent.size(); i++) {
      JsonObject n = sent.getJsonObject(i);
      if (outTradeNo.equals(n.getString("outTradeNo"))) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        n.getJsonObject("headers").forEach(h -> headers.add(h.getKey(), String.valueOf(h.getValue())));
        headers.set("Content-Type", "application/json");
        assertThat(stack.api.postRaw("/api/v1/pay/notify", null, Buffer.buffer(n.getString("body")), headers)
            .status()).isEqualTo(204);
      }
    }

    Reply refund = stack.api.post("/api/v1/admin/orders/" + aliceOrder + "/refund", m.owner(),
        new JsonObject().put("amount", 300).put("reason", "partial"));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(202);
    awaitStatus(aliceOrder, "refunded");

    // a quiz attempt by a third user
    Reply quiz = stack.api.post("/api/v1/admin/quizzes", m.editor(), new JsonObject().put("title", "Q")
        .put("timeLimitSec", 60).put("maxAttempts", 1).put("pointsPerCorrect", 1).put("status", "published")
        .put("questions", new JsonArray().add(new JsonObject().put("text", "1+1?").put("choices", new JsonArray()
            .add(new JsonObject().put("text", "2").put("correct", true))
            .add(new JsonObject().put("text", "3").put("correct", false))))));
    assertThat(quiz.status()).as(quiz.toString()).isEqualTo(201);
    Buyer carol = newBuyer();
    assertThat(stack.api.post("/api/v1/quizzes/" + quiz.json().getString("id") + "/attempts", carol.token(), null)
        .status()).isEqualTo(201);

    for (String token : List.of(m.owner(), m.editor(), m.analyst())) {
      Reply r = overview(token, "?bucket=hour");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      JsonObject totals = r.json().getJsonObject("totals");
      assertThat(totals.getLong("revenue")).isEqualTo(990 + 990 + 100);
      assertThat(totals.getLong("orders")).isEqualTo(3);
      assertThat(totals.getLong("refunds")).isEqualTo(300);
      assertThat(totals.getLong("buyers")).isEqualTo(2);
      assertThat(totals.getLong("quizAttempts")).isEqualTo(1);
      assertThat(totals.getLong("newUsers")).isEqualTo(3);
      assertThat(totals.getLong("impressions")).isZero();
      assertThat(totals.getLong("clicks")).isZero();
      JsonArray series = r.json().getJsonArray("series");
      assertThat(series).hasSize(24);
      assertThat(sum(series, "revenue")).isEqualTo(2080);
      assertThat(sum(series, "orders")).isEqualTo(3);
      assertThat(sum(series, "refunds")).isEqualTo(300);
      assertThat(sum(series, "quizAttempts")).isEqualTo(1);
      // every bucket starts on a whole hour of Asia/Shanghai time, in order
      for (int i = 0; i < series.size(); i++) {
        OffsetDateTime t = OffsetDateTime.parse(series.getJsonObject(i).getString("t"));
        assertThat(t.getOffset()).isEqualTo(ZoneOffset.ofHours(8));
        assertThat(t.getMinute()).isZero();
        if (i > 0) {
          assertThat(t).isEqualTo(OffsetDateTime.parse(series.getJsonObject(i - 1).getString("t")).plusHours(1));
        }
      }
    }

    JsonObject theirs = overview(other.owner(), "?bucket=hour").json().getJsonObject("totals");
    assertThat(theirs.getLong("revenue")).isZero();
    assertThat(theirs.getLong("orders")).isZero();
    assertThat(theirs.getLong("buyers")).isZero();
    assertThat(theirs.getLong("newUsers")).isZero();
  }

  @Test
  void daysAreAsiaShanghaiDays() {
    TestStack.Merchant m = stack.newMerchant();
    long item = Long.parseLong(paidItem(m, 500));
    Buyer b = newBuyer();
    // 23:30 on 30 November and 00:30 on 1 December in Shanghai are 15:30 and 16:30 UTC on 30 November.
    paidAt(b, item, "2026-11-30T15:30:00Z");
    paidAt(b, item, "2026-11-30T16:30:00Z");
    paidAt(b, item, "2026-11-30T16:45:00Z");

    Reply r = overview(m.analyst(), "?bucket=day&from=2026-11-30&to=2026-12-01");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonArray series = r.json().getJsonArray("series");
    assertThat(series).hasSize(2);
    assertThat(series.getJsonObject(0).getString("t")).isEqualTo("2026-11-30T00:00:00+08:00");
    assertThat(series.getJsonObject(0).getLong("orders")).isEqualTo(1);
    assertThat(series.getJsonObject(1).getString("t")).isEqualTo("2026-12-01T00:00:00+08:00");
    assertThat(series.getJsonObject(1).getLong("orders")).isEqualTo(2);
    assertThat(series.getJsonObject(1).getLong("revenue")).isEqualTo(1000);
    assertThat(series.getJsonObject(1).getLong("buyers")).isEqualTo(1);
    assertThat(r.json().getJsonObject("totals").getLong("buyers")).isEqualTo(1);

    // the same instants in hour buckets, the range given as instants with offsets (unencoded '+' too)
    Reply hours = overview(m.owner(), "?bucket=hour&from=" + enc("2026-11-30T23:00:00+08:00")
        + "&to=2026-12-01T01:00:00+08:00");
    assertThat(hours.status()).as(hours.toString()).isEqualTo(200);
    JsonArray h = hours.json().getJsonArray("series");
    assertThat(h).hasSize(2);
    assertThat(h.getJsonObject(0).getLong("orders")).isEqualTo(1);
    assertThat(h.getJsonObject(1).getString("t")).isEqualTo("2026-12-01T00:00:00+08:00");
    assertThat(h.getJsonObject(1).getLong("orders")).isEqualTo(2);
    assertThat(hours.json().getJsonObject("totals").getLong("newUsers")).isEqualTo(1);
  }

  /** An order of the past, paid at a given instant through the same UPDATE the settlement makes. */
  @Test
  void buyersOfARangeOfDaysAreDistinctWhateverTheirHistory() {
    TestStack.Merchant m = stack.newMerchant();
    long item = Long.parseLong(paidItem(m, 500));
    // the range is 10 to 19 October (Shanghai days); noon in Shanghai is 04:00 UTC
    Buyer spansWithout = newBuyer();
    paidAt(spansWithout, item, "2026-10-05T04:00:00Z");
    paidAt(spansWithout, item, "2026-10-25T04:00:00Z");
    Buyer spansWith = newBuyer();
    paidAt(spansWith, item, "2026-10-05T04:00:00Z");
    paidAt(spansWith, item, "2026-10-12T04:00:00Z");
    paidAt(spansWith, item, "2026-10-25T04:00:00Z");
    Buyer endsInside = newBuyer();
    paidAt(endsInside, item, "2026-10-05T04:00:00Z");
    paidAt(endsInside, item, "2026-10-15T04:00:00Z");
    Buyer startsInside = newBuyer();
    paidAt(startsInside, item, "2026-10-12T03:00:00Z");
    paidAt(startsInside, item, "2026-10-12T05:00:00Z");
    paidAt(startsInside, item, "2026-10-30T04:00:00Z");
    Buyer after = newBuyer();
    paidAt(after, item, "2026-10-22T04:00:00Z");
    // the last second of 19 October in Shanghai counts; the first of 20 October does not
    Buyer lastSecond = newBuyer();
    paidAt(lastSecond, item, "2026-10-19T15:59:59Z");
    paidAt(lastSecond, item, "2026-10-19T16:00:00Z");

    String range = "from=2026-10-10&to=2026-10-19";
    Reply days = overview(m.analyst(), "?bucket=day&" + range);
    assertThat(days.status()).as(days.toString()).isEqualTo(200);
    JsonArray series = days.json().getJsonArray("series");
    assertThat(series).hasSize(10);
    assertThat(series.getJsonObject(2).getString("t")).isEqualTo("2026-10-12T00:00:00+08:00");
    assertThat(series.getJsonObject(2).getLong("buyers")).isEqualTo(2);
    assertThat(series.getJsonObject(2).getLong("orders")).isEqualTo(3);
    assertThat(series.getJsonObject(5).getLong("buyers")).isEqualTo(1);
    assertThat(series.getJsonObject(9).getLong("buyers")).isEqualTo(1);
    assertThat(sum(series, "buyers")).isEqualTo(4);
    assertThat(days.json().getJsonObject("totals").getLong("buyers")).isEqualTo(4);
    // hour buckets count them from the orders themselves: the same answer
    Reply hours = overview(m.analyst(), "?bucket=hour&from=" + enc("2026-10-10T00:00:00+08:00") + "&to="
        + enc("2026-10-20T00:00:00+08:00"));
    assertThat(hours.status()).as(hours.toString()).isEqualTo(200);
    assertThat(hours.json().getJsonObject("totals").getLong("buyers")).isEqualTo(4);
    // a range that ends today, and the whole of October
    assertThat(overview(m.analyst(), "?bucket=day&from=2026-10-20").json().getJsonObject("totals")
        .getLong("buyers")).isEqualTo(5);
    assertThat(overview(m.analyst(), "?bucket=day&from=2026-10-01&to=2026-10-31").json().getJsonObject("totals")
        .getLong("buyers")).isEqualTo(6);

    // an erased buyer's orders stay as an anonymous buyer's, and so do the counts
    assertThat(stack.api.delete("/api/v1/me", spansWith.token()).status()).isEqualTo(204);
    Reply again = overview(m.analyst(), "?bucket=day&" + range);
    assertThat(again.json().getJsonObject("totals").getLong("buyers")).isEqualTo(4);
    assertThat(again.json().getJsonArray("series").getJsonObject(2).getLong("buyers")).isEqualTo(2);
  }

  private static void paidAt(Buyer b, long itemId, String text) {
    OffsetDateTime at = OffsetDateTime.parse(text);
    long merchant = stack.sql("SELECT merchant_id FROM items WHERE id = $1", Tuple.of(itemId)).iterator().next()
        .getLong(0);
    long id = stack.sql("INSERT INTO orders (out_trade_no, user_id, item_id, merchant_id, amount_fen, expires_at, "
            + "created_at) VALUES ($1, $2, $3, $4, 500, now(), $5) RETURNING id",
        Tuple.of("T" + System.nanoTime(), b.userId(), itemId, merchant, at)).iterator().next().getLong(0);
    stack.sql("UPDATE orders SET status = 'paid', paid_at = $2 WHERE id = $1", Tuple.of(id, at));
  }

  static String feedToken(long userId, String itemId) {
    byte[] key = java.util.Base64.getDecoder().decode(stack.settings.get("WXMP_FEED_TOKEN_KEY"));
    return new io.wxmp.handlers.feed.FeedToken(io.wxmp.handlers.feed.FeedToken.newTokenId(), Long.toString(userId),
        itemId, 0, "trending", null, null, null, "m-1", System.currentTimeMillis()).sign(key);
  }

  static JsonObject event(String itemId, String type, String token) {
    JsonObject e = new JsonObject().put("itemId", itemId).put("type", type);
    return token == null ? e : e.put("token", token);
  }

  @Test
  void impressionsAndClicksCountOncePerValidToken() {
    TestStack.Merchant m = stack.newMerchant();
    TestStack.Merchant other = stack.newMerchant();
    String item = paidItem(m, 100);
    String theirs = paidItem(other, 100);
    Buyer u = newBuyer();
    Buyer v = newBuyer();
    String t1 = feedToken(u.userId(), item);
    String t2 = feedToken(u.userId(), item);
    Reply first = stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", new JsonArray()
        .add(event(item, "impression", t1)).add(event(item, "click", t1))
        .add(event(item, "impression", t2))
        .add(event(item, "impression", t1)) // the same token again in the batch
        .add(event(item, "impression", null)) // no token: stored, not counted
        .add(event(item, "impression", feedToken(v.userId(), item))) // another user's token: counts for nothing
        .add(event(theirs, "impression", feedToken(u.userId(), theirs)))));
    assertThat(first.status()).as(first.toString()).isEqualTo(202);
    // a replayed token in a later batch counts for nothing
    assertThat(stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", new JsonArray()
        .add(event(item, "impression", t1)).add(event(item, "click", t1)))).status()).isEqualTo(202);

    JsonObject totals = overview(m.analyst(), "?bucket=hour").json().getJsonObject("totals");
    assertThat(totals.getLong("impressions")).isEqualTo(2);
    assertThat(totals.getLong("clicks")).isEqualTo(1);
    JsonArray series = overview(m.analyst(), "?bucket=hour").json().getJsonArray("series");
    assertThat(sum(series, "impressions")).isEqualTo(2);
    assertThat(overview(other.owner(), "?bucket=day").json().getJsonObject("totals").getLong("impressions"))
        .isEqualTo(1);
  }

  @Test
  void badRangesAndBucketsGet400AndOthers401() {
    TestStack.Merchant m = stack.newMerchant();
    Reply week = overview(m.owner(), "?bucket=week");
    assertThat(week.status()).isEqualTo(400);
    assertThat(week.json().getJsonObject("error").getJsonObject("fields").containsKey("bucket")).isTrue();
    Reply backwards = overview(m.owner(), "?from=2026-12-02&to=2026-11-01");
    assertThat(backwards.status()).isEqualTo(400);
    assertThat(backwards.json().getJsonObject("error").getJsonObject("fields").containsKey("from")).isTrue();
    assertThat(overview(m.owner(), "?from=yesterday").status()).isEqualTo(400);
    assertThat(overview(m.owner(), "?bucket=hour&from=2026-01-01&to=2026-12-01").status()).isEqualTo(400);
    assertThat(overview(m.owner(), "?bucket=day&from=2020-01-01&to=2026-12-01").status()).isEqualTo(400);
    assertThat(overview(m.owner(), "?bucket=day&from=2026-01-01&to=2026-12-01").status()).isEqualTo(200);
    assertThat(overview(null, "").status()).isEqualTo(401);
    assertThat(overview(stack.newUserToken(), "").status()).isEqualTo(401);
    Reply defaults = overview(m.owner(), "");
    assertThat(defaults.status()).isEqualTo(200);
    assertThat(defaults.json().getString("bucket")).isEqualTo("day");
    assertThat(defaults.json().getJsonArray("series").size()).isEqualTo(7);
  }
}
