package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.feed.FeedExperiments;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.handlers.platform.ExperimentRepository;
import io.wxmp.handlers.platform.Experiments;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /platform/experiments*}: the operators' routes and their rules, the user's arm (stable across requests and
 * across two instances, shares within tolerance over 10,000 users, carried in the feed's tokens), and the results'
 * arithmetic against a hand-computed example, with a conversion from a real paid order.
 */
class ExperimentsTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static String operator;
  static byte[] key;
  static Vertx otherVertx;
  static Pool otherPool;
  /** A second "server": its own Vert.x, pool and experiments component on the shared database. */
  static Experiments other;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    operator = CampaignFixtures.operatorToken(stack);
    key = io.wxmp.server.WxmpServer.feedTokenKey(io.wxmp.server.Settings.of(stack.settings));
    otherVertx = Vertx.vertx();
    otherPool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
        .connectingTo(PgConnectOptions.fromUri(stack.settings.get("WXMP_PG_URL"))).using(otherVertx).build();
    other = new Experiments(new ExperimentRepository(otherPool), Clock.systemUTC());
    // another test may have put a stand-in in front of the feed; the server's own experiments decide here
    stack.server().feed().useExperiments(stack.server().experiments());
  }

  @AfterAll
  static void stop() throws Exception {
    stopRunning();
    otherPool.close().await(10, TimeUnit.SECONDS);
    otherVertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void noneRuns() {
    stopRunning();
  }

  static void stopRunning() {
    for (Row r : stack.sql("SELECT id FROM experiments WHERE status = 'running'", Tuple.tuple())) {
      Reply stopped = stack.api.patch("/api/v1/platform/experiments/" + r.getLong(0), operator,
          new JsonObject().put("status", "stopped"));
      assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
    }
  }

  static JsonObject arm(String name, double share, JsonObject params) {
    return new JsonObject().put("name", name).put("share", share).put("params", params);
  }

  static JsonObject body(String status, JsonObject... arms) {
    return new JsonObject().put("name", "Experiment " + UUID.randomUUID()).put("arms", new JsonArray(List.of(arms)))
        .put("status", status);
  }

  static JsonObject create(JsonObject body) {
    Reply r = stack.api.post("/api/v1/platform/experiments", operator, body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ---- routes and rules ----

  @Test
  void operatorsCreateListReadEditStartAndStop() {
    JsonObject made = create(body("draft", arm("control", 0.5, new JsonObject()),
        arm("diverse", 0.5, new JsonObject().put("mmrLambda", 0.4).put("explorationShare", 0.2)
            .put("fatigueImpressions", 5).put("modelVersion", "v-test").put("sponsoredSlots", false))));
    String id = made.getString("id");
    assertThat(made.getString("status")).isEqualTo("draft");
    assertThat(made.getString("startedAt")).isNull();
    JsonObject diverse = made.getJsonArray("arms").getJsonObject(1).getJsonObject("params");
    assertThat(diverse.getDouble("mmrLambda")).isEqualTo(0.4);
    assertThat(diverse.getBoolean("sponsoredSlots")).isFalse();
    assertThat(diverse.getString("modelVersion")).isEqualTo("v-test");
    // the defaults fill what an arm does not set
    assertThat(made.getJsonArray("arms").getJsonObject(0).getJsonObject("params").getDouble("mmrLambda"))
        .isEqualTo(0.7);
    assertThat(made.containsKey("salt")).isFalse();

    Reply read = stack.api.get("/api/v1/platform/experiments/" + id, operator);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.json().getString("name")).isEqualTo(made.getString("name"));
    Reply list = stack.api.get("/api/v1/platform/experiments?limit=50", operator);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().getJsonArray("items").stream().map(e -> ((JsonObject) e).getString("id")))
        .contains(id);
    assertThat(list.json().containsKey("nextCursor")).isTrue();

    // a draft's arms may change; then it starts
    Reply edited = stack.api.patch("/api/v1/platform/experiments/" + id, operator, new JsonObject()
        .put("arms", new JsonArray().add(arm("control", 0.7, null)).add(arm("diverse", 0.3,
            new JsonObject().put("mmrLambda", 0.4)))));
    assertThat(edited.status()).as(edited.toString()).isEqualTo(200);
    assertThat(edited.json().getJsonArray("arms").getJsonObject(0).getDouble("share")).isEqualTo(0.7);
    Reply started = stack.api.patch("/api/v1/platform/experiments/" + id, operator,
        new JsonObject().put("status", "running"));
    assertThat(started.status()).isEqualTo(200);
    assertThat(started.json().getString("startedAt")).isNotNull();

    // running: arms are frozen, a second one cannot run, the name may change
    Reply frozen = stack.api.patch("/api/v1/platform/experiments/" + id, operator, new JsonObject()
        .put("arms", new JsonArray().add(arm("control", 0.5, null)).add(arm("diverse", 0.5, null))));
    assertThat(frozen.status()).isEqualTo(409);
    Reply second = stack.api.post("/api/v1/platform/experiments", operator,
        body("running", arm("a", 0.5, null), arm("b", 0.5, null)));
    assertThat(second.status()).isEqualTo(409);
    assertThat(second.json().getJsonObject("error").getString("code")).isEqualTo("experiment_running");
    assertThat(stack.api.patch("/api/v1/platform/experiments/" + id, operator,
        new JsonObject().put("name", "Renamed")).json().getString("name")).isEqualTo("Renamed");

    Reply stopped = stack.api.patch("/api/v1/platform/experiments/" + id, operator,
        new JsonObject().put("status", "stopped"));
    assertThat(stopped.status()).isEqualTo(200);
    assertThat(stopped.json().getString("stoppedAt")).isNotNull();
    assertThat(stack.api.patch("/api/v1/platform/experiments/" + id, operator,
        new JsonObject().put("status", "running")).status()).isEqualTo(409);
    assertThat(stack.api.get("/api/v1/platform/experiments/999999999", operator).status()).isEqualTo(404);
    assertThat(stack.api.get("/openapi.yaml", null).raw().toString()).contains("/platform/experiments/{id}/results")
        .contains("operationId: createExperiment").contains("operationId: updateExperiment");

    // every write is the operator's, in the audit log
    List<String> actions = new ArrayList<>();
    stack.sql("SELECT action FROM audit_log WHERE target_type = 'experiment' AND target_id = $1 "
        + "AND actor_kind = 'operator' ORDER BY id", Tuple.of(id)).forEach(r -> actions.add(r.getString(0)));
    assertThat(actions).containsExactly("experiment.create", "experiment.update", "experiment.update",
        "experiment.update", "experiment.update");
    // the refused writes left no entry and changed nothing
    assertThat(stack.api.get("/api/v1/platform/experiments/" + id, operator).json().getJsonArray("arms")
        .getJsonObject(0).getDouble("share")).isEqualTo(0.7);
  }

  @Test
  void badBodiesNameTheirFieldsAndOnlyOperatorsGetIn() {
    long before = stack.count("SELECT count(*) FROM experiments", Tuple.tuple());
    Reply sum = stack.api.post("/api/v1/platform/experiments", operator,
        body("draft", arm("a", 0.5, null), arm("b", 0.4, null)));
    assertThat(sum.status()).isEqualTo(400);
    assertThat(sum.json().getJsonObject("error").getJsonObject("fields").containsKey("arms")).isTrue();
    Reply bad = stack.api.post("/api/v1/platform/experiments", operator, new JsonObject().put("name", "")
        .put("arms", new JsonArray().add(arm("a", 1.5, null)).add(arm("a", 0.2,
            new JsonObject().put("mmrLambda", 2).put("colour", "red")))).put("status", "stopped"));
    assertThat(bad.status()).isEqualTo(400);
    JsonObject fields = bad.json().getJsonObject("error").getJsonObject("fields");
    assertThat(fields.fieldNames()).contains("name", "arms[0].share", "arms[1].name", "arms[1].params.colour",
        "status");
    Reply one = stack.api.post("/api/v1/platform/experiments", operator, body("draft", arm("only", 1, null)));
    assertThat(one.status()).isEqualTo(400);
    assertThat(stack.count("SELECT count(*) FROM experiments", Tuple.tuple())).isEqualTo(before);

    JsonObject ok = body("draft", arm("a", 0.5, null), arm("b", 0.5, null));
    assertThat(stack.api.post("/api/v1/platform/experiments", stack.newUserToken(), ok).status()).isEqualTo(401);
    assertThat(stack.api.post("/api/v1/platform/experiments", merchant.owner(), ok).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/platform/experiments", null).status()).isEqualTo(401);
    assertThat(stack.count("SELECT count(*) FROM experiments", Tuple.tuple())).isEqualTo(before);
  }

  // ---- assignment ----

  @Test
  void aUsersArmIsStableAcrossRequestsAndServersAndSharesHoldOverTenThousandUsers() {
    JsonObject made = create(body("running", arm("control", 0.5, null),
        arm("mmr", 0.3, new JsonObject().put("mmrLambda", 0.5)),
        arm("noads", 0.2, new JsonObject().put("sponsoredSlots", false))));
    String id = made.getString("id");
    Experiments here = stack.server().experiments();
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 10_000; i++) {
      String user = Long.toString(7_000_000_000L + i);
      FeedExperiments.Arm a = await(here.armFor(user));
      assertThat(a.experimentId()).isEqualTo(id);
      assertThat(await(here.armFor(user)).arm()).isEqualTo(a.arm());
      assertThat(await(other.armFor(user)).arm()).as("user " + user + " on the other server").isEqualTo(a.arm());
      counts.merge(a.arm(), 1, Integer::sum);
    }
    // binomial sd at n = 10,000 is at most 0.005: 0.02 is four of them
    assertThat(counts.get("control") / 10_000.0).isCloseTo(0.5, within(0.02));
    assertThat(counts.get("mmr") / 10_000.0).isCloseTo(0.3, within(0.02));
    assertThat(counts.get("noads") / 10_000.0).isCloseTo(0.2, within(0.02));
    // the arm's parameters come with it
    String noadsUser = null;
    for (int i = 0; noadsUser == null; i++) {
      String user = Long.toString(7_000_000_000L + i);
      if (await(other.armFor(user)).arm().equals("noads")) {
        noadsUser = user;
      }
    }
    assertThat(await(here.armFor(noadsUser)).params().sponsoredSlots()).isFalse();

    // through the feed: every token of every page carries the user's arm, page after page, feed after feed
    for (int i = 0; i < 3; i++) {
      CampaignFixtures.publishedItem(stack, merchant, List.of("experiment"));
    }
    try {
      stack.server().feed().refresh().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    Reply login = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    String token = login.json().getString("token");
    String userId = login.json().getJsonObject("user").getString("id");
    String expected = await(other.armFor(userId)).arm();
    assertThat(await(here.armFor(userId)).arm()).isEqualTo(expected); // (and the server has it at hand)
    int tokens = 0;
    for (int request = 0; request < 3; request++) {
      Reply feed = stack.api.get("/api/v1/feed?limit=5", token);
      assertThat(feed.status()).as(feed.toString()).isEqualTo(200);
      for (Object o : feed.json().getJsonArray("items")) {
        FeedToken t = FeedToken.verify(((JsonObject) o).getString("token"), key);
        assertThat(t).isNotNull();
        assertThat(t.experimentId()).isEqualTo(id);
        assertThat(t.arm()).isEqualTo(expected);
        tokens++;
      }
    }
    assertThat(tokens).isPositive();
  }

  // ---- results ----

  /** {@code n} impressions over {@code users} users (round robin), the first {@code clicks} of them clicked. */
  static void plant(String experimentId, String arm, long firstUser, int users, int n, int clicks, String itemId) {
    Map<String, List<EventListener.Accepted>> byUser = new HashMap<>();
    for (int i = 0; i < n; i++) {
      String user = Long.toString(firstUser + i % users);
      FeedToken t = new FeedToken(FeedToken.newTokenId(), user, itemId, i % 20, "trending", null, experimentId, arm,
          null, System.currentTimeMillis());
      List<EventListener.Accepted> events = byUser.computeIfAbsent(user, u -> new ArrayList<>());
      events.add(new EventListener.Accepted(i, user, itemId, "impression", Instant.now(), t, null));
      if (i < clicks) {
        events.add(new EventListener.Accepted(i, user, itemId, "click", Instant.now(), t, null));
        // a retried click of the same token counts once
        events.add(new EventListener.Accepted(i, user, itemId, "click", Instant.now(), t, null));
      }
    }
    byUser.forEach((user, events) -> await(stack.server().experiments().onAccepted(user, events)));
  }

  @Test
  void resultsMatchAHandComputedExample() {
    JsonObject made = create(body("running", arm("a", 0.4, null), arm("b", 0.4,
        new JsonObject().put("mmrLambda", 0.5)), arm("c", 0.2, new JsonObject().put("explorationShare", 0.3))));
    String id = made.getString("id");
    String item = CampaignFixtures.publishedItem(stack, merchant, List.of("experiment"));

    // one real user of arm b: an impression and a click through POST /events, then a paid order of the item
    Reply login = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    String userToken = login.json().getString("token");
    String userId = login.json().getJsonObject("user").getString("id");
    String served = new FeedToken(FeedToken.newTokenId(), userId, item, 3, "trending", null, id, "b", null,
        System.currentTimeMillis()).sign(key);
    JsonArray events = new JsonArray();
    for (String type : List.of("impression", "click")) {
      events.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("itemId", item).put("type", type)
          .put("token", served));
    }
    assertThat(stack.api.post("/api/v1/events", userToken, new JsonObject().put("events", events)).status())
        .isEqualTo(202);
    TestStack.eventually("the real user's events are recorded", 10_000, () -> stack.count(
        "SELECT count(*) FROM experiment_events WHERE experiment_id = $1 AND user_id = $2",
        Tuple.of(Long.parseLong(id), Long.parseLong(userId))) == 2);
    Reply order = stack.api.post("/api/v1/orders", userToken, new JsonObject().put("itemId", item));
    assertThat(order.status()).as(order.toString()).isEqualTo(201);
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1",
        Tuple.of(Long.parseLong(order.json().getString("id")))).iterator().next().getString(0);
    stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo));
    TestStack.eventually("paid", 15_000, () -> stack.count("SELECT count(*) FROM orders WHERE out_trade_no = $1 "
        + "AND status = 'paid'", Tuple.of(outTradeNo)) == 1);

    // the rest: a 100 of 1,000 over 100 users; b 130 of 1,000 over 100 users (with the real one); c 60 of 800 over 80
    long base = 6_000_000_000L + (System.nanoTime() % 1_000_000) * 1_000;
    plant(id, "a", base, 100, 1_000, 100, item);
    plant(id, "b", base + 200, 99, 999, 129, item);
    plant(id, "c", base + 400, 80, 800, 60, item);

    Reply r = stack.api.get("/api/v1/platform/experiments/" + id + "/results", operator);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonArray arms = r.json().getJsonArray("arms");
    assertThat(arms).hasSize(3);
    JsonObject a = arms.getJsonObject(0);
    JsonObject b = arms.getJsonObject(1);
    JsonObject c = arms.getJsonObject(2);
    assertThat(List.of(a.getString("name"), b.getString("name"), c.getString("name"))).containsExactly("a", "b", "c");
    assertThat(List.of(a.getLong("users"), a.getLong("impressions"), a.getLong("clicks"), a.getLong("conversions")))
        .containsExactly(100L, 1000L, 100L, 0L);
    assertThat(List.of(b.getLong("users"), b.getLong("impressions"), b.getLong("clicks"), b.getLong("conversions")))
        .containsExactly(100L, 1000L, 130L, 1L);
    assertThat(List.of(c.getLong("users"), c.getLong("impressions"), c.getLong("clicks"), c.getLong("conversions")))
        .containsExactly(80L, 800L, 60L, 0L);
    assertThat(a.getDouble("ctr")).isCloseTo(0.1, within(1e-12));
    assertThat(b.getDouble("ctr")).isCloseTo(0.13, within(1e-12));
    assertThat(c.getDouble("ctr")).isCloseTo(0.075, within(1e-12));

    // by hand, b against a: d = 0.13 - 0.10 = 0.03; SE = sqrt(0.1*0.9/1000 + 0.13*0.87/1000) = sqrt(0.0002031)
    // = 0.0142513, so the 95 % interval is 0.03 -+ 1.96 * 0.0142513 = [0.002068, 0.057932]; pooled p = 230/2000
    // = 0.115, SE0 = sqrt(0.115*0.885*(2/1000)) = 0.0142671, z = 2.10274, two-sided p = 0.035488
    JsonObject db = b.getJsonObject("ctrDelta");
    assertThat(db.getDouble("value")).isCloseTo(0.03, within(1e-9));
    assertThat(db.getJsonArray("ci95").getDouble(0)).isCloseTo(0.002068, within(1e-6));
    assertThat(db.getJsonArray("ci95").getDouble(1)).isCloseTo(0.057932, within(1e-6));
    assertThat(db.getDouble("pValue")).isCloseTo(0.035488, within(1e-5));
    // c against a: d = 0.075 - 0.1 = -0.025; SE = sqrt(0.00009 + 0.075*0.925/800) = 0.0132932, interval
    // [-0.051055, 0.001055]; pooled 160/1800, SE0 = 0.0134990, z = -1.85199, p = 0.064027
    JsonObject dc = c.getJsonObject("ctrDelta");
    assertThat(dc.getDouble("value")).isCloseTo(-0.025, within(1e-9));
    assertThat(dc.getJsonArray("ci95").getDouble(0)).isCloseTo(-0.051055, within(1e-6));
    assertThat(dc.getJsonArray("ci95").getDouble(1)).isCloseTo(0.001055, within(1e-6));
    assertThat(dc.getDouble("pValue")).isCloseTo(0.064027, within(1e-5));
    // the first arm against itself
    JsonObject da = a.getJsonObject("ctrDelta");
    assertThat(da.getDouble("value")).isZero();
    assertThat(da.getDouble("pValue")).isEqualTo(1.0);
  }
}
