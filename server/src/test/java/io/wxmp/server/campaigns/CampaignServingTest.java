package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.campaigns.Budgets;
import io.wxmp.handlers.campaigns.Campaigns;
import io.wxmp.handlers.campaigns.Pacing;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.feed.FeedParams;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.handlers.feed.SponsoredSlots;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Serving and billing through the feed's {@link SponsoredSlots} and the events' {@link EventListener}, against the
 * real PostgreSQL and Redis of the test stack, on two independent instances (each its own Vert.x, pool and Redis
 * client, as two servers would be) and with a clock the test moves: targeting, caps, budgets under concurrency,
 * pacing, exactly-once billing and the Redis cache rebuilt from the ledger.
 */
class CampaignServingTest {
  static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
  static final AtomicLong USERS = new AtomicLong(9_000_000_000L + (System.nanoTime() % 1_000_000) * 1000);
  static TestStack stack;
  static TestStack.Merchant merchant;
  static Instance one;
  static Instance two;
  static ControlledClock clock;

  /** One "server": its own Vert.x, pool, Redis client and campaigns component, on the shared databases. */
  record Instance(Vertx vertx, Pool pg, Redis redisClient, RedisAPI redis, Campaigns campaigns) {
    static Instance start(TestStack stack, java.time.Clock clock) {
      Vertx vertx = Vertx.vertx();
      Pool pg = PgBuilder.pool().with(new PoolOptions().setMaxSize(8))
          .connectingTo(PgConnectOptions.fromUri(stack.settings.get("WXMP_PG_URL"))).using(vertx).build();
      Redis client = Redis.createClient(vertx, new io.vertx.redis.client.RedisOptions()
          .setConnectionString(stack.settings.get("WXMP_REDIS_URL")).setMaxPoolSize(16).setMaxPoolWaiting(1000));
      RedisAPI redis = RedisAPI.api(client);
      return new Instance(vertx, pg, client, redis, new Campaigns(pg, redis, clock,
          new Campaigns.Config(60_000, 5_000)));
    }

    void close() throws Exception {
      redisClient.close();
      pg.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    clock = new ControlledClock(Instant.now());
    one = Instance.start(stack, clock);
    two = Instance.start(stack, clock);
  }

  @AfterAll
  static void stop() throws Exception {
    CampaignFixtures.endCampaigns(stack, "merchant_id = $1", Tuple.of(merchant.id()));
    one.close();
    two.close();
  }

  @BeforeEach
  void onlyThisTestsCampaignsRun() {
    clock.set(Instant.now());
    CampaignFixtures.endCampaigns(stack, "status <> 'ended'", Tuple.tuple());
  }

  // ---- fixtures ----

  static long newUser() {
    return USERS.incrementAndGet();
  }

  static String campaign(JsonObject body) {
    Reply r = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body.put("status", "active")
        .put("startAt", clock.instant().minus(Duration.ofDays(1)).toString()));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static String campaign(String model, long bid, long total, long daily) {
    String item = CampaignFixtures.publishedItem(stack, merchant, List.of("tea"));
    return campaign(CampaignFixtures.campaignBody(item, model, bid, total, daily));
  }

  static SponsoredSlots.Request ask(long user, boolean personalised, Set<String> tags, Instant joined) {
    return new SponsoredSlots.Request(Long.toString(user), personalised, tags, joined, null, Set.of(), 20,
        FeedParams.defaults());
  }

  static SponsoredSlots.Request ask(long user) {
    return ask(user, true, Set.of(), clock.instant().minus(Duration.ofDays(30)));
  }

  static List<SponsoredSlots.Entry> fill(Instance at, SponsoredSlots.Request request) {
    try {
      return at.campaigns().slots().fill(request).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static FeedToken token(long user, SponsoredSlots.Entry e) {
    return new FeedToken(FeedToken.newTokenId(), Long.toString(user), e.itemId(), e.position(), "sponsored",
        e.campaignId(), null, null, null, clock.millis());
  }

  static void send(Instance at, long user, String type, FeedToken token, String itemId) {
    EventListener.Accepted event = new EventListener.Accepted(System.nanoTime(), Long.toString(user), itemId, type,
        clock.instant(), token, null);
    try {
      at.campaigns().listener().onAccepted(Long.toString(user), List.of(event)).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static long ledgerSpend(String campaign) {
    return stack.count("SELECT coalesce(sum(cost_millifen), 0) FROM campaign_ledger WHERE campaign_id = $1",
        Tuple.of(Long.parseLong(campaign)));
  }

  static long ledgerRows(String campaign, String type) {
    return stack.count("SELECT count(*) FROM campaign_ledger WHERE campaign_id = $1 AND event_type = $2",
        Tuple.of(Long.parseLong(campaign), type));
  }

  static boolean serves(List<SponsoredSlots.Entry> entries, String campaign) {
    return entries.stream().anyMatch(e -> e.campaignId().equals(campaign));
  }

  // ---- targeting ----

  @Test
  void targetingMatchesInterestsAndNewUsers() {
    String tea = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 900, 10_000, 10_000).put("targeting", new JsonObject().put("tags", new JsonArray().add("tea"))));
    String fresh = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 800, 10_000, 10_000).put("targeting", new JsonObject().put("newUsersOnly", true)));
    Instant old = clock.instant().minus(Duration.ofDays(30));
    Instant recent = clock.instant().minus(Duration.ofDays(2));

    List<SponsoredSlots.Entry> teaLover = fill(one, ask(newUser(), true, Set.of("tea", "history"), old));
    assertThat(serves(teaLover, tea)).isTrue();
    assertThat(serves(teaLover, fresh)).isFalse();

    List<SponsoredSlots.Entry> coffee = fill(one, ask(newUser(), true, Set.of("coffee"), old));
    assertThat(coffee).isEmpty();

    List<SponsoredSlots.Entry> newcomer = fill(one, ask(newUser(), true, Set.of("tea"), recent));
    assertThat(newcomer).extracting(SponsoredSlots.Entry::campaignId).containsExactly(tea, fresh);
    assertThat(newcomer).extracting(SponsoredSlots.Entry::position).containsExactly(2, 12);

    // personalisation off: no history-based tags, only newUsersOnly
    List<SponsoredSlots.Entry> privateNewcomer = fill(one, ask(newUser(), false, Set.of("tea"), recent));
    assertThat(privateNewcomer).extracting(SponsoredSlots.Entry::campaignId).containsExactly(fresh);
    assertThat(fill(one, ask(newUser(), false, Set.of("tea"), old))).isEmpty();

    // an arm with sponsored slots off, a small page, an item the user already has in the page
    FeedParams off = new FeedParams(0.7, 0.1, 3, null, false, 3);
    assertThat(fill(one, new SponsoredSlots.Request(Long.toString(newUser()), true, Set.of("tea"), recent, null,
        Set.of(), 20, off))).isEmpty();
    assertThat(fill(one, new SponsoredSlots.Request(Long.toString(newUser()), true, Set.of("tea"), recent, null,
        Set.of(), 10, FeedParams.defaults()))).hasSize(1);
    String teaItem = teaLover.get(0).itemId();
    assertThat(fill(one, new SponsoredSlots.Request(Long.toString(newUser()), true, Set.of("tea"), recent, null,
        Set.of(teaItem), 20, FeedParams.defaults()))).extracting(SponsoredSlots.Entry::campaignId)
        .containsExactly(fresh);
  }

  @Test
  void itemsTheUserHasAreNotPromotedToThem() {
    String c = campaign("cpm", 1_000, 10_000, 10_000);
    String item = stack.sql("SELECT item_id FROM campaigns WHERE id = $1", Tuple.of(Long.parseLong(c))).iterator()
        .next().getLong(0).toString();
    // a real user whose membership of the merchant opens the promoted (paid) item
    Reply login = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    long member = Long.parseLong(login.json().getJsonObject("user").getString("id"));
    stack.sql("INSERT INTO memberships (user_id, merchant_id, member_until) VALUES ($1, $2, $3)",
        Tuple.of(member, merchant.id(), java.time.OffsetDateTime.now().plusDays(30)));
    Instant old = clock.instant().minus(Duration.ofDays(30));

    assertThat(serves(fill(one, ask(member)), c)).isFalse(); // serving reads what the user has
    // the feed says what the user has: the same answers without that read
    assertThat(serves(fill(two, new SponsoredSlots.Request(Long.toString(member), true, Set.of(), old, null, Set.of(),
        20, FeedParams.defaults(), Set.of(), Set.of(Long.toString(merchant.id())))), c)).isFalse();
    assertThat(serves(fill(two, new SponsoredSlots.Request(Long.toString(newUser()), true, Set.of(), old, null,
        Set.of(), 20, FeedParams.defaults(), Set.of(item), Set.of())), c)).isFalse();
    assertThat(serves(fill(two, new SponsoredSlots.Request(Long.toString(newUser()), true, Set.of(), old, null,
        Set.of(), 20, FeedParams.defaults(), Set.of(), Set.of())), c)).isTrue();
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
  }

  @Test
  void neverMoreThanTwoPerPageRankedByExpectedValue() {
    String cheapCpm = campaign("cpm", 100, 10_000, 10_000);   // 0.1 fen per impression
    String richCpm = campaign("cpm", 3_000, 10_000, 10_000);  // 3 fen per impression
    String cpc = campaign("cpc", 50, 10_000, 10_000);         // 50 fen x 2 % prior = 1 fen per impression
    List<SponsoredSlots.Entry> page = fill(one, ask(newUser()));
    assertThat(page).extracting(SponsoredSlots.Entry::campaignId).containsExactly(richCpm, cpc);
    assertThat(serves(page, cheapCpm)).isFalse();
  }

  @Test
  void pausedLeavesTheFeedAtOnce() {
    String c = campaign("cpm", 1_000, 10_000, 10_000);
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
    Reply paused = stack.api.patch("/api/v1/admin/campaigns/" + c, merchant.editor(),
        new JsonObject().put("status", "paused"));
    assertThat(paused.status()).isEqualTo(200);
    assertThat(serves(fill(one, ask(newUser())), c)).isFalse();
    assertThat(serves(fill(two, ask(newUser())), c)).isFalse();
    stack.api.patch("/api/v1/admin/campaigns/" + c, merchant.editor(), new JsonObject().put("status", "active"));
    assertThat(serves(fill(two, ask(newUser())), c)).isTrue();
  }

  /**
   * A page with nothing to reserve checks the campaigns' version with a plain GET instead of the reservation script:
   * a campaign started (on another server: the stack's API) a moment after such pages is served by the next page.
   */
  @Test
  void aCampaignStartedAMomentAgoIsServedByServersThatHadNothingToReserve() {
    Instant old = clock.instant().minus(Duration.ofDays(30));
    // no campaign runs
    assertThat(fill(one, ask(newUser()))).isEmpty();
    assertThat(fill(two, ask(newUser()))).isEmpty();
    String c = campaign("cpm", 1_000, 10_000, 10_000);
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
    assertThat(serves(fill(two, ask(newUser())), c)).isTrue();

    // campaigns run, none for this user (a tag they do not have)
    CampaignFixtures.endCampaigns(stack, "id = $1", Tuple.of(Long.parseLong(c)));
    String tea = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 900, 10_000, 10_000).put("targeting", new JsonObject().put("tags", new JsonArray().add("tea"))));
    assertThat(fill(one, ask(newUser(), true, Set.of("coffee"), old))).isEmpty();
    assertThat(fill(two, ask(newUser(), true, Set.of("coffee"), old))).isEmpty();
    String coffee = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 800, 10_000, 10_000).put("targeting", new JsonObject().put("tags", new JsonArray().add("coffee"))));
    for (Instance at : List.of(two, one)) {
      List<SponsoredSlots.Entry> page = fill(at, ask(newUser(), true, Set.of("coffee"), old));
      assertThat(page).extracting(SponsoredSlots.Entry::campaignId).containsExactly(coffee);
      assertThat(serves(page, tea)).isFalse();
    }
  }

  /**
   * Through the stack's own feed, whose pages read the campaigns' version with the session (one pipelined batch) and
   * skip the check when there is nothing to reserve and their copy is at that version: a campaign started after one
   * such page is on the next.
   */
  @Test
  void aFeedPageAfterACampaignStartsServesIt() throws Exception {
    String item = CampaignFixtures.publishedItem(stack, merchant, List.of("tea"));
    stack.server().feed().refresh().await(30, TimeUnit.SECONDS); // the item in the feed's catalogue copy
    String token = stack.newUserToken();
    for (int i = 0; i < 2; i++) { // the first page makes the server know the token's owner: the second is batched
      Reply page = stack.api.get("/api/v1/feed?limit=20", token);
      assertThat(page.status()).as(page.toString()).isEqualTo(200);
      assertThat(sponsoredIn(page)).isEmpty();
    }
    String c = campaign(CampaignFixtures.campaignBody(item, "cpm", 1_000, 10_000, 10_000));
    Reply page = stack.api.get("/api/v1/feed?limit=20", token);
    assertThat(page.status()).as(page.toString()).isEqualTo(200);
    assertThat(sponsoredIn(page)).containsExactly(c);
  }

  static List<String> sponsoredIn(Reply page) {
    List<String> out = new ArrayList<>();
    page.json().getJsonArray("items").forEach(i -> {
      JsonObject item = (JsonObject) i;
      if (item.getBoolean("sponsored", false)) {
        out.add(item.getString("campaignId"));
      }
    });
    return out;
  }

  @Test
  void aSuspendedMerchantsCampaignLeavesTheFeedUntilReactivated() {
    TestStack.Merchant shop = stack.newMerchant();
    String item = CampaignFixtures.publishedItem(stack, shop, List.of("tea"));
    Reply made = stack.api.post("/api/v1/admin/campaigns", shop.owner(),
        CampaignFixtures.campaignBody(item, "cpm", 1_000, 10_000, 10_000).put("status", "active")
            .put("startAt", clock.instant().minus(Duration.ofDays(1)).toString()));
    assertThat(made.status()).as(made.toString()).isEqualTo(201);
    String c = made.json().getString("id");
    String other = campaign("cpm", 500, 10_000, 10_000);
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();

    String operator = CampaignFixtures.operatorToken(stack);
    Reply suspended = stack.api.patch("/api/v1/platform/merchants/" + shop.id(), operator,
        new JsonObject().put("status", "suspended"));
    assertThat(suspended.status()).as(suspended.toString()).isEqualTo(200);
    for (Instance at : List.of(one, two)) {
      List<SponsoredSlots.Entry> page = fill(at, ask(newUser()));
      assertThat(serves(page, c)).isFalse();
      assertThat(serves(page, other)).isTrue(); // the other merchants' campaigns still run
    }
    // nothing about the campaign itself changed
    assertThat(stack.sql("SELECT status FROM campaigns WHERE id = $1", Tuple.of(Long.parseLong(c))).iterator().next()
        .getString(0)).isEqualTo("active");

    Reply reactivated = stack.api.patch("/api/v1/platform/merchants/" + shop.id(), operator,
        new JsonObject().put("status", "active"));
    assertThat(reactivated.status()).as(reactivated.toString()).isEqualTo(200);
    assertThat(serves(fill(two, ask(newUser())), c)).isTrue();
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
  }

  // ---- caps and budgets ----

  @Test
  void frequencyCapHoldsUnderFiftyConcurrentPagesOfOneUser() throws Exception {
    String c = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 1_000, 100_000, 100_000).put("frequencyCap", new JsonObject().put("impressions", 3).put("perHours", 24)));
    long user = newUser();
    List<Future<List<SponsoredSlots.Entry>>> pages = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      pages.add((i % 2 == 0 ? one : two).campaigns().slots().fill(ask(user)));
    }
    Future.all(pages).await(60, TimeUnit.SECONDS);
    List<SponsoredSlots.Entry> served = pages.stream().flatMap(f -> f.result().stream())
        .filter(e -> e.campaignId().equals(c)).toList();
    assertThat(served).hasSize(3);

    // the impressions come: still capped; and the cap counts the impressions, not the pages, once they lapse
    for (SponsoredSlots.Entry e : served) {
      send(one, user, "impression", token(user, e), e.itemId());
    }
    assertThat(ledgerRows(c, "impression")).isEqualTo(3);
    assertThat(serves(fill(one, ask(user)), c)).isFalse();
    clock.advance(Duration.ofMinutes(30));
    assertThat(serves(fill(two, ask(user)), c)).isFalse();
    clock.advance(Duration.ofHours(24));
    assertThat(serves(fill(two, ask(user)), c)).isTrue();
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
  }

  @Test
  void unusedReservationsAreReleased() {
    String c = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 1_000, 100_000, 100_000).put("frequencyCap", new JsonObject().put("impressions", 1).put("perHours", 24)));
    long user = newUser();
    assertThat(serves(fill(one, ask(user)), c)).isTrue();
    assertThat(serves(fill(one, ask(user)), c)).isFalse();
    clock.advance(Duration.ofSeconds(61)); // the served slot's impression never came
    assertThat(serves(fill(one, ask(user)), c)).isTrue();
  }

  @Test
  void aSlotThePageDidNotShowIsGivenBackAtOnce() throws Exception {
    // 1 fen a day: one slot at a time; a cap of one: one place for the user
    String c = campaign(CampaignFixtures.campaignBody(CampaignFixtures.publishedItem(stack, merchant, List.of()),
        "cpm", 1_000, 1, 1).put("frequencyCap", new JsonObject().put("impressions", 1).put("perHours", 24)));
    long user = newUser();
    List<SponsoredSlots.Entry> page = fill(one, ask(user));
    assertThat(serves(page, c)).isTrue();
    assertThat(serves(fill(two, ask(newUser())), c)).isFalse(); // the budget is held by the first page's slot
    assertThat(serves(fill(two, ask(user)), c)).isFalse();
    one.campaigns().slots().release(Long.toString(user), page).await(10, TimeUnit.SECONDS); // the page dropped it
    one.campaigns().slots().release(Long.toString(user), page).await(10, TimeUnit.SECONDS); // twice: nothing more
    assertThat(serves(fill(two, ask(user)), c)).isTrue();
    assertThat(serves(fill(one, ask(newUser())), c)).isFalse(); // held again, by that one
    assertThat(ledgerSpend(c)).isZero();
  }

  @Test
  void totalBudgetNeverExceededUnderTwoHundredConcurrentPagesOnTwoServers() throws Exception {
    // CPM 1,000 fen = 1 fen an impression; 50 fen buys 50 impressions
    String c = campaign("cpm", 1_000, 50, 50);
    assertBudgetHolds(c, 50);
  }

  @Test
  void dailyBudgetNeverExceededUnderTwoHundredConcurrentPagesOnTwoServers() throws Exception {
    // CPC 2 fen a click; 30 fen a day of 1,000 buys 15 clicks today
    String c = campaign("cpc", 2, 1_000, 30);
    assertBudgetHolds(c, 30);
    assertThat(stack.count("SELECT spent_millifen FROM campaign_daily_spend WHERE campaign_id = $1 AND day = $2",
        Tuple.of(Long.parseLong(c), Pacing.day(clock.instant())))).isEqualTo(30_000);
  }

  /** 200 pages for 100 users on two instances, then every served slot's impression and click arrive, twice. */
  private void assertBudgetHolds(String c, long budgetFen) throws Exception {
    List<Long> users = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      users.add(newUser());
    }
    List<Future<List<SponsoredSlots.Entry>>> pages = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      pages.add((i % 2 == 0 ? one : two).campaigns().slots().fill(ask(users.get(i % 100))));
    }
    Future.all(pages).await(60, TimeUnit.SECONDS);
    List<Future<Void>> events = new ArrayList<>();
    int served = 0;
    for (int i = 0; i < 200; i++) {
      long user = users.get(i % 100);
      for (SponsoredSlots.Entry e : pages.get(i).result()) {
        if (!e.campaignId().equals(c)) {
          continue;
        }
        served++;
        FeedToken t = token(user, e);
        for (String type : List.of("impression", "click", "impression", "click")) {
          Instance at = events.size() % 2 == 0 ? one : two;
          events.add(at.campaigns().listener().onAccepted(Long.toString(user), List.of(new EventListener.Accepted(
              System.nanoTime(), Long.toString(user), e.itemId(), type, clock.instant(), t, null))));
        }
      }
    }
    Future.join(events).await(60, TimeUnit.SECONDS);
    assertThat(served).isPositive();
    assertThat(ledgerSpend(c)).isLessThanOrEqualTo(budgetFen * 1000);
    // serving promised no more than the budget holds, and each promise was kept: the budget is spent exactly
    assertThat(ledgerSpend(c)).isEqualTo(budgetFen * 1000);
    assertThat(stack.count("SELECT spent_millifen FROM campaigns WHERE id = $1", Tuple.of(Long.parseLong(c))))
        .isEqualTo(ledgerSpend(c));
    assertThat(serves(fill(one, ask(newUser())), c)).isFalse();
  }

  @Test
  void pacingWithholdsOnlyWhileAheadOfTheDay() {
    // 06:00 in Shanghai: a quarter of the day gone; daily 10,000 fen allows 2,500 + max(500, 100) = 3,000 fen
    LocalDate today = LocalDate.now(SHANGHAI).plusDays(3);
    clock.set(today.atTime(6, 0).atZone(SHANGHAI).toInstant());
    String c = campaign("cpc", 100, 1_000_000, 10_000);
    long user = newUser();
    assertThat(Pacing.allowanceMillifen(10_000, clock.instant())).isEqualTo(3_000_000);
    for (int i = 0; i < 30; i++) { // 30 clicks x 100 fen = 3,000 fen: on the pace, not ahead of it
      clickWithoutPage(c, user);
    }
    assertThat(serves(fill(one, ask(newUser())), c)).isTrue();
    clickWithoutPage(c, user); // 3,100 fen: ahead
    assertThat(serves(fill(one, ask(newUser())), c)).isFalse();
    clock.set(today.atTime(7, 0).atZone(SHANGHAI).toInstant()); // 2,916 + 500 = 3,416 fen allowed
    assertThat(serves(fill(two, ask(newUser())), c)).isTrue();
    clock.set(today.plusDays(1).atTime(0, 1).atZone(SHANGHAI).toInstant()); // a new day: nothing spent yet
    assertThat(serves(fill(two, ask(newUser())), c)).isTrue();
  }

  private void clickWithoutPage(String c, long user) {
    String item = stack.sql("SELECT item_id FROM campaigns WHERE id = $1", Tuple.of(Long.parseLong(c))).iterator()
        .next().getLong(0).toString();
    FeedToken t = new FeedToken(FeedToken.newTokenId(), Long.toString(user), item, 2, "sponsored", c, null, null,
        null, clock.millis());
    send(one, user, "click", t, item);
  }

  // ---- billing exactly once ----

  @Test
  void replayedForgedAndForeignTokensBillNothing() {
    String c = campaign("cpm", 1_000, 10_000, 10_000);
    long user = newUser();
    SponsoredSlots.Entry e = fill(one, ask(user)).get(0);
    FeedToken t = token(user, e);
    send(one, user, "impression", t, e.itemId());
    assertThat(ledgerSpend(c)).isEqualTo(1_000);
    send(two, user, "impression", t, e.itemId());          // replayed
    send(one, user, "impression", null, e.itemId());       // forged: events passes no token
    long stranger = newUser();
    send(one, stranger, "impression", t, e.itemId());      // another user's token
    FeedToken wrongItem = new FeedToken(FeedToken.newTokenId(), Long.toString(user), "1", 2, "sponsored", c, null,
        null, null, clock.millis());
    send(one, user, "impression", wrongItem, "1");          // a token naming another item than the campaign's
    FeedToken stale = new FeedToken(FeedToken.newTokenId(), Long.toString(user), e.itemId(), 2, "sponsored", c, null,
        null, null, clock.instant().minus(Duration.ofDays(2)).toEpochMilli());
    send(one, user, "impression", stale, e.itemId());       // an old token
    send(one, user, "like", token(user, e), e.itemId());    // not a billable type
    assertThat(ledgerSpend(c)).isEqualTo(1_000);
    assertThat(ledgerRows(c, "impression")).isEqualTo(1);
  }

  @Test
  void anEventRetriedTwentyTimesConcurrentlyBillsOnce() throws Exception {
    String c = campaign("cpc", 7, 10_000, 10_000);
    long user = newUser();
    SponsoredSlots.Entry e = fill(one, ask(user)).get(0);
    FeedToken t = token(user, e);
    List<Future<Void>> retries = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      retries.add((i % 2 == 0 ? one : two).campaigns().listener().onAccepted(Long.toString(user), List.of(
          new EventListener.Accepted(i, Long.toString(user), e.itemId(), "click", clock.instant(), t, null))));
    }
    Future.all(retries).await(30, TimeUnit.SECONDS);
    assertThat(ledgerRows(c, "click")).isEqualTo(1);
    assertThat(ledgerSpend(c)).isEqualTo(7_000);
  }

  @Test
  void theLedgerRebuildsRedisAfterAFlush() throws Exception {
    String c = campaign("cpm", 2_500, 10, 10); // 2.5 fen an impression: 4 impressions spend the 10 fen
    long id = Long.parseLong(c);
    for (int i = 0; i < 4; i++) {
      long user = newUser();
      SponsoredSlots.Entry e = fill(one, ask(user)).get(0);
      send(two, user, "impression", token(user, e), e.itemId());
    }
    assertThat(ledgerSpend(c)).isEqualTo(10_000);
    forget(id);
    assertThat(serves(fill(two, ask(newUser())), c)).isFalse();

    // a campaign with budget left serves again after the flush, up to what the ledger says is left
    String d = campaign("cpm", 1_000, 5, 5);
    long user = newUser();
    SponsoredSlots.Entry e = fill(one, ask(user)).stream().filter(x -> x.campaignId().equals(d)).findFirst()
        .orElseThrow();
    send(one, user, "impression", token(user, e), e.itemId());
    forget(Long.parseLong(d));
    int more = 0;
    for (int i = 0; i < 10; i++) {
      if (serves(fill(two, ask(newUser())), d)) {
        more++;
      }
    }
    assertThat(more).isEqualTo(4);
    List<String> keys = Budgets.spendKeys(Long.parseLong(d), Pacing.day(clock.instant()));
    assertThat(one.redis().get(keys.get(0)).await(5, TimeUnit.SECONDS).toLong()).isEqualTo(1_000);
    assertThat(one.redis().get(keys.get(1)).await(5, TimeUnit.SECONDS).toLong()).isEqualTo(1_000);
  }

  // ---- stats ----

  @Test
  void statsTotalsEqualTheLedgerAfterMixedEvents() {
    clock.set(Instant.now().minus(Duration.ofHours(3))); // the events spread over the last hours, none in the future
    String c = campaign("cpm", 1_234, 100_000, 100_000); // 1.234 fen an impression: fractions carry
    for (int i = 0; i < 7; i++) {
      long user = newUser();
      SponsoredSlots.Entry e = fill(i % 2 == 0 ? one : two, ask(user)).get(0);
      FeedToken t = token(user, e);
      send(one, user, "impression", t, e.itemId());
      send(two, user, "impression", t, e.itemId()); // a replay
      if (i % 3 == 0) {
        send(one, user, "click", t, e.itemId());
        send(one, user, "click", t, e.itemId());
      }
      clock.advance(Duration.ofMinutes(20));
    }
    Row ledger = row("SELECT count(*) FILTER (WHERE event_type = 'impression'), "
        + "count(*) FILTER (WHERE event_type = 'click'), sum(cost_millifen) FROM campaign_ledger "
        + "WHERE campaign_id = $1", Tuple.of(Long.parseLong(c)));
    assertThat(ledger.getLong(0)).isEqualTo(7);
    assertThat(ledger.getLong(1)).isEqualTo(3);
    assertThat(ledger.getLong(2)).isEqualTo(7 * 1_234);

    for (String bucket : List.of("hour", "day")) {
      Reply r = stack.api.get("/api/v1/admin/campaigns/" + c + "/stats?bucket=" + bucket, merchant.analyst());
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      JsonObject totals = r.json().getJsonObject("totals");
      assertThat(totals.getLong("impressions")).isEqualTo(7);
      assertThat(totals.getLong("clicks")).isEqualTo(3);
      assertThat(totals.getDouble("ctr")).isEqualTo(3.0 / 7);
      assertThat(totals.getLong("spend")).isEqualTo(8); // 8.638 fen, rounded down
      assertThat(totals.getLong("remainingBudget")).isEqualTo(100_000 - 8);
      assertThat(totals.getLong("conversions")).isZero();
      long impressions = 0;
      long clicks = 0;
      long spend = 0;
      for (Object o : r.json().getJsonArray("series")) {
        JsonObject b = (JsonObject) o;
        assertThat(b.getString("t")).endsWith("+08:00");
        impressions += b.getLong("impressions");
        clicks += b.getLong("clicks");
        spend += b.getLong("spend");
      }
      assertThat(impressions).isEqualTo(7);
      assertThat(clicks).isEqualTo(3);
      assertThat(spend).isEqualTo(8);
    }
    Reply bad = stack.api.get("/api/v1/admin/campaigns/" + c + "/stats?bucket=week", merchant.analyst());
    assertThat(bad.status()).isEqualTo(400);
    Reply badTime = stack.api.get("/api/v1/admin/campaigns/" + c + "/stats?from=yesterday", merchant.analyst());
    assertThat(badTime.status()).isEqualTo(400);
    Reply empty = stack.api.get("/api/v1/admin/campaigns/" + c + "/stats?bucket=hour&from=2020-01-01T00:00:00Z"
        + "&to=2020-01-01T03:00:00Z", merchant.analyst());
    assertThat(empty.status()).as(empty.toString()).isEqualTo(200);
    assertThat(empty.json().getJsonArray("series")).hasSize(3);
    assertThat(empty.json().getJsonObject("totals").getLong("impressions")).isZero();
  }

  /** What a lost Redis looks like to one campaign: every key of it gone. */
  private void forget(long campaignId) throws Exception {
    io.vertx.redis.client.Response keys = one.redis().keys(Budgets.keyPattern(campaignId))
        .await(5, TimeUnit.SECONDS);
    List<String> names = new ArrayList<>();
    keys.forEach(k -> names.add(k.toString()));
    if (!names.isEmpty()) {
      one.redis().del(names).await(5, TimeUnit.SECONDS);
    }
  }

  static Row row(String sql, Tuple args) {
    return stack.sql(sql, args).iterator().next();
  }
}
