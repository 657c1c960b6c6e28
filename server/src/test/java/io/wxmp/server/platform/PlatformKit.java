package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.Map;
import java.util.UUID;

/** The platform's way in, for tests: an operator from the command line, merchants and accounts through the API. */
final class PlatformKit {
  static final String NEW_PASSWORD = "a long new password 42";

  private PlatformKit() {}

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A new operator made with {@code operator create}, logged in: its token. */
  static String operatorToken(Map<String, String> settings, Http api) {
    String name = unique("op");
    String[] made = OperatorsTest.createOperator(settings, name);
    assertThat(made[0]).as(made[2]).isEqualTo("0");
    Reply login = api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", name).put("password", OperatorsTest.passwordOf(made)));
    assertThat(login.status()).as(login.toString()).isEqualTo(200);
    return login.json().getString("token");
  }

  /** {@code POST /platform/merchants}: the answer (with the owner's one-time password). */
  static JsonObject createMerchant(Http api, String operator, String ownerUsername) {
    Reply r = api.post("/api/v1/platform/merchants", operator,
        new JsonObject().put("name", "Shop of " + ownerUsername).put("ownerUsername", ownerUsername));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  static Reply login(Http api, String username, String password) {
    return api.post("/api/v1/admin/login", null, new JsonObject().put("username", username).put("password", password));
  }

  /** Logs in with a one-time password and changes it to {@link #NEW_PASSWORD}: the (still valid) token. */
  static String firstLogin(Http api, String username, String initialPassword) {
    Reply login = login(api, username, initialPassword);
    assertThat(login.status()).as(login.toString()).isEqualTo(200);
    assertThat(login.json().getBoolean("mustChangePassword")).isTrue();
    String token = login.json().getString("token");
    Reply changed = api.post("/api/v1/admin/password", token,
        new JsonObject().put("current", initialPassword).put("new", NEW_PASSWORD));
    assertThat(changed.status()).as(changed.toString()).isEqualTo(204);
    return token;
  }

  /** A merchant made by an operator, its owner past the first login: {merchantId, owner username, owner token}. */
  record Shop(String merchantId, String ownerUsername, String owner) {}

  static Shop newShop(TestStack stack, String operator) {
    String owner = unique("owner");
    JsonObject made = createMerchant(stack.api, operator, owner);
    String token = firstLogin(stack.api, owner, made.getJsonObject("owner").getString("initialPassword"));
    return new Shop(made.getString("id"), owner, token);
  }

  /** An account of the owner's merchant with the given role, past its first login: {username, token, id}. */
  static String[] newAccount(Http api, String ownerToken, String role) {
    String username = unique(role);
    Reply r = api.post("/api/v1/admin/accounts", ownerToken, new JsonObject().put("username", username).put("role", role));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    String token = firstLogin(api, username, r.json().getString("initialPassword"));
    return new String[] {username, token, r.json().getString("id")};
  }

  static JsonObject paidArticle(String title, long fen) {
    return new JsonObject().put("kind", "article").put("title", title).put("summary", "a summary")
        .put("body", "the paid body").put("preview", "a taste").put("tags", new JsonArray().add("platform"))
        .put("price", new JsonObject().put("amount", fen).put("currency", "CNY")).put("status", "published");
  }

  static JsonObject quiz(String title) {
    return new JsonObject().put("title", title).put("timeLimitSec", 60).put("maxAttempts", 3)
        .put("pointsPerCorrect", 5).put("status", "published").put("questions", new JsonArray()
            .add(new JsonObject().put("text", "One plus one?").put("tags", new JsonArray().add("math"))
                .put("choices", new JsonArray()
                    .add(new JsonObject().put("text", "two").put("correct", true))
                    .add(new JsonObject().put("text", "three").put("correct", false))))
            .add(new JsonObject().put("text", "Two plus two?").put("choices", new JsonArray()
                .add(new JsonObject().put("text", "four").put("correct", true))
                .add(new JsonObject().put("text", "five").put("correct", false)))));
  }
}
