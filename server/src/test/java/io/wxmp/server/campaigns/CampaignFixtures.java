package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.List;

/** Items and campaign bodies for the campaign tests. */
final class CampaignFixtures {
  private CampaignFixtures() {}

  static String publishedItem(TestStack stack, TestStack.Merchant m, List<String> tags) {
    Reply r = stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "article")
        .put("title", "Promoted " + System.nanoTime()).put("summary", "s").put("body", "b")
        .put("tags", new JsonArray(tags)).put("price", new JsonObject().put("amount", 100).put("currency", "CNY"))
        .put("status", "published"));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("id");
  }

  static JsonObject campaignBody(String itemId, String model, long bid, long total, long daily) {
    return new JsonObject().put("name", "Campaign " + System.nanoTime()).put("itemId", itemId)
        .put("bid", new JsonObject().put("model", model).put("amount", bid))
        .put("budget", new JsonObject().put("total", total).put("daily", daily));
  }

  /**
   * Ends campaigns straight in SQL (test clean-up) and announces it as a campaign write does, so that no server's
   * copy of the active campaigns keeps serving them.
   */
  static void endCampaigns(TestStack stack, String where, io.vertx.sqlclient.Tuple args) {
    stack.sql("UPDATE campaigns SET status = 'ended' WHERE " + where, args);
    io.vertx.redis.client.Redis client = stack.redisClient();
    try {
      io.wxmp.handlers.campaigns.Budgets.changed(io.vertx.redis.client.RedisAPI.api(client))
          .await(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      client.close();
    }
  }

  /** A new operator (as {@code operator create} makes one), logged in: its token. */
  static String operatorToken(TestStack stack) {
    String name = "campaignop" + System.nanoTime();
    stack.sql("INSERT INTO operators (username, password_hash) VALUES ($1, $2)",
        io.vertx.sqlclient.Tuple.of(name, io.wxmp.handlers.admin.Passwords.hash(TestStack.PASSWORD)));
    Reply r = stack.api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", name).put("password", TestStack.PASSWORD));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("token");
  }
}
