package io.wxmp.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /events} end to end against real PostgreSQL and Redis: whole-batch validation that stores nothing on a
 * bad batch, client-id dedup (also under concurrent duplicate batches), which feed tokens count, the per-user rate
 * limit, the online state the feed reads, the listeners, quiz interests, and the table's maintenance.
 */
class EventsTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static String item;
  static String item2;
  static String tag;

  /** Every listener call, by user id (a listener on the shared server sees every test's users). */
  static final Map<String, List<List<EventListener.Accepted>>> heard = new ConcurrentHashMap<>();

  record User(String token, long id) {}

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    tag = "tea-" + UUID.randomUUID().toString().substring(0, 6);
    item = item(tag);
    item2 = item("other");
    stack.server().events().listeners().add((userId, events) -> {
      heard.computeIfAbsent(userId, k -> new CopyOnWriteArrayList<>()).add(List.copyOf(events));
      return Future.succeededFuture();
    });
  }

  // ---- fixtures ----

  static String item(String itemTag) {
    JsonObject body = new JsonObject().put("kind", "article").put("title", "Longjing").put("summary", "s")
        .put("body", "b").put("tags", new JsonArray().add(itemTag)).put("status", "published");
    Reply r = stack.api.post("/api/v1/admin/items", merchant.editor(), body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static User user() {
    String token = stack.newUserToken();
    return new User(token, Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id")));
  }

  static JsonObject event(String itemId, String type) {
    return new JsonObject().put("itemId", itemId).put("type", type);
  }

  static Reply post(User u, JsonObject... events) {
    return stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", new JsonArray(List.of(events))));
  }

  static long stored(User u) {
    return stack.count("SELECT count(*) FROM events WHERE user_id = $1", Tuple.of(u.id()));
  }

  static OnlineState online() {
    return stack.server().events().online();
  }

  static <T> T await(Future<T> f) {
    try {
      return f.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static byte[] tokenKey() {
    return Base64.getDecoder().decode(stack.settings.get("WXMP_FEED_TOKEN_KEY"));
  }

  static String token(long userId, String itemId, byte[] key) {
    return new FeedToken(FeedToken.newTokenId(), Long.toString(userId), itemId, 3, "trending", "c-7", "x-1", "B",
        "m-1", System.currentTimeMillis()).sign(key);
  }

  // ---- the happy path ----

  @Test
  void aBatchIsStoredAndAnswered202() {
    User u = user();
    String at = OffsetDateTime.now(ZoneOffset.UTC).minusMinutes(3).truncatedTo(java.time.temporal.ChronoUnit.MILLIS)
        .toString();
    Reply r = post(u, event(item, "impression").put("id", "e-1").put("at", at),
        event(item, "dwell").put("dwellMs", 42_000), event(item2, "click"));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    assertThat(r.json()).isEqualTo(new JsonObject().put("accepted", 3).put("duplicates", 0));

    List<Row> rows = new ArrayList<>();
    stack.sql("SELECT item_id, type, at, dwell_ms, client_id, token_id FROM events WHERE user_id = $1 ORDER BY id",
        Tuple.of(u.id())).forEach(rows::add);
    assertThat(rows).hasSize(3);
    assertThat(rows.get(0).getString("type")).isEqualTo("impression");
    assertThat(rows.get(0).getString("client_id")).isEqualTo("e-1");
    assertThat(rows.get(0).getOffsetDateTime("at").toInstant()).isEqualTo(OffsetDateTime.parse(at).toInstant());
    assertThat(rows.get(1).getInteger("dwell_ms")).isEqualTo(42_000);
    assertThat(rows.get(2).getLong("item_id")).isEqualTo(Long.parseLong(item2));
    // no "at": the server's clock
    assertThat(rows.get(2).getOffsetDateTime("at")).isAfter(OffsetDateTime.now().minusMinutes(1));
    assertThat(rows.get(0).getString("token_id")).isNull();
  }

  @Test
  void withoutATokenTheEventNeedsNoAuthButAUser() {
    Reply r = stack.api.post("/api/v1/events", null, new JsonObject().put("events", new JsonArray()
        .add(event(item, "click"))));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.errorCode()).isEqualTo("unauthorized");
  }

  // ---- validation: the batch as a whole, nothing stored ----

  @Test
  void eachRuleNamesTheIndexAndStoresNothing() {
    User u = user();
    User other = user();
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    Map<String, UnaryOperator<JsonObject>> cases = new java.util.LinkedHashMap<>();
    cases.put("events[1].itemId", e -> e.put("itemId", "999999999"));
    cases.put("events[1].itemId#format", e -> e.put("itemId", 12));
    cases.put("events[1].itemId#missing", e -> {
      e.remove("itemId");
      return e;
    });
    cases.put("events[1].type", e -> e.put("type", "purchase"));
    cases.put("events[1].type#missing", e -> {
      e.remove("type");
      return e;
    });
    cases.put("events[1].at", e -> e.put("at", now.plusMinutes(6).toString()));
    cases.put("events[1].at#old", e -> e.put("at", now.minusDays(7).minusMinutes(1).toString()));
    cases.put("events[1].at#format", e -> e.put("at", "yesterday"));
    cases.put("events[1].at#nooffset", e -> e.put("at", "2026-12-01T10:00:00"));
    cases.put("events[1].dwellMs", e -> e.put("dwellMs", -1));
    cases.put("events[1].dwellMs#fraction", e -> e.put("dwellMs", 1.5));
    cases.put("events[1].dwellMs#huge", e -> e.put("dwellMs", 86_400_001L));
    cases.put("events[1].dwellMs#missing", e -> e.put("type", "dwell"));
    cases.put("events[1].ref", e -> e.put("ref", "999999999"));
    cases.put("events[1].ref#self", e -> e.put("ref", Long.toString(u.id())));
    cases.put("events[1].ref#format", e -> e.put("ref", "alice"));
    cases.put("events[1].id", e -> e.put("id", "has space"));
    cases.put("events[1].id#server", e -> e.put("id", "~order:1"));
    cases.put("events[1].id#long", e -> e.put("id", "x".repeat(65)));
    cases.put("events[1].token", e -> e.put("token", 7));
    cases.forEach((field, change) -> {
      String name = field.contains("#") ? field.substring(0, field.indexOf('#')) : field;
      JsonObject bad = change.apply(event(item, "click").put("ref", Long.toString(other.id())));
      Reply r = post(u, event(item, "click").put("id", "good-" + field.hashCode()), bad);
      assertThat(r.status()).as(field + ": " + r).isEqualTo(400);
      assertThat(r.errorCode()).isEqualTo("bad_request");
      assertThat(r.json().getJsonObject("error").getJsonObject("fields").fieldNames()).as(field).containsExactly(name);
    });
    assertThat(stored(u)).isZero();
    assertThat(stack.count("SELECT count(*) FROM event_ids WHERE user_id = $1", Tuple.of(u.id()))).isZero();
  }

  @Test
  void theBatchHasOneToAHundredObjects() {
    User u = user();
    JsonArray hundredAndOne = new JsonArray();
    for (int i = 0; i < 101; i++) {
      hundredAndOne.add(event(item, "impression"));
    }
    for (Object events : List.of(new JsonArray(), hundredAndOne, "none", new JsonObject())) {
      Reply r = stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", events));
      assertThat(r.status()).as(r.toString()).isEqualTo(400);
      assertThat(r.json().getJsonObject("error").getJsonObject("fields").fieldNames()).containsExactly("events");
    }
    Reply notObject = stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events",
        new JsonArray().add(event(item, "click")).add("click")));
    assertThat(notObject.json().getJsonObject("error").getJsonObject("fields").fieldNames())
        .containsExactly("events[1]");
    Reply malformed = stack.api.postRaw("/api/v1/events", u.token(), io.vertx.core.buffer.Buffer.buffer("{\"events\":"),
        null);
    assertThat(malformed.status()).isEqualTo(400);
    JsonArray hundred = new JsonArray();
    for (int i = 0; i < 100; i++) {
      hundred.add(event(item, "impression"));
    }
    Reply full = stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", hundred));
    assertThat(full.status()).as(full.toString()).isEqualTo(202);
    assertThat(full.json().getInteger("accepted")).isEqualTo(100);
    assertThat(stored(u)).isEqualTo(100);
  }

  @Test
  void aDraftItemIsUnknown() {
    User u = user();
    Reply draft = stack.api.post("/api/v1/admin/items", merchant.editor(), new JsonObject().put("kind", "article")
        .put("title", "Draft").put("summary", "s").put("body", "b").put("tags", new JsonArray()).put("status", "draft"));
    assertThat(draft.status()).isEqualTo(201);
    Reply r = post(u, event(draft.json().getString("id"), "click"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getJsonObject("error").getJsonObject("fields").containsKey("events[0].itemId")).isTrue();
    // published a moment later, it is known at once (unknown ids are never cached)
    String id = draft.json().getString("id");
    assertThat(stack.api.patch("/api/v1/admin/items/" + id, merchant.editor(), new JsonObject().put("status",
        "published")).status()).isEqualTo(200);
    assertThat(post(u, event(id, "click")).status()).isEqualTo(202);
  }

  // ---- dedup ----

  @Test
  void aRepeatedIdIsADuplicateAndChangesNothing() {
    User u = user();
    Reply first = post(u, event(item, "click").put("id", "a"), event(item, "like").put("id", "b"),
        event(item, "impression"));
    assertThat(first.json()).isEqualTo(new JsonObject().put("accepted", 3).put("duplicates", 0));
    // the phone retries the same batch: the ids are duplicates, the event without an id is new again
    Reply retry = post(u, event(item, "click").put("id", "a"), event(item, "like").put("id", "b"),
        event(item, "impression"));
    assertThat(retry.json()).isEqualTo(new JsonObject().put("accepted", 1).put("duplicates", 2));
    // a repeat inside one batch counts too
    Reply inBatch = post(u, event(item, "share").put("id", "c"), event(item, "share").put("id", "c"));
    assertThat(inBatch.json()).isEqualTo(new JsonObject().put("accepted", 1).put("duplicates", 1));
    assertThat(stored(u)).isEqualTo(5);
    assertThat(stack.count("SELECT count(*) FROM events WHERE user_id = $1 AND client_id = 'a'", Tuple.of(u.id())))
        .isEqualTo(1);
    // ids are per user: another user's "a" is new
    assertThat(post(user(), event(item, "click").put("id", "a")).json().getInteger("accepted")).isEqualTo(1);
  }

  @Test
  void concurrentDuplicateBatchesStoreEachEventOnce() {
    User u = user();
    JsonArray batch = new JsonArray();
    for (int i = 0; i < 10; i++) {
      batch.add(event(i % 2 == 0 ? item : item2, "click").put("id", "same-" + i));
    }
    List<Future<Reply>> sends = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sends.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/events", u.token(),
          new JsonObject().put("events", batch).toBuffer(), null));
    }
    List<Reply> replies = await(Future.all(sends)).list();
    int accepted = 0;
    int duplicates = 0;
    for (Reply r : replies) {
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
      accepted += r.json().getInteger("accepted");
      duplicates += r.json().getInteger("duplicates");
    }
    assertThat(accepted).isEqualTo(10);
    assertThat(duplicates).isEqualTo(70);
    assertThat(stored(u)).isEqualTo(10);
    // the listeners heard each new event exactly once
    List<Long> ids = new ArrayList<>();
    heard.getOrDefault(Long.toString(u.id()), List.of()).forEach(call -> call.forEach(e -> ids.add(e.eventId())));
    assertThat(ids).hasSize(10).doesNotHaveDuplicates();
  }

  @Test
  void batchesOfManyUsersAtOnceEachStoreTheirOwnOnce() {
    // under load, batches that wait for a statement go to PostgreSQL together in one: each still gets its own answer,
    // rows and listener call, and two overlapping batches of one user still store each id once
    List<User> users = new ArrayList<>();
    for (int u = 0; u < 24; u++) {
      users.add(user());
    }
    List<Future<Reply>> sends = new ArrayList<>();
    for (User u : users) {
      String mine = u.id() % 2 == 0 ? item : item2;
      for (int[] ids : new int[][] {{0, 1, 2, 3, 4}, {3, 4, 5, 6, 7}}) {
        JsonArray batch = new JsonArray().add(event(mine, "impression"));
        for (int i : ids) {
          batch.add(event(mine, "click").put("id", u.id() + "-" + i));
        }
        sends.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/events", u.token(),
            new JsonObject().put("events", batch).toBuffer(), null));
      }
    }
    List<Reply> replies = await(Future.all(sends)).list();
    for (int k = 0; k < users.size(); k++) {
      User u = users.get(k);
      int accepted = 0;
      int duplicates = 0;
      for (Reply r : replies.subList(2 * k, 2 * k + 2)) {
        assertThat(r.status()).as(r.toString()).isEqualTo(202);
        accepted += r.json().getInteger("accepted");
        duplicates += r.json().getInteger("duplicates");
      }
      assertThat(accepted).isEqualTo(10);
      assertThat(duplicates).isEqualTo(2);
      assertThat(stored(u)).isEqualTo(10);
      long mine = Long.parseLong(u.id() % 2 == 0 ? item : item2);
      assertThat(stack.count("SELECT count(DISTINCT client_id) FROM events WHERE user_id = $1 AND item_id = $2 "
          + "AND client_id LIKE $3", Tuple.of(u.id(), mine, u.id() + "-%"))).isEqualTo(8);
      List<Long> heardIds = new ArrayList<>();
      heard.getOrDefault(Long.toString(u.id()), List.of()).forEach(call -> call.forEach(e -> {
        assertThat(e.userId()).isEqualTo(Long.toString(u.id()));
        heardIds.add(e.eventId());
      }));
      assertThat(heardIds).hasSize(10).doesNotHaveDuplicates();
      assertThat(heardIds).containsExactlyInAnyOrderElementsOf(stack.sql(
          "SELECT id FROM events WHERE user_id = $1", Tuple.of(u.id())).value().stream().map(r -> r.getLong(0))
          .toList());
    }
  }

  // ---- tokens ----

  @Test
  void aTokenCountsOnlyWhenIssuedToThisUserForThisItem() {
    User u = user();
    User someoneElse = user();
    byte[] key = tokenKey();
    byte[] otherKey = FeedToken.newKey();
    String good = token(u.id(), item, key);
    Reply r = post(u,
        event(item, "impression").put("id", "honoured").put("token", good),
        event(item, "click").put("id", "forged").put("token", token(u.id(), item, otherKey)),
        event(item, "click").put("id", "tampered").put("token", (good.charAt(0) == 'W' ? "X" : "W") + good.substring(1)),
        event(item, "click").put("id", "foreign").put("token", token(someoneElse.id(), item, key)),
        event(item2, "click").put("id", "other-item").put("token", good),
        event(item, "click").put("id", "garbage").put("token", "not-a-token"));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    assertThat(r.json().getInteger("accepted")).isEqualTo(6);
    Row honoured = stack.sql("SELECT token_id, position, reason_kind, campaign_id, experiment_id, arm, model_version "
        + "FROM events WHERE user_id = $1 AND client_id = 'honoured'", Tuple.of(u.id())).iterator().next();
    assertThat(honoured.getString("token_id")).isEqualTo(FeedToken.verify(good, key).tokenId());
    assertThat(honoured.getInteger("position")).isEqualTo(3);
    assertThat(honoured.getString("reason_kind")).isEqualTo("trending");
    assertThat(honoured.getString("campaign_id")).isEqualTo("c-7");
    assertThat(honoured.getString("experiment_id")).isEqualTo("x-1");
    assertThat(honoured.getString("arm")).isEqualTo("B");
    assertThat(honoured.getString("model_version")).isEqualTo("m-1");
    assertThat(stack.count("SELECT count(*) FROM events WHERE user_id = $1 AND token_id IS NOT NULL",
        Tuple.of(u.id()))).isEqualTo(1);
    // the listeners get the verified token, and null for the others
    List<EventListener.Accepted> events = new ArrayList<>();
    heard.get(Long.toString(u.id())).forEach(events::addAll);
    assertThat(events).hasSize(6);
    assertThat(events.stream().filter(e -> e.token() != null).map(e -> e.token().tokenId()).toList())
        .containsExactly(FeedToken.verify(good, key).tokenId());
  }

  @Test
  void aShareOpenKeepsTheSharer() {
    User sharer = user();
    User u = user();
    assertThat(post(u, event(item, "click").put("ref", Long.toString(sharer.id()))).status()).isEqualTo(202);
    assertThat(stack.count("SELECT count(*) FROM events WHERE user_id = $1 AND ref_user_id = $2",
        Tuple.of(u.id(), sharer.id()))).isEqualTo(1);
    assertThat(heard.get(Long.toString(u.id())).get(0).get(0).ref()).isEqualTo(Long.toString(sharer.id()));
  }

  // ---- rate limit ----

  @Test
  void overTheRateLimitIs429WithRetryAfter() {
    User u = user();
    int limit = Integer.parseInt(stack.settings.getOrDefault("WXMP_EVENTS_RATE_PER_MIN", "120"));
    long start = System.nanoTime();
    int passed = 0;
    Reply limited = null;
    // the bucket refills smoothly (limit per minute), so a few more than the limit may pass while this runs
    for (int i = 0; i < 2 * limit && limited == null; i++) {
      Reply r = post(u, event(item, "impression"));
      if (r.status() == 202) {
        passed++;
      } else {
        limited = r;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(limited).as("no 429 after %d batches", passed).isNotNull();
    assertThat(passed).isBetween(limit, limit + (int) Math.ceil(seconds * limit / 60.0) + 1);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.errorCode()).isEqualTo("rate_limited");
    assertThat(Integer.parseInt(limited.headers().get("Retry-After"))).isBetween(1, 60);
    assertThat(stored(u)).isEqualTo(passed);
    // another user is not affected
    assertThat(post(user(), event(item, "impression")).status()).isEqualTo(202);
  }

  // ---- the online state the feed reads ----

  @Test
  void historyImpressionsAndTagsReachTheOnlineState() {
    User u = user();
    String id = Long.toString(u.id());
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    post(u, event(item2, "click").put("at", now.minusMinutes(2).toString()),
        event(item, "like").put("at", now.minusMinutes(1).toString()),
        event(item, "impression"));
    OnlineState.History history = await(online().history(id));
    assertThat(history.itemIds()).containsExactly(item, item2); // newest first; the impression adds nothing
    assertThat(history.strengths()[0]).isCloseTo(2f, org.assertj.core.data.Offset.offset(0.01f)); // like = 2
    assertThat(history.strengths()[1]).isCloseTo(1f, org.assertj.core.data.Offset.offset(0.01f)); // click = 1
    assertThat(await(online().recentTags(id))).contains(tag, "other");

    // fatigue: impressions after the last engagement count, an engagement resets them
    User v = user();
    String vid = Long.toString(v.id());
    post(v, event(item, "impression"), event(item, "impression"), event(item2, "impression"));
    assertThat(await(online().unclickedImpressions(vid))).isEqualTo(Map.of(item, 2, item2, 1));
    post(v, event(item, "click"));
    assertThat(await(online().unclickedImpressions(vid))).isEqualTo(Map.of(item2, 1));
    assertThat(await(online().history(vid)).itemIds()).containsExactly(item);

    await(online().forget(vid));
    assertThat(await(online().history(vid)).itemIds()).isEmpty();
    assertThat(await(online().unclickedImpressions(vid))).isEmpty();
  }

  @Test
  void theOnlineStateOutlivesItsTermAfterTheLastWrite() {
    // the script sets a TTL past the term and pushes it out only once it has run down to the term
    User u = user();
    String id = Long.toString(u.id());
    post(u, event(item, "impression"), event(item, "click"));
    io.vertx.redis.client.Redis client = stack.redisClient();
    try {
      io.vertx.redis.client.RedisAPI redis = io.vertx.redis.client.RedisAPI.api(client);
      long day = 86_400_000L;
      for (String key : List.of("hist:t", "hist:w", "tags")) {
        assertThat(await(redis.pttl("wxmp:{u:" + id + "}:" + key)).toLong()).as(key)
            .isGreaterThan(180 * day - 60_000).isLessThanOrEqualTo(181 * day);
      }
      for (String key : List.of("imp", "eng")) {
        assertThat(await(redis.pttl("wxmp:{u:" + id + "}:" + key)).toLong()).as(key)
            .isGreaterThan(7 * day - 60_000).isLessThanOrEqualTo(7 * day + 3_600_000);
      }
      // run down to the term (or set short by hand): the next write sets it past the term again
      await(redis.pexpire(List.of("wxmp:{u:" + id + "}:imp", Long.toString(7 * day - 1_000))));
      await(redis.expire(List.of("wxmp:{u:" + id + "}:hist:w", Long.toString(100))));
      post(u, event(item2, "impression"), event(item2, "like"));
      assertThat(await(redis.pttl("wxmp:{u:" + id + "}:imp")).toLong()).isGreaterThan(7 * day);
      assertThat(await(redis.pttl("wxmp:{u:" + id + "}:hist:w")).toLong()).isGreaterThan(180 * day);
      assertThat(await(online().history(id)).itemIds()).containsExactly(item2, item);
      assertThat(await(online().unclickedImpressions(id))).isEmpty();
    } finally {
      client.close();
    }
  }

  @Test
  void aListenerThatWantsTheHistoryGetsItFromTheRecordingScript() {
    // the fold-in's read: asked for, the history comes back with the batch's own script, as history() reads it
    Map<String, OnlineState.History> handed = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicBoolean wanting = new java.util.concurrent.atomic.AtomicBoolean(true);
    User u = user();
    String id = Long.toString(u.id());
    stack.server().events().listeners().add(new EventListener() {
      @Override
      public Future<Void> onAccepted(String userId, List<Accepted> events) {
        return Future.succeededFuture();
      }

      @Override
      public boolean wantsHistory() {
        return wanting.get();
      }

      @Override
      public Future<Void> onAccepted(String userId, List<Accepted> events, OnlineState.History history) {
        if (userId.equals(id)) {
          handed.put(userId + ":" + events.size(), history == null ? new OnlineState.History(null, null) : history);
        }
        return Future.succeededFuture();
      }
    });
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    post(u, event(item2, "click").put("at", now.minusMinutes(2).toString()),
        event(item, "like").put("at", now.minusMinutes(1).toString()), event(item, "impression"));
    OnlineState.History read = await(online().history(id));
    OnlineState.History got = handed.get(id + ":3");
    assertThat(got).isNotNull();
    assertThat(got.itemIds()).isEqualTo(read.itemIds()).containsExactly(item, item2);
    assertThat(got.strengths()).containsExactly(read.strengths(), org.assertj.core.data.Offset.offset(1e-3f));
    // impressions alone: no history read
    post(u, event(item2, "impression"));
    assertThat(handed.get(id + ":1").itemIds()).isNull();
    wanting.set(false); // the shared server's later batches as before
  }

  @Test
  void trendingFollowsDecayedEngagement() {
    String hot = item("hot");
    String warm = item("warm");
    User u = user();
    JsonObject[] batch = new JsonObject[20];
    for (int i = 0; i < 20; i++) {
      batch[i] = event(hot, "complete");
    }
    post(u, batch);
    post(u, event(warm, "complete"), event(warm, "impression"));
    List<String> trending = await(online().trending(10_000));
    assertThat(trending).contains(hot, warm);
    assertThat(trending.indexOf(hot)).isLessThan(trending.indexOf(warm));
    assertThat(await(online().trending(1))).hasSize(1);
  }

  @Test
  void historyIsCappedAtThreeHundredItems() {
    User u = user();
    List<String> items = new ArrayList<>();
    for (int i = 0; i < 305; i++) {
      items.add(Long.toString(stack.sql("INSERT INTO items (merchant_id, kind, title, status) "
          + "VALUES ($1, 'article', 'x', 'published') RETURNING id", Tuple.of(merchant.id())).iterator().next()
          .getLong(0)));
    }
    OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC).minusHours(1);
    for (int b = 0; b < 4; b++) {
      JsonArray batch = new JsonArray();
      for (int i = b * 100; i < Math.min(305, (b + 1) * 100); i++) {
        batch.add(event(items.get(i), "click").put("at", start.plusSeconds(i).toString()));
      }
      assertThat(stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", batch)).status())
          .isEqualTo(202);
    }
    OnlineState.History history = await(online().history(Long.toString(u.id())));
    assertThat(history.itemIds()).hasSize(OnlineState.HISTORY_CAP);
    assertThat(history.itemIds().get(0)).isEqualTo(items.get(304));
    assertThat(history.itemIds()).doesNotContain(items.get(0), items.get(4));
  }

  // ---- listeners ----

  @Test
  void aFailingListenerNeverFailsTheRequest() {
    User u = user();
    String id = Long.toString(u.id());
    EventListener failing = (userId, events) -> {
      if (userId.equals(id)) {
        throw new IllegalStateException("boom");
      }
      return Future.succeededFuture();
    };
    EventListener failedFuture = (userId, events) -> userId.equals(id) ? Future.failedFuture("also boom")
        : Future.succeededFuture();
    WxmpServer.Events events = stack.server().events();
    events.listeners().add(failing).add(failedFuture);
    Reply r = post(u, event(item, "click").put("id", "x1"), event(item, "click").put("id", "x1"));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    assertThat(r.json()).isEqualTo(new JsonObject().put("accepted", 1).put("duplicates", 1));
    // the others still heard it, once, with the new event only
    assertThat(heard.get(id)).hasSize(1);
    assertThat(heard.get(id).get(0)).hasSize(1);
    assertThat(heard.get(id).get(0).get(0).type()).isEqualTo("click");
    assertThat(heard.get(id).get(0).get(0).itemId()).isEqualTo(item);
  }

  // ---- quiz answers ----

  @Test
  void quizAnswersReachTheInterestTags() {
    User u = user();
    String quizTag = "quiz-" + UUID.randomUUID().toString().substring(0, 6);
    JsonObject body = new JsonObject().put("title", "Tea").put("timeLimitSec", 60).put("maxAttempts", 1)
        .put("pointsPerCorrect", 1).put("status", "published").put("questions", new JsonArray().add(new JsonObject()
            .put("text", "Q").put("tags", new JsonArray().add(quizTag)).put("choices", new JsonArray()
                .add(new JsonObject().put("text", "A").put("correct", true))
                .add(new JsonObject().put("text", "B").put("correct", false)))));
    JsonObject quiz = stack.api.post("/api/v1/admin/quizzes", merchant.owner(), body).json();
    String quizId = quiz.getString("id");
    JsonObject question = quiz.getJsonArray("questions").getJsonObject(0);
    String attempt = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", u.token(), null).json()
        .getString("attemptId");
    Reply submit = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts/" + attempt + "/submit", u.token(),
        new JsonObject().put("answers", new JsonArray().add(new JsonObject()
            .put("questionId", question.getString("id"))
            .put("choiceId", question.getJsonArray("choices").getJsonObject(0).getString("id")))));
    assertThat(submit.status()).as(submit.toString()).isEqualTo(200);
    assertThat(await(online().recentTags(Long.toString(u.id())))).contains(quizTag);
  }

  // ---- maintenance ----

  @Test
  void maintenanceMakesPartitionsAndDropsWhatIsPastRetention() {
    long old = stack.count("INSERT INTO events (user_id, item_id, type, at) VALUES (1, 1, 'click', "
        + "now() - interval '400 days') RETURNING id", Tuple.tuple());
    long kept = stack.count("INSERT INTO events (user_id, item_id, type, at) VALUES (1, 1, 'click', "
        + "now() - interval '2 days') RETURNING id", Tuple.tuple());
    stack.sql("INSERT INTO event_ids (user_id, client_id, seen_at) VALUES (1, $1, now() - interval '9 days'), "
        + "(1, $2, now())", Tuple.of("stale-" + old, "fresh-" + old));
    WxmpServer.Events events = stack.server().events();
    // the server's own timer may be running a pass right now (the lease then answers null): run until one ran here
    TestStack.eventually("a maintenance pass", 20_000, () -> await(events.maintenance().runOnce()) != null);
    assertThat(stack.count("SELECT count(*) FROM events WHERE id = $1", Tuple.of(old))).isZero();
    assertThat(stack.count("SELECT count(*) FROM events WHERE id = $1", Tuple.of(kept))).isEqualTo(1);
    assertThat(stack.count("SELECT count(*) FROM event_ids WHERE client_id = $1", Tuple.of("stale-" + old))).isZero();
    assertThat(stack.count("SELECT count(*) FROM event_ids WHERE client_id = $1", Tuple.of("fresh-" + old)))
        .isEqualTo(1);
    // this month and the next two have their partitions; the default partition holds nothing
    String next = OffsetDateTime.now(ZoneOffset.UTC).plusMonths(2).format(java.time.format.DateTimeFormatter
        .ofPattern("yyyyMM"));
    assertThat(stack.count("SELECT count(*) FROM pg_class WHERE relname = $1", Tuple.of("events_p" + next)))
        .isEqualTo(1);
    assertThat(stack.count("SELECT count(*) FROM events_default", Tuple.tuple())).isZero();

    // a month with no partition yet: its rows wait in the default partition and move when the partition is made
    OffsetDateTime later = OffsetDateTime.now(ZoneOffset.UTC).plusMonths(5);
    long waiting = stack.count("INSERT INTO events (user_id, item_id, type, at) VALUES (1, 1, 'click', $1) "
        + "RETURNING id", Tuple.of(later));
    assertThat(stack.count("SELECT count(*) FROM events_default WHERE id = $1", Tuple.of(waiting))).isEqualTo(1);
    assertThat(stack.sql("SELECT events_ensure_partition($1)", Tuple.of(later.toLocalDate())).iterator().next()
        .getBoolean(0)).isTrue();
    String month = "events_p" + later.format(java.time.format.DateTimeFormatter.ofPattern("yyyyMM"));
    assertThat(stack.count("SELECT count(*) FROM events_default", Tuple.tuple())).isZero();
    assertThat(stack.count("SELECT count(*) FROM " + month + " WHERE id = $1", Tuple.of(waiting))).isEqualTo(1);
    stack.sql("SELECT events_drop_partitions_before($1)", Tuple.of(OffsetDateTime.now().minusYears(50)));
  }
}
