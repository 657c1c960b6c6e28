package io.wxmp.server.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A feed page reads its user's state from the user's cache hash and serves from the catalogue copy while the
 * catalogue generation says it is current, so it needs no PostgreSQL; what it shows still follows every write on the
 * very next page. The catalogue refresh timer is far away here (10 minutes): only the writers' invalidations and
 * generation bumps can make a page see a change.
 */
class FeedWithoutPostgresTest {
  static TestStack stack;
  static Redis client;
  static RedisAPI redis;
  static String operator;

  @BeforeAll
  static void start() {
    stack = TestStack.create(Map.of("WXMP_FEED_REFRESH_MS", "600000"));
    client = stack.redisClient();
    redis = RedisAPI.api(client);
    String name = "pgoffop" + System.nanoTime();
    stack.sql("INSERT INTO operators (username, password_hash) VALUES ($1, $2)",
        Tuple.of(name, Passwords.hash(TestStack.PASSWORD)));
    operator = stack.api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", name).put("password", TestStack.PASSWORD)).json().getString("token");
  }

  @AfterAll
  static void stop() {
    client.close();
    stack.close();
  }

  // ---- fixtures ----

  record Buyer(String token, long userId) {}

  static Buyer newBuyer() {
    String token = stack.newUserToken();
    return new Buyer(token, Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id")));
  }

  static String item(TestStack.Merchant m, String kind, Long priceFen, Integer days) {
    JsonObject body = new JsonObject().put("kind", kind).put("title", "A " + kind).put("summary", "s")
        .put("body", "the body").put("preview", "a taste").put("tags", new JsonArray().add("t"))
        .put("price", priceFen == null ? null : new JsonObject().put("amount", priceFen).put("currency", "CNY"))
        .put("status", "published");
    if (days != null) {
      body.put("membershipDays", days);
    }
    Reply r = stack.api.post("/api/v1/admin/items", m.editor(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static void refresh() {
    await(stack.server().feed().refresh());
  }

  /** Every item of the user's whole feed, by id. */
  static Map<String, JsonObject> feed(String token) {
    Map<String, JsonObject> out = new HashMap<>();
    String cursor = null;
    for (int pages = 0; pages < 100; pages++) {
      Reply r = stack.api.get("/api/v1/feed?limit=50" + (cursor == null ? "" : "&cursor=" + cursor), token);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      r.json().getJsonArray("items").forEach(o -> out.put(((JsonObject) o).getString("id"), (JsonObject) o));
      cursor = r.json().getString("nextCursor");
      if (cursor == null) {
        return out;
      }
    }
    throw new AssertionError("the feed did not end");
  }

  static String buy(Buyer b, String item) {
    Reply r = stack.api.post("/api/v1/orders", b.token(), new JsonObject().put("itemId", item));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    String id = r.json().getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(id)))
        .iterator().next().getString(0);
    assertThat(stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo))
        .status()).isEqualTo(200);
    awaitStatus(id, "paid");
    return id;
  }

  static void refund(TestStack.Merchant m, String order) {
    Reply r = stack.api.post("/api/v1/admin/orders/" + order + "/refund", m.owner(),
        new JsonObject().put("reason", "asked"));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    awaitStatus(order, "refunded");
  }

  /** As the buyer's app sees it: the order's row says so (the settlement may still be ending). */
  static void awaitStatus(String order, String status) {
    TestStack.eventually("order " + order + " " + status, 15_000, () -> status.equals(stack.sql(
        "SELECT status FROM orders WHERE id = $1", Tuple.of(Long.parseLong(order))).iterator().next().getString(0)));
  }

  /** The feed state in the user's cache hash, null when none. */
  static String cachedState(long userId) {
    Response r = await(redis.hget(ProfileCache.key(userId), "f"));
    return r == null ? null : r.toString();
  }

  /** Whether this server's catalogue copy is current at the generation in Redis (pages then skip PostgreSQL). */
  static boolean copyIsCurrent() {
    Response r = await(redis.hget(CatalogueGeneration.KEY, "g"));
    return stack.server().feed().catalogue().snapshot().currentAt(r == null ? null : r.toString());
  }

  static <T> T await(Future<T> f) {
    try {
      return f.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ---- tests ----

  @Test
  void aPurchaseLeavesTheFeedAndARefundBringsItBackOnTheNextPage() {
    TestStack.Merchant m = stack.newMerchant();
    String item = item(m, "article", 300L, null);
    refresh();
    Buyer b = newBuyer();
    assertThat(feed(b.token()).get(item).getBoolean("locked")).isTrue();
    assertThat(cachedState(b.userId())).as("stored by the first page").isNotNull();

    String order = buy(b, item);
    assertThat(feed(b.token())).as("owned: not in the feed").doesNotContainKey(item);
    assertThat(stack.api.get("/api/v1/items/" + item, b.token()).json().getBoolean("locked")).isFalse();
    assertThat(cachedState(b.userId()).split("\\|")[2]).as("stored again, owning the item").isEqualTo(item);

    refund(m, order);
    JsonObject back = feed(b.token()).get(item);
    assertThat(back).as("refunded: back in the feed").isNotNull();
    assertThat(back.getBoolean("locked")).isTrue();
  }

  @Test
  void aMembershipUnlocksTheMerchantsItemsAtOnceAndStopsWhenItRunsOut() {
    TestStack.Merchant m = stack.newMerchant();
    String membership = item(m, "membership", 500L, 30);
    String article = item(m, "article", 200L, null);
    refresh();
    Buyer b = newBuyer();
    assertThat(feed(b.token()).get(article).getBoolean("locked")).isTrue();
    buy(b, membership);
    assertThat(feed(b.token()).get(article).getBoolean("locked")).as("a member").isFalse();

    // a membership that runs out in a moment: the cached state keeps its end, not "a member"
    TestStack.Merchant other = stack.newMerchant();
    String otherArticle = item(other, "article", 200L, null);
    refresh();
    Buyer c = newBuyer();
    stack.sql("INSERT INTO memberships (user_id, merchant_id, member_until) VALUES ($1, $2, now() + interval '5 s')",
        Tuple.of(c.userId(), other.id()));
    assertThat(feed(c.token()).get(otherArticle).getBoolean("locked")).isFalse();
    assertThat(cachedState(c.userId())).isNotNull();
    TestStack.eventually("the membership ran out", 20_000,
        () -> feed(c.token()).get(otherArticle).getBoolean("locked"));
    assertThat(cachedState(c.userId())).as("still served from the cache").isNotNull();
  }

  @Test
  void anUnpublishedItemAndASuspendedMerchantsItemLeaveTheVeryNextPage() {
    TestStack.Merchant m = stack.newMerchant();
    TestStack.Merchant suspended = stack.newMerchant();
    String unpublished = item(m, "article", null, null);
    String ofSuspended = item(suspended, "article", null, null);
    refresh();
    Buyer b = newBuyer();
    assertThat(feed(b.token())).containsKeys(unpublished, ofSuspended);
    assertThat(copyIsCurrent()).as("pages serve from the copy").isTrue();

    Reply draft = stack.api.patch("/api/v1/admin/items/" + unpublished, m.editor(),
        new JsonObject().put("status", "draft"));
    assertThat(draft.status()).as(draft.toString()).isEqualTo(200);
    assertThat(feed(b.token())).doesNotContainKey(unpublished).containsKey(ofSuspended);

    Reply suspend = stack.api.patch("/api/v1/platform/merchants/" + suspended.id(), operator,
        new JsonObject().put("status", "suspended"));
    assertThat(suspend.status()).as(suspend.toString()).isEqualTo(200);
    assertThat(feed(b.token())).doesNotContainKeys(unpublished, ofSuspended);

    // the pages that checked asked for a refresh: the copy catches up and serves alone again
    TestStack.eventually("the copy is current again", 10_000, FeedWithoutPostgresTest::copyIsCurrent);
    assertThat(feed(b.token())).doesNotContainKeys(unpublished, ofSuspended);

    String archived = item(m, "article", null, null);
    refresh();
    assertThat(feed(b.token())).containsKey(archived);
    assertThat(stack.api.delete("/api/v1/admin/items/" + archived, m.editor()).status()).isEqualTo(204);
    assertThat(feed(b.token())).doesNotContainKey(archived);
  }

  @Test
  void withTheCacheAndTheGenerationUnreadableAPageAnswersFromPostgres() {
    TestStack.Merchant m = stack.newMerchant();
    String bought = item(m, "article", 300L, null);
    String hidden = item(m, "article", null, null);
    refresh();
    Buyer b = newBuyer();
    buy(b, bought);
    assertThat(feed(b.token())).containsKey(hidden).doesNotContainKey(bought);
    // both keys of the wrong type: every read of them fails (and the batch with the session with them)
    await(redis.set(List.of(ProfileCache.key(b.userId()), "not a hash")));
    await(redis.set(List.of(CatalogueGeneration.KEY, "not a hash")));
    try {
      // a change no writer announced: only PostgreSQL knows it
      stack.sql("UPDATE items SET status = 'draft', updated_at = now() WHERE id = $1", Tuple.of(Long.parseLong(hidden)));
      assertThat(feed(b.token())).doesNotContainKeys(hidden, bought);
    } finally {
      await(redis.del(List.of(ProfileCache.key(b.userId()))));
      await(redis.del(List.of(CatalogueGeneration.KEY)));
      refresh();
    }
  }
}
