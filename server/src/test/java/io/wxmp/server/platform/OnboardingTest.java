package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A production-mode server on an empty database, taken from nothing to a sale: the first operator on the command line,
 * a merchant through the operators' API, the owner's forced password change, an editor account, and the editor's
 * published item bought by a WeChat user through WeChat Pay.
 */
class OnboardingTest {
  @Test
  void fromAnEmptyProductionDatabaseToASale() throws Exception {
    TestStack stack = TestStack.shared();
    String database = "onboarding_" + System.nanoTime();
    stack.db.query("CREATE DATABASE " + database).execute().await(30, TimeUnit.SECONDS);
    int port = TestStack.freePort();
    Map<String, String> settings = new HashMap<>(stack.settings);
    String url = settings.get("WXMP_PG_URL");
    settings.put("WXMP_PG_URL", url.substring(0, url.lastIndexOf('/') + 1) + database);
    settings.put("WXMP_MODE", "prod");
    settings.put("WXMP_HTTP_PORT", Integer.toString(port));
    settings.put("WXMP_PUBLIC_URL", "http://127.0.0.1:" + port);

    // 1. the first operator, on the command line (it migrates the empty database)
    String[] made = OperatorsTest.createOperator(settings, "first-operator");
    assertThat(made[0]).as(made[2]).isEqualTo("0");
    String operatorPassword = OperatorsTest.passwordOf(made);

    WxmpServer server = WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
    try {
      Http api = new Http(WebClient.create(stack.clientVertx), port);
      assertThat(count(server, "SELECT count(*) FROM merchants")).isZero();
      assertThat(count(server, "SELECT count(*) FROM merchant_accounts")).isZero();

      Reply opLogin = api.post("/api/v1/platform/login", null,
          new JsonObject().put("username", "first-operator").put("password", operatorPassword));
      assertThat(opLogin.status()).isEqualTo(200);
      String operator = opLogin.json().getString("token");

      // 2. a merchant, with its owner's one-time password
      Reply merchant = api.post("/api/v1/platform/merchants", operator,
          new JsonObject().put("name", "Tea House").put("ownerUsername", "tea-owner"));
      assertThat(merchant.status()).as(merchant.toString()).isEqualTo(201);
      assertThat(merchant.json().getString("status")).isEqualTo("active");
      assertThat(merchant.json().getString("name")).isEqualTo("Tea House");
      String initial = merchant.json().getJsonObject("owner").getString("initialPassword");
      assertThat(merchant.json().getJsonObject("owner").getString("username")).isEqualTo("tea-owner");
      assertThat(api.get("/api/v1/platform/merchants", operator).json().getJsonArray("items")).hasSize(1);

      // 3. the owner's first login: nothing but the password change until it is done
      Reply first = PlatformKit.login(api, "tea-owner", initial);
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.json().getBoolean("mustChangePassword")).isTrue();
      assertThat(first.json().getString("role")).isEqualTo("owner");
      String owner = first.json().getString("token");
      Reply blocked = api.get("/api/v1/admin/items", owner);
      assertThat(blocked.status()).isEqualTo(403);
      assertThat(blocked.errorCode()).isEqualTo("password_change_required");
      assertThat(api.post("/api/v1/admin/password", owner,
          new JsonObject().put("current", initial).put("new", "short")).status()).isEqualTo(400);
      assertThat(api.post("/api/v1/admin/password", owner,
          new JsonObject().put("current", initial).put("new", PlatformKit.NEW_PASSWORD)).status()).isEqualTo(204);
      assertThat(api.get("/api/v1/admin/items", owner).status()).isEqualTo(200); // the same token, now unblocked
      assertThat(PlatformKit.login(api, "tea-owner", initial).status()).isEqualTo(401);
      assertThat(PlatformKit.login(api, "tea-owner", PlatformKit.NEW_PASSWORD).json()
          .getBoolean("mustChangePassword")).isFalse();

      // 4. an editor account, with its own forced change
      String[] editor = PlatformKit.newAccount(api, owner, "editor");
      Reply accounts = api.get("/api/v1/admin/accounts", owner);
      assertThat(accounts.json().getJsonArray("items")).hasSize(2);

      // 5. the editor publishes a paid item; a WeChat user buys it
      Reply item = api.post("/api/v1/admin/items", editor[1], PlatformKit.paidArticle("Brewing oolong", 300));
      assertThat(item.status()).as(item.toString()).isEqualTo(201);
      String itemId = item.json().getString("id");
      Reply userLogin = api.post("/api/v1/auth/login", null,
          new JsonObject().put("code", stack.newWeChatUser().getString("code")));
      String user = userLogin.json().getString("token");
      assertThat(api.get("/api/v1/items/" + itemId, user).json().getBoolean("locked")).isTrue();
      Reply order = api.post("/api/v1/orders", user, new JsonObject().put("itemId", itemId));
      assertThat(order.status()).as(order.toString()).isEqualTo(201);
      assertThat(order.json().getJsonObject("payParams").getString("paySign")).isNotBlank();
      String outTradeNo = server.pool().preparedQuery("SELECT out_trade_no FROM orders WHERE id = $1")
          .execute(io.vertx.sqlclient.Tuple.of(Long.parseLong(order.json().getString("id"))))
          .await(10, TimeUnit.SECONDS).iterator().next().getString(0);
      assertThat(stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo))
          .status()).isEqualTo(200);
      TestStack.eventually("the order is paid", 15_000, () -> "paid".equals(
          api.get("/api/v1/orders/" + order.json().getString("id"), user).json().getString("status")));
      Reply unlocked = api.get("/api/v1/items/" + itemId, user);
      assertThat(unlocked.json().getBoolean("locked")).isFalse();
      assertThat(unlocked.json().getString("body")).isEqualTo("the paid body");
      JsonObject orders = api.get("/api/v1/admin/orders", owner).json();
      assertThat(orders.getJsonArray("items")).hasSize(1);
    } finally {
      server.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static long count(WxmpServer server, String sql) throws Exception {
    return server.pool().query(sql).execute().await(10, TimeUnit.SECONDS).iterator().next().getLong(0);
  }
}
