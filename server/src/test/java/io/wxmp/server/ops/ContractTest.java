package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Contract;
import org.junit.jupiter.api.Test;

/**
 * The validator every test's answers go through (testkit/Contract, called by Http): it passes what openapi.yaml
 * documents and catches a wrong answer, naming the operation, the status and what is wrong.
 */
class ContractTest {
  private static final Contract CONTRACT = Contract.get();

  private static MultiMap json() {
    return MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json; charset=utf-8");
  }

  private static String check(HttpMethod method, String path, int status, MultiMap headers, JsonObject body) {
    return CONTRACT.check(method, path, status, headers, body == null ? null : body.toBuffer());
  }

  private static JsonObject me() {
    return new JsonObject().put("id", "1").putNull("nickname").putNull("avatarUrl").put("phoneBound", false)
        .put("points", 0).putNull("memberUntil").put("personalised", true);
  }

  private static JsonObject error(String code) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", "请先登录。"));
  }

  @Test
  void aDocumentedAnswerPasses() {
    assertThat(check(HttpMethod.GET, "/api/v1/me", 200, json(), me())).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/me?x=1", 401, json(), error("unauthorized"))).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/quizzes/12/attempts/7", 401, json(), error("unauthorized")))
        .isNull();
  }

  @Test
  void aBodyThatBreaksTheSchemaIsCaught() {
    String problem = check(HttpMethod.GET, "/api/v1/me", 200, json(), me().put("points", "many"));
    assertThat(problem).contains("getMe", "200", "/points");
  }

  @Test
  void aMissingRequiredFieldIsCaught() {
    JsonObject noMessage = new JsonObject().put("error", new JsonObject().put("code", "unauthorized"));
    assertThat(check(HttpMethod.GET, "/api/v1/me", 401, json(), noMessage)).contains("getMe", "401", "message");
    assertThat(check(HttpMethod.GET, "/api/v1/me", 200, json(), me().copy().put("id", (String) null)))
        .contains("getMe", "/id");
  }

  @Test
  void anUndocumentedFieldIsCaught() {
    assertThat(check(HttpMethod.GET, "/api/v1/me", 200, json(), me().put("secret", "x")))
        .contains("getMe", "/secret");
    JsonObject error = error("unauthorized");
    error.getJsonObject("error").put("hint", "x");
    assertThat(check(HttpMethod.GET, "/api/v1/me", 401, json(), error)).contains("getMe", "401", "hint");
    assertThat(check(HttpMethod.GET, "/api/v1/me", 401, json(), error("unauthorized").put("result", 1)))
        .contains("getMe", "401", "result");
    // an allOf composition (the order fields and the merchant's extra ones) is closed as a whole
    JsonObject order = new JsonObject().put("id", "1").put("status", "paid").put("itemId", "2")
        .put("amount", new JsonObject().put("amount", 100).put("currency", "CNY"))
        .put("createdAt", "2026-12-04T10:00:00+08:00").put("paidAt", "2026-12-04T10:01:00+08:00");
    assertThat(check(HttpMethod.GET, "/api/v1/orders/1", 200, json(), order)).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/orders/1", 200, json(), order.copy().put("userId", "3")))
        .contains("getOrdersById", "userId");
    JsonObject adminOrder = order.copy().put("userId", "3").put("outTradeNo", "o1").putNull("transactionId")
        .put("refunded", new JsonObject().put("amount", 0).put("currency", "CNY")).putNull("review");
    assertThat(check(HttpMethod.GET, "/api/v1/admin/orders/1", 200, json(), adminOrder)).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/admin/orders/1", 200, json(), adminOrder.copy().put("note", "x")))
        .contains("getAdminOrdersById", "note");
  }

  @Test
  void anUndocumentedStatusIsCaught() {
    assertThat(check(HttpMethod.GET, "/api/v1/me", 418, json(), error("bad_request")))
        .contains("getMe", "418", "not documented");
  }

  @Test
  void anUndocumentedErrorCodeIsCaught() {
    assertThat(check(HttpMethod.GET, "/api/v1/me", 401, json(), error("made_up"))).contains("getMe", "401", "code");
  }

  @Test
  void aBodyWhereNoneIsDocumentedOrTheWrongTypeIsCaught() {
    assertThat(check(HttpMethod.POST, "/api/v1/auth/logout", 204, json(), new JsonObject()))
        .contains("postAuthLogout", "204", "no body");
    MultiMap html = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/html");
    assertThat(check(HttpMethod.GET, "/api/v1/me", 200, html, me())).contains("getMe", "text/html");
    assertThat(CONTRACT.check(HttpMethod.GET, "/api/v1/me", 200, json(), Buffer.buffer("{\"id\":")))
        .contains("not JSON");
  }

  @Test
  void theManagementPortServesOnlyItsOperations() {
    assertThat(CONTRACT.check(Contract.Port.MANAGEMENT, HttpMethod.GET, "/api/v1/me", 404, json(),
        error("not_found").toBuffer())).isNull();
    assertThat(CONTRACT.check(Contract.Port.MANAGEMENT, HttpMethod.GET, "/api/v1/me", 200, json(), me().toBuffer()))
        .contains("management port", "no operation");
    MultiMap text = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/plain; version=0.0.4");
    assertThat(CONTRACT.check(Contract.Port.MANAGEMENT, HttpMethod.GET, "/metrics", 200, text,
        Buffer.buffer("up 1\n"))).isNull();
  }

  @Test
  void answersBeforeRoutingAreSharedByEveryPath() {
    assertThat(check(HttpMethod.GET, "/api/v1/me", 431, json(), error("headers_too_large"))).isNull();
    assertThat(check(HttpMethod.GET, "/anything", 414, json(), error("uri_too_long"))).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/me", 431, json(), new JsonObject().put("code", "FAIL")))
        .contains("431", "error");
  }

  @Test
  void undocumentedRoutesMayOnlyAnswerTheRoutersError() {
    assertThat(check(HttpMethod.GET, "/api/v1/nowhere", 404, json(), error("not_found"))).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/nowhere", 200, json(), new JsonObject()))
        .contains("no operation", "/api/v1/nowhere");
    assertThat(check(HttpMethod.GET, "/api/v1/nowhere", 404, json(), error("unauthorized"))).contains("not_found");
    assertThat(check(HttpMethod.PUT, "/api/v1/me", 200, json(), me())).contains("no PUT");
    assertThat(check(HttpMethod.PUT, "/api/v1/me", 405, json(), error("method_not_allowed"))).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/admin/nowhere", 401, json(), error("unauthorized"))).isNull();
    assertThat(check(HttpMethod.GET, "/api/v1/nowhere", 401, json(), error("unauthorized"))).contains("404");
  }
}
