package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Subscribe messages after payments and refunds: each once even with two servers relaying, retried after WeChat
 * fails, and none for a user who did not accept the template.
 */
class NotificationRelayTest {
  static TestStack stack;
  static WxmpServer second;
  static TestStack.Merchant merchant;

  @BeforeAll
  static void start() throws Exception {
    stack = TestStack.shared();
    Map<String, String> settings = new HashMap<>(stack.settings);
    settings.put("WXMP_HTTP_PORT", Integer.toString(TestStack.freePort()));
    second = WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
    merchant = stack.newMerchant();
  }

  @AfterAll
  static void stop() throws Exception {
    second.close().await(30, TimeUnit.SECONDS);
  }

  record Buyer(String token, String openid, long userId) {}

  static Buyer buyer(boolean accepts) {
    JsonObject wx = stack.newWeChatUser();
    Reply login = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    Buyer b = new Buyer(login.json().getString("token"), wx.getString("openid"),
        Long.parseLong(login.json().getJsonObject("user").getString("id")));
    if (accepts) {
      Reply r = stack.api.post("/api/v1/me/subscriptions", b.token(),
          new JsonObject().put("templateIds", new JsonArray().add("dev-template-payment")));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getJsonObject("remaining").getLong("dev-template-payment")).isEqualTo(1);
    }
    return b;
  }

  static String buy(Buyer b, String title, long fen) {
    String itemId = stack.api.post("/api/v1/admin/items", merchant.editor(), PlatformKit.paidArticle(title, fen))
        .json().getString("id");
    String orderId = stack.api.post("/api/v1/orders", b.token(), new JsonObject().put("itemId", itemId)).json()
        .getString("id");
    String outTradeNo = stack.sql("SELECT out_trade_no FROM orders WHERE id = $1", Tuple.of(Long.parseLong(orderId)))
        .iterator().next().getString(0);
    assertThat(stack.sandbox.post("/sandbox/pay/confirm", null, new JsonObject().put("outTradeNo", outTradeNo))
        .status()).isEqualTo(200);
    TestStack.eventually("paid", 15_000, () -> "paid".equals(stack.api.get("/api/v1/orders/" + orderId, b.token())
        .json().getString("status")));
    return orderId;
  }

  static List<JsonObject> messagesTo(String openid) {
    return stack.sandbox.get("/sandbox/messages", null).jsonArray().stream().map(m -> (JsonObject) m)
        .filter(m -> openid.equals(m.getString("touser"))).collect(Collectors.toList());
  }

  static List<Row> notifications(long userId) {
    return stack.sql("SELECT status, attempts, kind FROM notifications WHERE user_id = $1 ORDER BY id",
        Tuple.of(userId)).stream().toList();
  }

  /** Both servers run their relays (timers) and, to make the race certain, a few passes by hand at once. */
  static void relayEverywhere() {
    try {
      for (int i = 0; i < 3; i++) {
        io.vertx.core.Future.join(stack.server().relay().pollOutbox(), second.relay().pollOutbox())
            .await(20, TimeUnit.SECONDS);
        io.vertx.core.Future.join(stack.server().relay().sendDue(), second.relay().sendDue())
            .await(20, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void eachMessageIsSentOnceAcrossTwoServersAndOnlyWithConsent() {
    Buyer accepted = buyer(true);
    Buyer silent = buyer(false);
    String orderId = buy(accepted, "Green tea guide", 500);
    buy(silent, "Black tea guide", 600);

    TestStack.eventually("the message is sent", 20_000, () -> !messagesTo(accepted.openid()).isEmpty());
    relayEverywhere();
    List<JsonObject> sent = messagesTo(accepted.openid());
    assertThat(sent).hasSize(1);
    JsonObject data = sent.get(0).getJsonObject("data");
    assertThat(sent.get(0).getString("template_id")).isEqualTo("dev-template-payment");
    assertThat(data.getJsonObject("thing1").getString("value")).isEqualTo("Green tea guide");
    assertThat(data.getJsonObject("amount2").getString("value")).isEqualTo("¥5.00");
    assertThat(data.getJsonObject("time3").getString("value")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d");
    assertThat(notifications(accepted.userId())).hasSize(1);
    // the relay's timer may have sent it a moment before relayEverywhere: its row says so once WeChat's answer is in
    TestStack.eventually("the notification's row says sent", 10_000,
        () -> "sent".equals(notifications(accepted.userId()).get(0).getString("status")));

    // no consent, no message (and nothing queued); a consent is used up by one message
    assertThat(messagesTo(silent.openid())).isEmpty();
    assertThat(notifications(silent.userId())).isEmpty();
    buy(accepted, "Oolong guide", 700);
    relayEverywhere();
    assertThat(messagesTo(accepted.openid())).hasSize(1);

    // a refund message needs its own template's consent: none here, so nothing is sent
    Reply refund = stack.api.post("/api/v1/admin/orders/" + orderId + "/refund", merchant.owner(),
        new JsonObject().put("reason", "test"));
    assertThat(refund.status()).isEqualTo(202);
    relayEverywhere();
    assertThat(messagesTo(accepted.openid())).hasSize(1);
  }

  @Test
  void aFailedSendIsRetriedWithBackOffAndThePaymentNeverWaits() {
    Buyer b = buyer(true);
    Reply refundConsent = stack.api.post("/api/v1/me/subscriptions", b.token(),
        new JsonObject().put("templateIds", new JsonArray().add("dev-template-refund")));
    assertThat(refundConsent.status()).isEqualTo(200);
    stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("subscribeFailures", 2));
    String orderId = buy(b, "Retried guide", 800); // paid while WeChat's message API fails
    TestStack.eventually("sent after the failures", 20_000, () -> !messagesTo(b.openid()).isEmpty());
    relayEverywhere();
    assertThat(messagesTo(b.openid())).hasSize(1);
    Row n = notifications(b.userId()).get(0);
    assertThat(n.getString("status")).isEqualTo("sent");
    // the sandbox's two failures are for whichever sends come first (another test's may take one): at least one here
    assertThat(n.getInteger("attempts")).isBetween(2, 3);

    // and the refund message, once the refund notify came
    stack.api.post("/api/v1/admin/orders/" + orderId + "/refund", merchant.owner(),
        new JsonObject().put("reason", "changed mind"));
    TestStack.eventually("the refund message", 20_000, () -> messagesTo(b.openid()).size() == 2);
    JsonObject refundMessage = messagesTo(b.openid()).get(1);
    assertThat(refundMessage.getString("template_id")).isEqualTo("dev-template-refund");
    assertThat(refundMessage.getJsonObject("data").getJsonObject("amount2").getString("value")).isEqualTo("¥8.00");
  }

  @Test
  void consentsAreValidated() {
    Buyer b = buyer(false);
    Reply unknown = stack.api.post("/api/v1/me/subscriptions", b.token(),
        new JsonObject().put("templateIds", new JsonArray().add("someone-elses-template")));
    assertThat(unknown.status()).isEqualTo(400);
    Reply listed = stack.api.get("/api/v1/me/subscriptions", b.token());
    assertThat(listed.json().getJsonObject("templates").getString("payment")).isEqualTo("dev-template-payment");
    assertThat(listed.json().getJsonObject("remaining").getLong("dev-template-payment")).isZero();
  }
}
