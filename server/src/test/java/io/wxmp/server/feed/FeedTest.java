package io.wxmp.server.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.feed.FeedCursor;
import io.wxmp.handlers.feed.FeedExperiments;
import io.wxmp.handlers.feed.FeedParams;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The feed end to end on planted data (real PostgreSQL and Redis, CPU ranking), on a stack of its own so the catalogue
 * holds only these items: 4 clusters of 30 items (tags c0..c3), 240 users who each clicked items of one cluster; a
 * model trained from those events; then what users see in GET /feed.
 */
class FeedTest {
  static final int CLUSTERS = 4;
  static final int PER_CLUSTER = 30;
  static TestStack stack;
  static long merchantId;
  static byte[] tokenKey;
  /** item id -> cluster */
  static final Map<Long, Integer> clusterOf = new HashMap<>();
  static final List<List<Long>> itemsOf = new ArrayList<>();
  /** A logged-in user per cluster, with training events in that cluster. */
  static final List<String> clusterUsers = new ArrayList<>();
  static final List<Long> clusterUserIds = new ArrayList<>();
  static String operator;
  /** An owner account of the planted merchant. */
  static String owner;

  @BeforeAll
  static void plant() {
    stack = TestStack.create();
    tokenKey = Base64.getDecoder().decode(stack.settings.get("WXMP_FEED_TOKEN_KEY"));
    merchantId = stack.sql("INSERT INTO merchants (name) VALUES ('Feed shop') RETURNING id", Tuple.tuple())
        .iterator().next().getLong(0);
    for (int c = 0; c < CLUSTERS; c++) {
      List<Long> ids = new ArrayList<>();
      for (int k = 0; k < PER_CLUSTER; k++) {
        long id = insertItem(merchantId, "Item " + c + "-" + k, new String[] {"c" + c, "all"}, k % 5 == 0 ? 100L : null);
        ids.add(id);
        clusterOf.put(id, c);
      }
      itemsOf.add(ids);
    }
    Random random = new Random(7);
    List<Object[]> events = new ArrayList<>();
    for (int c = 0; c < CLUSTERS; c++) {
      String token = stack.newUserToken();
      long id = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
      clusterUsers.add(token);
      clusterUserIds.add(id);
      plantUser(id, c, random, events);
    }
    for (int u = 0; u < 240; u++) {
      long id = stack.sql("INSERT INTO users (openid) VALUES ($1) RETURNING id", Tuple.of("planted-" + u))
          .iterator().next().getLong(0);
      plantUser(id, u % CLUSTERS, random, events);
    }
    for (int from = 0; from < events.size(); from += 500) {
      List<Tuple> batch = new ArrayList<>();
      for (Object[] e : events.subList(from, Math.min(events.size(), from + 500))) {
        batch.add(Tuple.of(e[0], e[1], e[2]));
      }
      try {
        stack.db.preparedQuery("INSERT INTO events (user_id, item_id, type, at) VALUES ($1, $2, $3, now())")
            .executeBatch(batch).await(30, TimeUnit.SECONDS);
      } catch (Exception ex) {
        throw new AssertionError(ex);
      }
    }
    operator = operatorToken();
    stack.sql("INSERT INTO merchant_accounts (merchant_id, username, password_hash, role) VALUES ($1, $2, $3, 'owner')",
        Tuple.of(merchantId, "feedshop-owner", Passwords.hash(TestStack.PASSWORD)));
    owner = stack.adminToken("feedshop-owner");
    refresh();
  }

  /** Through the merchant's PATCH /admin/items/{id}, as a merchant changes it. */
  static void itemStatus(long item, String status) {
    Reply r = stack.api.patch("/api/v1/admin/items/" + item, owner, new JsonObject().put("status", status));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
  }

  /** Through the operators' PATCH /platform/merchants/{id}. */
  static void merchantStatus(long merchant, String status) {
    Reply r = stack.api.patch("/api/v1/platform/merchants/" + merchant, operator,
        new JsonObject().put("status", status));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  /** 12 clicks in the user's cluster and one elsewhere. */
  static void plantUser(long userId, int cluster, Random random, List<Object[]> events) {
    Set<Long> picked = new HashSet<>();
    while (picked.size() < 12) {
      picked.add(itemsOf.get(cluster).get(random.nextInt(PER_CLUSTER)));
    }
    picked.add(itemsOf.get((cluster + 1 + random.nextInt(CLUSTERS - 1)) % CLUSTERS).get(random.nextInt(PER_CLUSTER)));
    for (long item : picked) {
      events.add(new Object[] {userId, item, random.nextInt(4) == 0 ? "like" : "click"});
    }
  }

  static long insertItem(long merchant, String title, String[] tags, Long price) {
    return stack.sql("""
        INSERT INTO items (merchant_id, kind, title, summary, tags, price_fen, status)
        VALUES ($1, 'article', $2, 'A planted item', $3, $4, 'published') RETURNING id""",
        Tuple.of(merchant, title, tags, price)).iterator().next().getLong(0);
  }

  static String operatorToken() {
    String name = "feedop" + System.nanoTime();
    stack.sql("INSERT INTO operators (username, password_hash) VALUES ($1, $2)",
        Tuple.of(name, Passwords.hash(TestStack.PASSWORD)));
    Reply r = stack.api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", name).put("password", TestStack.PASSWORD));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("token");
  }

  static void refresh() {
    try {
      stack.server().feed().refresh().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Trains a model through the operators' endpoint and waits until it serves. */
  static String train() {
    Reply r = stack.api.post("/api/v1/platform/feed/train", operator, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    String version = r.json().getString("modelVersion");
    TestStack.eventually("model " + version + " serving", 120_000, () -> {
      JsonObject m = stack.api.get("/api/v1/platform/feed/model", operator).json();
      if ("failed".equals(m.getString("status"))) {
        throw new AssertionError("training failed: " + m);
      }
      return version.equals(m.getString("version")) && "serving".equals(m.getString("status"))
          && version.equals(m.getString("serving"));
    });
    return version;
  }

  static synchronized String trainedVersion() {
    if (trained == null) {
      trained = train();
    }
    return trained;
  }

  static String trained;

  static JsonObject page(String token, String cursor, int limit) {
    Reply r = stack.api.get("/api/v1/feed?limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor), token);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  static List<JsonObject> items(JsonObject page) {
    List<JsonObject> out = new ArrayList<>();
    page.getJsonArray("items").forEach(o -> out.add((JsonObject) o));
    return out;
  }

  static int cluster(JsonObject item) {
    return clusterOf.getOrDefault(Long.parseLong(item.getString("id")), -1);
  }

  /** Every id of a whole feed walked to its end with pages of {@code limit}. */
  static List<String> walk(String token, int limit) {
    List<String> ids = new ArrayList<>();
    String cursor = null;
    for (int pages = 0; pages < 100; pages++) {
      JsonObject p = page(token, cursor, limit);
      items(p).forEach(i -> ids.add(i.getString("id")));
      cursor = p.getString("nextCursor");
      if (cursor == null) {
        return ids;
      }
    }
    throw new AssertionError("the feed did not end");
  }

  static Set<String> eligibleIds() {
    Set<String> out = new HashSet<>();
    stack.sql("""
        SELECT i.id FROM items i JOIN merchants m ON m.id = i.merchant_id
        WHERE i.status = 'published' AND m.status = 'active'""", Tuple.tuple())
        .forEach((Row r) -> out.add(Long.toString(r.getLong(0))));
    return out;
  }

  // ---- tests ----

  @Test
  void everyFeedItemHasTheContractShapeAndASignedToken() {
    String token = stack.newUserToken();
    JsonObject p = page(token, null, 20);
    assertThat(items(p)).hasSize(20);
    long userId = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
    for (int i = 0; i < 20; i++) {
      JsonObject item = items(p).get(i);
      assertThat(item.fieldNames()).contains("id", "kind", "title", "summary", "coverUrl", "tags", "price", "locked",
          "sponsored", "campaignId", "reason", "token");
      assertThat(item.getJsonObject("reason").getString("kind"))
          .isIn("similar", "trending", "new", "explore", "popular_with_tag");
      FeedToken t = FeedToken.verify(item.getString("token"), tokenKey);
      assertThat(t).isNotNull();
      assertThat(t.userId()).isEqualTo(Long.toString(userId));
      assertThat(t.itemId()).isEqualTo(item.getString("id"));
      assertThat(t.position()).isEqualTo(i);
      assertThat(t.reasonKind()).isEqualTo(item.getJsonObject("reason").getString("kind"));
      boolean paid = item.getValue("price") != null;
      assertThat(item.getBoolean("locked")).isEqualTo(paid);
    }
    assertThat(p.getString("nextCursor")).isNotNull();
  }

  @Test
  void walkingAFeedToItsEndListsEveryEligibleItemExactlyOnce() {
    trainedVersion();
    for (String token : List.of(stack.newUserToken(), clusterUsers.get(1))) {
      List<String> ids = walk(token, 17);
      assertThat(ids).doesNotHaveDuplicates();
      assertThat(new HashSet<>(ids)).isEqualTo(eligibleIds());
    }
  }

  @Test
  void aCursorIsOnlyItsOwnersAndOnlyWhileItsFeedIsKnown() {
    String owner = stack.newUserToken();
    String other = stack.newUserToken();
    String cursor = page(owner, null, 5).getString("nextCursor");
    assertThat(cursor).isNotNull();
    // the served set lives under the owner's hash tag: another user's page reads their own (missing) one
    assertThat(stack.api.get("/api/v1/feed?limit=5&cursor=" + cursor, other).status()).isEqualTo(400);
    String unknown = Paging.encode("f:" + FeedToken.newTokenId());
    assertThat(stack.api.get("/api/v1/feed?limit=5&cursor=" + unknown, owner).status()).isEqualTo(400);
    assertThat(page(owner, cursor, 5).getJsonArray("items")).isNotEmpty();
  }

  /** The claim script on its own: each id once per feed, sponsored ones first, organic ones in order up to need. */
  @Test
  void aClaimTakesEachIdOnceSponsoredFirstThenOrganicUpToTheNeed() throws Exception {
    io.vertx.redis.client.Redis client = stack.redisClient();
    try {
      FeedCursor cursors = new FeedCursor(io.vertx.redis.client.RedisAPI.api(client), 600);
      String user = Long.toString(System.nanoTime());
      String feed = FeedToken.newTokenId();
      // a new feed: "1" is taken as sponsored, so not again as organic; the repeated "2" counts once; need 3 stops it
      FeedCursor.Claimed first = cursors.claim(user, feed, 3, List.of("9", "1"), List.of("1", "2", "2", "3", "4"))
          .await(10, TimeUnit.SECONDS);
      assertThat(first.sponsored()).containsExactly(true, true);
      assertThat(first.organic()).containsExactly("2");
      // the same feed again: what it served is passed over, sponsored or organic; past the need a sponsored id is not
      FeedCursor.Claimed second = cursors.claim(user, feed, 3, List.of("2", "7", "8", "6", "5"),
          List.of("9", "3", "4", "5")).await(10, TimeUnit.SECONDS);
      assertThat(second.sponsored()).containsExactly(false, true, true, true, false);
      assertThat(second.organic()).isEmpty();
      FeedCursor.Claimed third = cursors.claim(user, feed, 5, List.of(), List.of("9", "3", "4", "5"))
          .await(10, TimeUnit.SECONDS);
      assertThat(third.organic()).containsExactly("3", "4", "5");
      assertThat(cursors.served(user, feed).await(10, TimeUnit.SECONDS))
          .containsExactlyInAnyOrder("9", "1", "2", "7", "8", "6", "3", "4", "5");
      // nothing left to claim: the feed's lifetime is still renewed
      io.vertx.redis.client.RedisAPI api = io.vertx.redis.client.RedisAPI.api(client);
      String key = "wxmp:{u:" + user + "}:feed:" + feed;
      api.expire(List.of(key, "100")).await(10, TimeUnit.SECONDS);
      assertThat(cursors.claim(user, feed, 2, List.of("1"), List.of("2")).await(10, TimeUnit.SECONDS).organic())
          .isEmpty();
      assertThat(api.ttl(key).await(10, TimeUnit.SECONDS).toLong()).isGreaterThan(100);
    } finally {
      client.close();
    }
  }

  @Test
  void twoConcurrentPagesOnOneCursorNeverShareAnItem() throws Exception {
    String token = clusterUsers.get(2);
    JsonObject first = page(token, null, 10);
    String cursor = first.getString("nextCursor");
    List<Future<Reply>> both = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      both.add(stack.api.sendAsync(HttpMethod.GET, "/api/v1/feed?limit=20&cursor=" + cursor, token, null, null));
    }
    Future.all(both).await(30, TimeUnit.SECONDS);
    Set<String> seen = new HashSet<>();
    items(first).forEach(i -> seen.add(i.getString("id")));
    int total = seen.size();
    for (Future<Reply> f : both) {
      assertThat(f.result().status()).isEqualTo(200);
      for (JsonObject i : items(f.result().json())) {
        seen.add(i.getString("id"));
        total++;
      }
    }
    assertThat(total).isEqualTo(50);
    assertThat(seen).hasSize(total);
  }

  @Test
  void aTrainedUserGetsMostlyTheirClusterBecauseOfTheirOwnItems() {
    trainedVersion();
    for (int user = 0; user < CLUSTERS; user++) {
      int c = user;
      List<JsonObject> p = items(page(clusterUsers.get(c), null, 20));
      long inCluster = p.stream().filter(i -> cluster(i) == c).count();
      assertThat(inCluster).as("cluster %d page %s", c, p).isGreaterThanOrEqualTo(14);
      List<JsonObject> similar = p.stream().filter(i -> i.getJsonObject("reason").getString("kind").equals("similar"))
          .toList();
      assertThat(similar).hasSizeGreaterThanOrEqualTo(12);
      Set<String> history = historyOf(clusterUserIds.get(c));
      for (JsonObject s : similar) {
        JsonObject because = s.getJsonObject("reason").getJsonObject("becauseOf");
        assertThat(because).isNotNull();
        assertThat(history).contains(because.getString("itemId"));
        assertThat(because.getString("title")).startsWith("Item ");
      }
      for (JsonObject i : p) {
        assertThat(FeedToken.verify(i.getString("token"), tokenKey).modelVersion()).isEqualTo(trained);
      }
    }
  }

  /** The index of the item among the similar entries of the user's first 60 feed items; -1 when absent. */
  static int similarRank(String token, String itemId) {
    List<String> similar = new ArrayList<>();
    String cursor = null;
    for (int p = 0; p < 3; p++) {
      JsonObject page = page(token, cursor, 20);
      for (JsonObject i : items(page)) {
        if (i.getJsonObject("reason").getString("kind").equals("similar")) {
          similar.add(i.getString("id"));
        }
      }
      cursor = page.getString("nextCursor");
    }
    return similar.indexOf(itemId);
  }

  static Set<String> historyOf(long userId) {
    Set<String> out = new HashSet<>();
    stack.sql("SELECT item_id FROM events WHERE user_id = $1", Tuple.of(userId))
        .forEach((Row r) -> out.add(Long.toString(r.getLong(0))));
    return out;
  }

  @Test
  void aNewItemWithAKnownTagRanksForUsersWhoLikeThatTag() {
    trainedVersion();
    long fresh = insertItem(merchantId, "Fresh c3 item", new String[] {"c3"}, null);
    try {
      refresh();
      String id = Long.toString(fresh);
      // ranked with its cluster: among the first 31 similar entries of a cluster-3 fan, after that block for others.
      // Without exploration: it gives new items its slots first, newest first, so it would show this (the newest)
      // item to everyone, labelled "new", on page 1 whenever the ranking puts it a few places beyond the page.
      withoutExploration(() -> {
        assertThat(similarRank(clusterUsers.get(3), id)).as("rank for a fan").isBetween(0, PER_CLUSTER);
        int forOther = similarRank(clusterUsers.get(0), id);
        assertThat(forOther < 0 || forOther > PER_CLUSTER).as("rank for another cluster's user: " + forOther).isTrue();
      });
    } finally {
      stack.sql("UPDATE items SET status = 'archived', updated_at = now() WHERE id = $1", Tuple.of(fresh));
      refresh();
    }
  }

  @Test
  void ownedUnpublishedAndSuspendedMerchantItemsNeverAppear() {
    trainedVersion();
    String token = stack.newUserToken();
    long userId = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
    long bought = itemsOf.get(0).get(0); // a paid item (k = 0)
    long order = stack.sql("""
        INSERT INTO orders (out_trade_no, user_id, item_id, merchant_id, amount_fen, status, expires_at, paid_at)
        VALUES ($1, $2, $3, $4, 100, 'paid', now() + interval '1 hour', now()) RETURNING id""",
        Tuple.of("feedtest" + System.nanoTime(), userId, bought, merchantId)).iterator().next().getLong(0);
    stack.sql("INSERT INTO entitlements (user_id, item_id, order_id) VALUES ($1, $2, $3)",
        Tuple.of(userId, bought, order));
    long unpublished = itemsOf.get(1).get(3);
    long otherMerchant = stack.sql("INSERT INTO merchants (name) VALUES ('Suspended shop') RETURNING id",
        Tuple.tuple()).iterator().next().getLong(0);
    long suspendedItem = insertItem(otherMerchant, "Of a suspended merchant", new String[] {"c1"}, null);
    refresh();
    // Changed after the last catalogue refresh (by their writers, which move the catalogue generation): the page's
    // own check still keeps them out.
    itemStatus(unpublished, "draft");
    merchantStatus(otherMerchant, "suspended");
    try {
      Set<String> never = Set.of(Long.toString(bought), Long.toString(unpublished), Long.toString(suspendedItem));
      List<String> ids = walk(token, 50);
      assertThat(ids).doesNotContainAnyElementsOf(never);
      ids = walk(clusterUsers.get(1), 50);
      assertThat(ids).doesNotContainAnyElementsOf(Set.of(Long.toString(unpublished), Long.toString(suspendedItem)));
      // the bought item is listed in GET /me/items
      JsonObject mine = stack.api.get("/api/v1/me/items", token).json();
      assertThat(mine.getJsonArray("items")).hasSize(1);
      assertThat(mine.getJsonArray("items").getJsonObject(0).getJsonObject("item").getString("id"))
          .isEqualTo(Long.toString(bought));
      assertThat(mine.getJsonArray("items").getJsonObject(0).getString("source")).isEqualTo("purchase");
    } finally {
      itemStatus(unpublished, "published");
      refresh();
    }
  }

  @Test
  void personalisationOffTakesEffectOnTheNextPage() {
    trainedVersion();
    String token = clusterUsers.get(2);
    // the first page stores the user's feed state in their cache hash; PATCH /me drops it
    assertThat(items(page(token, null, 20))).anyMatch(i -> i.getJsonObject("reason").getString("kind")
        .equals("similar"));
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", false)).status())
        .isEqualTo(200);
    try {
      assertThat(items(page(token, null, 20))).noneMatch(i -> i.getJsonObject("reason").getString("kind")
          .equals("similar"));
    } finally {
      assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", true)).status())
          .isEqualTo(200);
    }
    assertThat(items(page(token, null, 20))).anyMatch(i -> i.getJsonObject("reason").getString("kind")
        .equals("similar"));
  }

  @Test
  void personalisationOffGivesNoSimilarEntries() {
    trainedVersion();
    String token = stack.newUserToken();
    long userId = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
    // the same history as the cluster 2 user, folded in when the feed asks
    Reply before = stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", false));
    assertThat(before.status()).as(before.toString()).isEqualTo(200);
    assertThat(before.json().getBoolean("personalised")).isFalse();
    List<String> ids = new ArrayList<>();
    String cursor = null;
    do {
      JsonObject p = page(token, cursor, 50);
      for (JsonObject i : items(p)) {
        assertThat(i.getJsonObject("reason").getString("kind")).isNotEqualTo("similar");
        assertThat(i.getJsonObject("reason").getValue("becauseOf")).isNull();
        ids.add(i.getString("id"));
      }
      cursor = p.getString("nextCursor");
    } while (cursor != null);
    assertThat(new HashSet<>(ids)).isEqualTo(eligibleIds());
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", "no")).status()).isEqualTo(400);
    assertThat(userId).isPositive();
  }

  /** Runs pages of the default feed but for exploration (no exploration slots). */
  static void withoutExploration(Runnable pages) {
    FeedParams d = FeedParams.defaults();
    FeedParams params = new FeedParams(d.mmrLambda(), 0.0, d.fatigueImpressions(), d.modelVersion(), d.sponsoredSlots(),
        d.perMerchantCap());
    stack.server().feed().useExperiments(u -> Future.succeededFuture(new FeedExperiments.Arm("t", "a", params)));
    try {
      pages.run();
    } finally {
      stack.server().feed().useExperiments(FeedExperiments.NONE);
    }
  }

  @Test
  void mmrLowersSameTagRunsAgainstPlainTopK() {
    trainedVersion();
    String token = clusterUsers.get(0);
    double plain = sameTagRuns(token, 1.0);
    double mmr = sameTagRuns(token, 0.3);
    assertThat(mmr).as("plain %s, mmr %s", plain, mmr).isLessThan(plain);
  }

  /** Mean length of runs of one cluster among the ranked entries of a first page under the given λ. */
  static double sameTagRuns(String token, double lambda) {
    FeedParams params = new FeedParams(lambda, 0.0, 3, null, false, 50);
    stack.server().feed().useExperiments(u -> Future.succeededFuture(new FeedExperiments.Arm("t", "a", params)));
    try {
      List<JsonObject> p = items(page(token, null, 20));
      int runs = 1;
      for (int i = 1; i < p.size(); i++) {
        if (cluster(p.get(i)) != cluster(p.get(i - 1))) {
          runs++;
        }
      }
      return (double) p.size() / runs;
    } finally {
      stack.server().feed().useExperiments(FeedExperiments.NONE);
    }
  }

  @Test
  void trainingIsReproducibleWithASeedAndTheEndpointSaysWhenBusy() {
    String a = train();
    Reply r = stack.api.post("/api/v1/platform/feed/train", operator, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    String b = r.json().getString("modelVersion");
    Reply busy = stack.api.post("/api/v1/platform/feed/train", operator, null);
    assertThat(busy.status()).as(busy.toString()).isEqualTo(409);
    assertThat(busy.errorCode()).isEqualTo("training_in_progress");
    assertThat(busy.json().getString("modelVersion")).isEqualTo(b);
    TestStack.eventually("model " + b, 120_000, () -> "serving".equals(
        stack.api.get("/api/v1/platform/feed/model", operator).json().getString("status")));
    JsonObject model = stack.api.get("/api/v1/platform/feed/model", operator).json();
    assertThat(model.getString("version")).isEqualTo(b);
    assertThat(model.getInteger("items")).isGreaterThanOrEqualTo(CLUSTERS * PER_CLUSTER - 1);
    assertThat(model.getInteger("users")).isGreaterThanOrEqualTo(244);
    assertThat(model.getJsonObject("metrics").getDouble("recallAt20")).isGreaterThan(
        model.getJsonObject("metrics").getDouble("popularityRecallAt20"));
    assertThat(model.getString("trainedAt")).isNotNull();
    String sameData = """
        SELECT count(*) FROM feed_item_vectors x JOIN feed_item_vectors y ON x.item_id = y.item_id
        WHERE x.model_id = (SELECT id FROM feed_models WHERE version = $1)
          AND y.model_id = (SELECT id FROM feed_models WHERE version = $2) AND x.vector <> y.vector""";
    assertThat(a).isNotEqualTo(b);
    assertThat(stack.count(sameData, Tuple.of(a, b))).isZero();
    assertThat(stack.count("""
        SELECT count(*) FROM feed_item_vectors WHERE model_id = (SELECT id FROM feed_models WHERE version = $1)""",
        Tuple.of(b))).isGreaterThanOrEqualTo(CLUSTERS * PER_CLUSTER - 1);
    trained = b;
    assertThat(stack.api.post("/api/v1/platform/feed/train", clusterUsers.get(0), null).status()).isEqualTo(401);
  }

  @Test
  void theModelSwapUnderLoadFailsNoRequestAndMixesNoPage() throws Exception {
    String before = trainedVersion();
    double modelMisses = metric(CACHE_MISSES, "reason=\"model\"");
    AtomicBoolean stop = new AtomicBoolean();
    List<Reply> replies = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> load = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      String token = clusterUsers.get(t);
      Thread th = new Thread(() -> {
        while (!stop.get()) {
          replies.add(stack.api.get("/api/v1/feed?limit=20", token));
        }
      });
      th.start();
      load.add(th);
    }
    String after = train();
    TestStack.eventually("pages from the new model", 30_000, () -> {
      synchronized (replies) {
        return replies.stream().anyMatch(r -> r.status() == 200 && versions(r).contains(after));
      }
    });
    stop.set(true);
    for (Thread th : load) {
      th.join();
    }
    trained = after;
    assertThat(after).isNotEqualTo(before);
    // the cluster users' cached rankings were of the old version: their first pages of the new one ranked again
    assertThat(metric(CACHE_MISSES, "reason=\"model\"")).isGreaterThan(modelMisses);
    assertThat(replies).hasSizeGreaterThan(10);
    for (Reply r : replies) {
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(versions(r)).hasSize(1);
    }
  }

  static Set<String> versions(Reply r) {
    Set<String> out = new HashSet<>();
    for (Object o : r.json().getJsonArray("items")) {
      out.add(String.valueOf(FeedToken.verify(((JsonObject) o).getString("token"), tokenKey).modelVersion()));
    }
    return out;
  }

  @Test
  void catalogueListsPublishedItemsByTagAndKindNewestFirst() {
    String token = stack.newUserToken();
    Reply r = stack.api.get("/api/v1/items?tag=c2&limit=50", token);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonArray items = r.json().getJsonArray("items");
    assertThat(items).hasSize(PER_CLUSTER);
    List<Long> ids = new ArrayList<>();
    for (Object o : items) {
      JsonObject i = (JsonObject) o;
      assertThat(i.getJsonArray("tags").getList()).contains("c2");
      assertThat(i.containsKey("token")).isFalse();
      ids.add(Long.parseLong(i.getString("id")));
    }
    assertThat(ids).isSortedAccordingTo(java.util.Comparator.reverseOrder());
    JsonObject first = stack.api.get("/api/v1/items?kind=article&limit=7", token).json();
    assertThat(first.getJsonArray("items")).hasSize(7);
    JsonObject second = stack.api.get("/api/v1/items?kind=article&limit=7&cursor=" + first.getString("nextCursor"),
        token).json();
    assertThat(second.getJsonArray("items").getJsonObject(0).getString("id"))
        .isNotEqualTo(first.getJsonArray("items").getJsonObject(0).getString("id"));
    assertThat(stack.api.get("/api/v1/items?kind=nope", token).status()).isEqualTo(400);
    assertThat(stack.api.get("/api/v1/items?kind=course", token).json().getJsonArray("items")).isEmpty();
    assertThat(stack.api.get("/api/v1/items", null).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/feed?cursor=bogus", token).status()).isEqualTo(400);
    assertThat(stack.api.get("/api/v1/feed?limit=51", token).status()).isEqualTo(400);
  }

  static long idOf(String token) {
    return Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
  }

  static void send(String token, JsonArray events) {
    Reply r = stack.api.post("/api/v1/events", token, new JsonObject().put("events", events));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
  }

  static JsonObject event(String type, long itemId) {
    return new JsonObject().put("id", "e" + System.nanoTime()).put("itemId", Long.toString(itemId)).put("type", type);
  }

  @Test
  void aFreshUserWhoClicksThreeItemsOfAClusterLeansToItOnTheNextPage() {
    String version = trainedVersion();
    String token = stack.newUserToken();
    List<JsonObject> before = items(page(token, null, 20));
    assertThat(before).noneSatisfy(i -> assertThat(i.getJsonObject("reason").getString("kind")).isEqualTo("similar"));
    List<Long> clicked = itemsOf.get(2).subList(5, 8);
    JsonArray events = new JsonArray();
    clicked.forEach(id -> events.add(event("click", id)));
    send(token, events);
    // the ranked page: exploration's share goes to new items whatever the user did
    List<JsonObject> after = new ArrayList<>();
    withoutExploration(() -> after.addAll(items(page(token, null, 20))));
    long inCluster = after.stream().filter(i -> cluster(i) == 2).count();
    long inClusterBefore = before.stream().filter(i -> cluster(i) == 2).count();
    // a quarter of the catalogue is cluster 2; after three clicks at least half the ranked page is
    assertThat(inCluster).as("page after three clicks: %s", after).isGreaterThanOrEqualTo(10)
        .isGreaterThan(inClusterBefore + 3);
    Set<String> clickedIds = new HashSet<>();
    clicked.forEach(id -> clickedIds.add(Long.toString(id)));
    List<JsonObject> similar = after.stream()
        .filter(i -> i.getJsonObject("reason").getString("kind").equals("similar")).toList();
    assertThat(similar).isNotEmpty();
    similar.forEach(i -> assertThat(clickedIds).contains(
        i.getJsonObject("reason").getJsonObject("becauseOf").getString("itemId")));
    // no retraining happened: the same model ranked both pages
    assertThat(versions(new Reply(200, null, io.vertx.core.buffer.Buffer.buffer(
        new JsonObject().put("items", new JsonArray(after)).encode())))).containsExactly(trained);
    assertThat(trained).isEqualTo(version);
  }

  static final String CACHE_HITS = "wxmp_feed_candidate_cache_hits_total";
  static final String CACHE_MISSES = "wxmp_feed_candidate_cache_misses_total";

  /** The sum of a metric's series (those whose line contains {@code label}, if given). */
  static double metric(String name, String label) {
    return stack.management().get("/metrics", null).raw().toString().lines()
        .filter(l -> (l.startsWith(name + " ") || l.startsWith(name + "{")) && (label == null || l.contains(label)))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** A page's items as id, reason kind and "because of" item: what a page shows, without its tokens. */
  static List<String> shown(JsonObject page) {
    return items(page).stream().map(i -> {
      JsonObject r = i.getJsonObject("reason");
      JsonObject because = r.getJsonObject("becauseOf");
      return i.getString("id") + ":" + r.getString("kind") + ":" + (because == null ? "" : because.getString("itemId"));
    }).toList();
  }

  /**
   * The candidate cache, with two new users of one vector (A's, folded in from three clicks, stored for B as well):
   * A's second page of a feed asks the ranking verticle nothing (a hit, no miss), and B's second page, ranked afresh
   * (the cache cleared first) with B's first page excluded, is the same page. A click re-solves A's vector, so A's
   * next page misses and ranks again.
   */
  @Test
  void aSecondPageReusesTheRankingExactlyUntilAClick() throws Exception {
    trainedVersion();
    io.wxmp.handlers.feed.CandidateCache cache = stack.server().feed().service().candidateCache();
    io.wxmp.handlers.feed.UserVectors vectors =
        new io.wxmp.handlers.feed.UserVectors(io.vertx.redis.client.RedisAPI.api(stack.redisClient()));
    String a = stack.newUserToken();
    String b = stack.newUserToken();
    JsonArray clicks = new JsonArray();
    itemsOf.get(1).subList(0, 3).forEach(id -> clicks.add(event("click", id)));
    send(a, clicks);
    io.wxmp.handlers.feed.UserVectors.Stored v = vectors.get(Long.toString(idOf(a))).await(10, TimeUnit.SECONDS);
    assertThat(v).as("A's folded-in vector").isNotNull();
    vectors.put(Long.toString(idOf(b)), v).await(10, TimeUnit.SECONDS);
    // the trending list both users' pages read is one read after A's clicks (not a copy from before them)
    stack.server().feed().service().forgetTrending();
    cache.clear();
    double hits = metric(CACHE_HITS, null);
    double misses = metric(CACHE_MISSES, null);
    JsonObject b1 = page(b, null, 20);
    cache.clear();
    JsonObject b2 = page(b, b1.getString("nextCursor"), 20); // ranked afresh with B's first page excluded
    assertThat(metric(CACHE_MISSES, null) - misses).as("both of B's pages rank").isEqualTo(2);
    JsonObject a1 = page(a, null, 20);
    JsonObject a2 = page(a, a1.getString("nextCursor"), 20);
    assertThat(metric(CACHE_MISSES, null) - misses).as("A's first page ranks").isEqualTo(3);
    assertThat(metric(CACHE_HITS, null) - hits).as("A's second page reuses A's ranking").isEqualTo(1);
    assertThat(shown(a1)).hasSize(20).isEqualTo(shown(b1));
    assertThat(shown(a1)).anySatisfy(e -> assertThat(e).contains(":similar:"));
    assertThat(shown(a2)).hasSize(20).isEqualTo(shown(b2)).doesNotContainAnyElementsOf(shown(a1));
    // a click folds into A's vector: the next page misses (another vector) and ranks with it
    double vectorMisses = metric(CACHE_MISSES, "reason=\"vector\"");
    send(a, new JsonArray().add(event("click", itemsOf.get(3).get(0))));
    assertThat(vectors.get(Long.toString(idOf(a))).await(10, TimeUnit.SECONDS).vector()).isNotEqualTo(v.vector());
    page(a, a2.getString("nextCursor"), 20);
    assertThat(metric(CACHE_MISSES, "reason=\"vector\"") - vectorMisses).isEqualTo(1);
    assertThat(metric(CACHE_HITS, null) - hits).isEqualTo(1);
  }

  @Test
  void anItemSeenThreeTimesWithoutAClickIsFatiguedUntilClicked() {
    trainedVersion();
    String token = stack.newUserToken();
    JsonObject first = items(page(token, null, 20)).get(0);
    long item = Long.parseLong(first.getString("id"));
    JsonArray seen = new JsonArray();
    for (int k = 0; k < 2; k++) {
      seen.add(event("impression", item).put("token", first.getString("token")));
    }
    send(token, seen);
    assertThat(walk(token, 50)).contains(first.getString("id"));
    send(token, new JsonArray().add(event("impression", item)));
    assertThat(walk(token, 50)).doesNotContain(first.getString("id"));
    send(token, new JsonArray().add(event("click", item)));
    assertThat(walk(token, 50)).contains(first.getString("id"));
  }

  @Test
  void aColdUserGetsTrendingMixedWithPopularItemsOfTheirInterestTags() throws Exception {
    trainedVersion();
    String token = stack.newUserToken();
    String userId = Long.toString(idOf(token));
    stack.server().events().online().addInterests(userId, Map.of("c1", 1f), java.time.Instant.now())
        .await(10, TimeUnit.SECONDS);
    List<JsonObject> p = items(page(token, null, 20));
    List<JsonObject> tagged = p.stream()
        .filter(i -> i.getJsonObject("reason").getString("kind").equals("popular_with_tag")).toList();
    assertThat(tagged).hasSizeGreaterThanOrEqualTo(5);
    tagged.forEach(i -> {
      assertThat(i.getJsonObject("reason").getString("tag")).isEqualTo("c1");
      assertThat(cluster(i)).isEqualTo(1);
    });
    // mixed with entries from outside the tag: trending ones, or (when the trending items are c1's own, which the
    // earlier tests' events decide) new or explore entries
    assertThat(p).anySatisfy(i -> assertThat(i.getJsonObject("reason").getString("kind"))
        .isIn("trending", "new", "explore"));
    // with personalisation off the same user gets no tag entries
    stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", false));
    assertThat(items(page(token, null, 20))).noneSatisfy(i ->
        assertThat(i.getJsonObject("reason").getString("kind")).isIn("popular_with_tag", "similar"));
  }

  static void interest(long userId, String tag, float weight) {
    stack.sql("INSERT INTO user_interest_events (user_id, tag, source, weight) VALUES ($1, $2, 'quiz-attempt:test', $3)",
        Tuple.of(userId, tag, weight));
  }

  @Test
  void aColdUserWhoseOnlineTagsAreGoneGetsTheTagsOfTheirQuizAnswers() {
    trainedVersion();
    String token = stack.newUserToken();
    interest(idOf(token), "c3", 2f); // in PostgreSQL only: the online state never heard of it (expired, lost)
    List<JsonObject> tagged = items(page(token, null, 20)).stream()
        .filter(i -> i.getJsonObject("reason").getString("kind").equals("popular_with_tag")).toList();
    assertThat(tagged).hasSizeGreaterThanOrEqualTo(5);
    tagged.forEach(i -> {
      assertThat(i.getJsonObject("reason").getString("tag")).isEqualTo("c3");
      assertThat(cluster(i)).isEqualTo(3);
    });
  }

  /**
   * Quiz answers are training data: planted users who also answered questions about their cluster's tag, then a user
   * with quiz answers (tag c2) and no events at all, who after training gets a vector of their own in the model and
   * a ranked page that leans to cluster 2.
   */
  @Test
  void quizAnswersJoinTrainingSoAUserWithoutEventsGetsATrainedVector() {
    trainedVersion();
    List<Long> planted = new ArrayList<>();
    stack.sql("SELECT id FROM users WHERE openid LIKE 'planted-%' ORDER BY id", Tuple.tuple())
        .forEach((Row r) -> planted.add(r.getLong(0)));
    for (int u = 0; u < 80; u++) {
      interest(planted.get(u), "c" + (u % CLUSTERS), 1f); // plantUser gave user u cluster u % CLUSTERS
    }
    String token = stack.newUserToken();
    long userId = idOf(token);
    interest(userId, "c2", 1f);
    interest(userId, "c2", 1f);
    String version = train();
    trained = version;
    assertThat(stack.count("""
        SELECT count(*) FROM feed_user_vectors WHERE user_id = $1
          AND model_id = (SELECT id FROM feed_models WHERE version = $2)""", Tuple.of(userId, version))).isEqualTo(1);
    JsonObject model = stack.api.get("/api/v1/platform/feed/model", operator).json();
    assertThat(model.getJsonObject("metrics").getInteger("interestTags")).isEqualTo(CLUSTERS);
    // only items are served: the tag columns are not in the model's item vectors
    assertThat(stack.count("""
        SELECT count(*) FROM feed_item_vectors WHERE model_id = (SELECT id FROM feed_models WHERE version = $1)""",
        Tuple.of(version))).isLessThanOrEqualTo(CLUSTERS * PER_CLUSTER);
    List<JsonObject> p = items(page(token, null, 20));
    assertThat(versions(new Reply(200, null, io.vertx.core.buffer.Buffer.buffer(
        new JsonObject().put("items", new JsonArray(p)).encode())))).containsExactly(version);
    assertThat(p).noneSatisfy(i -> assertThat(i.getJsonObject("reason").getString("kind"))
        .isEqualTo("popular_with_tag")); // ranked with the vector, not the cold path
    assertThat(p.stream().filter(i -> cluster(i) == 2).count()).as("page: %s", p).isGreaterThanOrEqualTo(10);
  }

  static double fallbacks() {
    return stack.management().get("/metrics", null).raw().toString().lines()
        .filter(l -> l.startsWith("wxmp_feed_ranking_fallbacks_total")).findFirst()
        .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).orElse(0.0);
  }

  /**
   * The ranking verticle slow to answer: a second consumer on its address, which the event bus hands every other
   * top-K request, answers only after {@code stallMs} (under the ranking client's own 5 s timeout). The page comes from
   * trending within the ranking time budget (150 ms) instead of waiting for the answer, and it says so in the fallback
   * counter. That it did not wait is read from the order of events (the page was back while its ranking request was
   * still unanswered; a page that waited would be answered from that request, personal and no fallback), not from
   * a wall-clock bound near the budget that a loaded machine breaks: stallMs is 25 times the budget.
   */
  @Test
  void aSlowRankingVerticleGivesATrendingPageWithinTheTimeBudget() throws Exception {
    trainedVersion();
    long stallMs = 4_000;
    io.vertx.core.Vertx vertx = stack.server().vertx();
    java.util.concurrent.atomic.AtomicInteger stalled = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
    io.vertx.core.eventbus.MessageConsumer<Object> slow = vertx.eventBus().consumer(
        io.wxmp.gpu.RankingAddresses.TOP_K, m -> {
          stalled.incrementAndGet();
          vertx.setTimer(stallMs, t -> {
            answered.incrementAndGet();
            m.reply(new io.wxmp.gpu.RankingMessages.TopKReply(List.of()));
          });
        });
    slow.completion().await(10, TimeUnit.SECONDS);
    try {
      double before = fallbacks();
      List<JsonObject> fellBack = null;
      long fellBackMs = -1;
      int answeredThen = -1;
      int stalledThen = -1;
      for (int attempt = 0; attempt < 10 && fellBack == null; attempt++) {
        double was = fallbacks();
        int stalledBefore = stalled.get();
        stack.server().feed().service().candidateCache().clear(); // the page asks the ranking verticle
        long t0 = System.nanoTime();
        List<JsonObject> p = items(page(clusterUsers.get(attempt % CLUSTERS), null, 20));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int answeredNow = answered.get();
        if (fallbacks() > was) {
          fellBack = p;
          fellBackMs = ms;
          answeredThen = answeredNow;
          stalledThen = stalled.get() - stalledBefore;
        }
      }
      assertThat(fellBack).as("no page fell back to trending while the ranking answers were stalled").isNotNull();
      assertThat(fallbacks()).isGreaterThan(before);
      assertThat(stalledThen).as("the page's ranking request went to the stalled consumer").isEqualTo(1);
      assertThat(answeredThen).as("the page came back (after %d ms) only once its stalled ranking request was "
          + "answered", fellBackMs).isZero();
      assertThat(fellBackMs).isLessThan(stallMs);
      assertThat(fellBack).hasSize(20).noneSatisfy(i -> assertThat(i.getJsonObject("reason").getString("kind"))
          .isEqualTo("similar"));
    } finally {
      slow.unregister().await(10, TimeUnit.SECONDS);
    }
  }
}
