package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Merchants as operators run them (suspend, reactivate) and accounts as owners run them (create, disable, roles,
 * password changes): what users and the merchant's accounts see at once, and that nothing is lost.
 */
class MerchantsAndAccountsTest {
  static TestStack stack;
  static String operator;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    operator = PlatformKit.operatorToken(stack.settings, stack.api);
  }

  private static Reply suspend(String merchantId, String status) {
    return stack.api.patch("/api/v1/platform/merchants/" + merchantId, operator, new JsonObject().put("status", status));
  }

  @Test
  void suspensionTakesEverythingAwayAtOnceAndReactivationBringsItAllBack() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    String[] editor = PlatformKit.newAccount(stack.api, shop.owner(), "editor");
    String itemId = stack.api.post("/api/v1/admin/items", editor[1], PlatformKit.paidArticle("Suspended tea", 500))
        .json().getString("id");
    String quizId = stack.api.post("/api/v1/admin/quizzes", editor[1], PlatformKit.quiz("Suspended quiz"))
        .json().getString("id");
    String user = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/items/" + itemId, user).status()).isEqualTo(200);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId, user).status()).isEqualTo(200);
    String attemptId = stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", user, null).json()
        .getString("attemptId");

    Reply suspended = suspend(shop.merchantId(), "suspended");
    assertThat(suspended.status()).as(suspended.toString()).isEqualTo(200);
    assertThat(suspended.json().getString("status")).isEqualTo("suspended");

    // users: the merchant's items and quizzes are gone from every answer
    assertThat(stack.api.get("/api/v1/items/" + itemId, user).status()).isEqualTo(404);
    assertThat(stack.api.post("/api/v1/orders", user, new JsonObject().put("itemId", itemId)).status())
        .isEqualTo(404);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId, user).status()).isEqualTo(404);
    assertThat(stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", user, null).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/leaderboard", user).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/attempts/" + attemptId, user).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/quizzes?limit=50", user).json().getJsonArray("items").stream()
        .map(q -> ((JsonObject) q).getString("id"))).doesNotContain(quizId);
    // its accounts: tokens dead, logins refused
    assertThat(stack.api.get("/api/v1/admin/items", shop.owner()).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/admin/items", editor[1]).status()).isEqualTo(401);
    Reply login = PlatformKit.login(stack.api, shop.ownerUsername(), PlatformKit.NEW_PASSWORD);
    assertThat(login.status()).isEqualTo(403);
    assertThat(login.errorCode()).isEqualTo("merchant_suspended");
    assertThat(PlatformKit.login(stack.api, shop.ownerUsername(), "wrong password").status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/platform/merchants?status=suspended&limit=50", operator).json()
        .getJsonArray("items").stream().map(m -> ((JsonObject) m).getString("id"))).contains(shop.merchantId());

    // reactivated: everything is back as it was
    assertThat(suspend(shop.merchantId(), "active").json().getString("status")).isEqualTo("active");
    assertThat(stack.api.get("/api/v1/items/" + itemId, user).json().getString("title")).isEqualTo("Suspended tea");
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId, user).json().getJsonArray("questions")).hasSize(2);
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId + "/attempts/" + attemptId, user).json()
        .getString("status")).isEqualTo("open");
    String owner = PlatformKit.login(stack.api, shop.ownerUsername(), PlatformKit.NEW_PASSWORD).json()
        .getString("token");
    assertThat(stack.api.get("/api/v1/admin/items", owner).json().getJsonArray("items")).hasSize(1);
    assertThat(stack.api.get("/api/v1/admin/accounts", owner).json().getJsonArray("items")).hasSize(2);
  }

  @Test
  void operatorRoutesValidateAndUsernamesAreUnique() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    Reply taken = stack.api.post("/api/v1/platform/merchants", operator,
        new JsonObject().put("name", "Copy").put("ownerUsername", shop.ownerUsername().toUpperCase()));
    assertThat(taken.status()).isEqualTo(409);
    assertThat(taken.errorCode()).isEqualTo("username_taken");
    assertThat(stack.api.post("/api/v1/platform/merchants", operator, new JsonObject().put("name", "")).json()
        .getJsonObject("error").getJsonObject("fields").fieldNames()).contains("name", "ownerUsername");
    assertThat(suspend(shop.merchantId(), "closed").status()).isEqualTo(400);
    assertThat(suspend("999999999", "suspended").status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/platform/merchants/" + shop.merchantId(), operator).json().getString("name"))
        .startsWith("Shop of");
    // a merchant's owner is not an operator
    assertThat(stack.api.get("/api/v1/platform/merchants", shop.owner()).status()).isEqualTo(401);
  }

  @Test
  void ownersManageAccountsAndOthersMayNot() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    String[] editor = PlatformKit.newAccount(stack.api, shop.owner(), "editor");
    String[] analyst = PlatformKit.newAccount(stack.api, shop.owner(), "analyst");
    for (String other : new String[] {editor[1], analyst[1]}) {
      assertThat(stack.api.get("/api/v1/admin/accounts", other).status()).isEqualTo(403);
      assertThat(stack.api.post("/api/v1/admin/accounts", other,
          new JsonObject().put("username", PlatformKit.unique("x")).put("role", "owner")).status()).isEqualTo(403);
    }
    Reply bad = stack.api.post("/api/v1/admin/accounts", shop.owner(),
        new JsonObject().put("username", "has space").put("role", "boss"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getJsonObject("error").getJsonObject("fields").fieldNames()).contains("username", "role");
    Reply dup = stack.api.post("/api/v1/admin/accounts", shop.owner(),
        new JsonObject().put("username", editor[0]).put("role", "analyst"));
    assertThat(dup.errorCode()).isEqualTo("username_taken");

    // another merchant's owner cannot see or touch these accounts
    PlatformKit.Shop other = PlatformKit.newShop(stack, operator);
    assertThat(stack.api.patch("/api/v1/admin/accounts/" + editor[2], other.owner(),
        new JsonObject().put("disabled", true)).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/accounts", other.owner()).json().getJsonArray("items")).hasSize(1);

    // the last enabled owner stays
    String ownerId = stack.sql("SELECT id FROM merchant_accounts WHERE username = $1", Tuple.of(shop.ownerUsername()))
        .iterator().next().getLong(0).toString();
    Reply last = stack.api.patch("/api/v1/admin/accounts/" + ownerId, shop.owner(), new JsonObject().put("role", "editor"));
    assertThat(last.status()).isEqualTo(409);
    assertThat(last.errorCode()).isEqualTo("last_owner");

    // a role change takes effect at once: the old token (which carried the old role) is dead
    Reply promoted = stack.api.patch("/api/v1/admin/accounts/" + analyst[2], shop.owner(),
        new JsonObject().put("role", "editor"));
    assertThat(promoted.json().getString("role")).isEqualTo("editor");
    assertThat(stack.api.get("/api/v1/admin/items", analyst[1]).status()).isEqualTo(401);
  }

  @Test
  void aDisabledAccountsTokensDieAtOnceAndItCannotLogIn() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    String[] editor = PlatformKit.newAccount(stack.api, shop.owner(), "editor");
    String second = PlatformKit.login(stack.api, editor[0], PlatformKit.NEW_PASSWORD).json().getString("token");
    assertThat(stack.api.get("/api/v1/admin/items", second).status()).isEqualTo(200);

    Reply disabled = stack.api.patch("/api/v1/admin/accounts/" + editor[2], shop.owner(),
        new JsonObject().put("disabled", true));
    assertThat(disabled.status()).isEqualTo(200);
    assertThat(disabled.json().getBoolean("disabled")).isTrue();
    assertThat(stack.api.get("/api/v1/admin/items", editor[1]).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/admin/items", second).status()).isEqualTo(401);
    Reply login = PlatformKit.login(stack.api, editor[0], PlatformKit.NEW_PASSWORD);
    assertThat(login.status()).isEqualTo(403);
    assertThat(login.errorCode()).isEqualTo("account_disabled");

    stack.api.patch("/api/v1/admin/accounts/" + editor[2], shop.owner(), new JsonObject().put("disabled", false));
    assertThat(PlatformKit.login(stack.api, editor[0], PlatformKit.NEW_PASSWORD).status()).isEqualTo(200);
  }

  @Test
  void aPasswordChangeKeepsThisTokenAndRevokesTheOthers() {
    PlatformKit.Shop shop = PlatformKit.newShop(stack, operator);
    String[] editor = PlatformKit.newAccount(stack.api, shop.owner(), "editor");
    String other = PlatformKit.login(stack.api, editor[0], PlatformKit.NEW_PASSWORD).json().getString("token");
    Reply wrong = stack.api.post("/api/v1/admin/password", editor[1],
        new JsonObject().put("current", "not it").put("new", "another long password"));
    assertThat(wrong.status()).isEqualTo(400);
    assertThat(wrong.json().getJsonObject("error").getJsonObject("fields").containsKey("current")).isTrue();
    assertThat(stack.api.post("/api/v1/admin/password", editor[1], new JsonObject()
        .put("current", PlatformKit.NEW_PASSWORD).put("new", "another long password")).status()).isEqualTo(204);
    assertThat(stack.api.get("/api/v1/admin/items", editor[1]).status()).isEqualTo(200);
    assertThat(stack.api.get("/api/v1/admin/items", other).status()).isEqualTo(401);
    assertThat(PlatformKit.login(stack.api, editor[0], PlatformKit.NEW_PASSWORD).status()).isEqualTo(401);
    assertThat(PlatformKit.login(stack.api, editor[0], "another long password").status()).isEqualTo(200);
  }

  @Test
  void usersCanLogOutEverywhere() {
    JsonObject wx = stack.newWeChatUser();
    String first = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")))
        .json().getString("token");
    String second = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.codeFor(wx.getString("openid")))).json().getString("token");
    assertThat(stack.api.post("/api/v1/auth/logout?all=maybe", first, null).status()).isEqualTo(400);
    assertThat(stack.api.post("/api/v1/auth/logout?all=true", first, null).status()).isEqualTo(204);
    assertThat(stack.api.get("/api/v1/me", first).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/me", second).status()).isEqualTo(401);
  }
}
