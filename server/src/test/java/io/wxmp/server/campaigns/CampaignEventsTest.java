package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.feed.FeedToken;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Billing through the real {@code POST /events}: tokens are signed with the server's feed-token key as the feed
 * signs them; replayed, forged and other users' tokens are accepted (202) and bill nothing, and an event retried 20
 * times at once bills once.
 */
class CampaignEventsTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static byte[] key;

  record User(String token, String id) {}

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

  static User user() {
    Reply r = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    return new User(r.json().getString("token"), r.json().getJsonObject("user").getString("id"));
  }

  record Campaign(String id, String itemId) {}

  static Campaign campaign(String model, long bid) {
    String item = CampaignFixtures.publishedItem(stack, merchant, List.of("tea"));
    Reply r = stack.api.post("/api/v1/admin/campaigns", merchant.owner(),
        CampaignFixtures.campaignBody(item, model, bid, 100_000, 100_000).put("status", "active"));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new Campaign(r.json().getString("id"), item);
  }

  static String sign(User u, Campaign c, byte[] withKey) {
    return new FeedToken(FeedToken.newTokenId(), u.id(), c.itemId(), 2, "sponsored", c.id(), null, null, null,
        System.currentTimeMillis()).sign(withKey);
  }

  static Reply post(User u, String itemId, String type, String token) {
    JsonObject event = new JsonObject().put("id", UUID.randomUUID().toString()).put("itemId", itemId)
        .put("type", type);
    if (token != null) {
      event.put("token", token);
    }
    return stack.api.post("/api/v1/events", u.token(), new JsonObject().put("events", new JsonArray().add(event)));
  }

  static long rows(Campaign c, String type) {
    return stack.count("SELECT count(*) FROM campaign_ledger WHERE campaign_id = $1 AND event_type = $2",
        Tuple.of(Long.parseLong(c.id()), type));
  }

  static long spend(Campaign c) {
    return stack.count("SELECT coalesce(sum(cost_millifen), 0) FROM campaign_ledger WHERE campaign_id = $1",
        Tuple.of(Long.parseLong(c.id())));
  }

  @Test
  void replayedForgedAndForeignTokensAreAcceptedAndBillNothing() {
    Campaign c = campaign("cpm", 2_000);
    User u = user();
    String token = sign(u, c, key);
    assertThat(post(u, c.itemId(), "impression", token).status()).isEqualTo(202);
    TestStack.eventually("the impression is billed", 10_000, () -> rows(c, "impression") == 1);
    assertThat(spend(c)).isEqualTo(2_000);

    Reply replay = post(u, c.itemId(), "impression", token);
    assertThat(replay.status()).isEqualTo(202);
    assertThat(replay.json().getInteger("accepted")).isEqualTo(1);
    Reply forged = post(u, c.itemId(), "impression", sign(u, c, FeedToken.newKey()));
    assertThat(forged.status()).isEqualTo(202);
    User other = user();
    Reply foreign = post(other, c.itemId(), "impression", token);
    assertThat(foreign.status()).isEqualTo(202);
    Reply garbage = post(u, c.itemId(), "impression", "not-a-token");
    assertThat(garbage.status()).isEqualTo(202);
    // a marker event after them: once it is billed, the ones before it have been through billing too
    String marker = sign(u, c, key);
    post(u, c.itemId(), "click", marker);
    TestStack.eventually("the marker click is recorded", 10_000, () -> rows(c, "click") == 1);
    assertThat(rows(c, "impression")).isEqualTo(1);
    assertThat(spend(c)).isEqualTo(2_000);
  }

  @Test
  void anEventRetriedTwentyTimesAtOnceBillsOnce() throws Exception {
    Campaign c = campaign("cpc", 30);
    User u = user();
    String token = sign(u, c, key);
    List<Future<Reply>> replies = new ArrayList<>();
    String sameId = UUID.randomUUID().toString();
    for (int i = 0; i < 20; i++) {
      // half repeat the same client id (dedup by events), half are fresh ids quoting the same token (ledger key)
      String id = i % 2 == 0 ? sameId : UUID.randomUUID().toString();
      JsonObject body = new JsonObject().put("events", new JsonArray().add(new JsonObject().put("id", id)
          .put("itemId", c.itemId()).put("type", "click").put("token", token)));
      replies.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/events", u.token(), body.toBuffer(), null));
    }
    Future.join(replies).await(30, TimeUnit.SECONDS);
    assertThat(replies).allSatisfy(f -> assertThat(f.result().status()).isIn(202, 429));
    TestStack.eventually("the click is billed", 10_000, () -> rows(c, "click") == 1);
    assertThat(spend(c)).isEqualTo(30_000);
    Reply stats = stack.api.get("/api/v1/admin/campaigns/" + c.id() + "/stats", merchant.analyst());
    assertThat(stats.json().getJsonObject("totals").getLong("clicks")).isEqualTo(1);
    assertThat(stats.json().getJsonObject("totals").getLong("spend")).isEqualTo(30);
  }
}
