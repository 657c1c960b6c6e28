package io.wxmp.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The control API's own contract: bad input, unknown things, a merchant that never answers a notify. */
@ExtendWith(VertxExtension.class)
class ControlApiTest {
  private static Control control;
  private static NotifyReceiver receiver;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    SandboxConfig config = SandboxConfig.defaults(TestKeys.KEYS).withNotifyTimeScale(0.001);
    SandboxVerticle sandbox = new SandboxVerticle(config, 200);
    vertx.deployVerticle(sandbox).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    control = new Control(sandbox.actualPort());
    receiver = new NotifyReceiver().start(vertx);
  }

  @Test
  void badInputIs400AndUnknownThingsAre404() {
    Control.Answer notJson = Control.send(HttpRequest.newBuilder(URI.create(control.base + "/sandbox/users"))
        .POST(HttpRequest.BodyPublishers.ofString("{nope")), Duration.ofSeconds(10));
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.json().getJsonObject("error").getString("code")).isEqualTo("bad_request");
    assertThat(control.post("/sandbox/faults", new JsonObject().put("delayMs", -1)).status()).isEqualTo(400);
    assertThat(control.post("/sandbox/pay/confirm", new JsonObject().put("outTradeNo", "nope")).status())
        .isEqualTo(404);
    assertThat(control.post("/sandbox/users/nobody/subscription", new JsonObject().put("subscribed", false))
        .status()).isEqualTo(404);
    assertThat(control.get("/no/such/api").status()).isEqualTo(404);
  }

  @Test
  void anEmptyBodyMakesANewUserWithFreshCodes() {
    Control.Answer one = control.post("/sandbox/users", null);
    Control.Answer two = control.post("/sandbox/users", new JsonObject());

    assertThat(one.status()).isEqualTo(201);
    assertThat(one.json().getString("openid")).isNotEqualTo(two.json().getString("openid"));
    assertThat(one.json().getString("code")).isNotBlank();
    assertThat(one.json().getString("phoneCode")).isNotBlank();
    assertThat(one.json().getString("phone")).matches("138\\d{8}");
    assertThat(control.stats().fieldNames()).contains("tokensIssued", "messagesSent", "ordersCreated",
        "paymentsConfirmed", "refundsCreated", "notifyAttempts", "notifiesDelivered");
  }

  @Test
  void aNotifyThatGetsNoAnswerInTimeCountsAsFailedAndIsRetried() throws Exception {
    String outTradeNo = "HANG" + System.nanoTime();
    String path = "/hang/" + outTradeNo;
    receiver.answer(path, NotifyReceiver.NO_ANSWER, 204);
    SignedClient client = new SignedClient(control.base);
    assertThat(client.prepay(outTradeNo, receiver.url(path))).isEqualTo(200);

    assertThat(control.post("/sandbox/pay/confirm", new JsonObject().put("outTradeNo", outTradeNo)).status())
        .isEqualTo(200);

    JsonObject notification = Control.eventually(
        () -> control.get("/sandbox/pay/notifications").array().stream().map(JsonObject.class::cast)
            .filter(n -> outTradeNo.equals(n.getString("outTradeNo"))).findFirst().orElse(new JsonObject()),
        n -> Boolean.TRUE.equals(n.getBoolean("delivered")), Duration.ofSeconds(10));
    // The first delivery gets no answer in time and counts as failed; retries follow until one gets its 204. (On a
    // loaded machine a retry can also miss the short test timeout, so only the first and the last are pinned.)
    io.vertx.core.json.JsonArray attempts = notification.getJsonArray("attempts");
    assertThat(attempts.size()).isGreaterThanOrEqualTo(2);
    assertThat(attempts.getJsonObject(0).getInteger("status")).isZero();
    assertThat(attempts.getJsonObject(0).getString("error")).isNotBlank();
    for (int i = 1; i < attempts.size() - 1; i++) {
      assertThat(attempts.getJsonObject(i).getInteger("status")).isZero();
    }
    assertThat(attempts.getJsonObject(attempts.size() - 1).getInteger("status")).isEqualTo(204);
  }

  /** Signs requests the way the SDK does, for tests that need an order without the SDK's plumbing. */
  static final class SignedClient {
    private final String base;

    SignedClient(String base) {
      this.base = base;
    }

    int prepay(String outTradeNo, String notifyUrl) {
      String body = new JsonObject().put("appid", SandboxConfig.DEFAULT_APP_ID)
          .put("mchid", SandboxConfig.DEFAULT_MCH_ID).put("description", "x").put("out_trade_no", outTradeNo)
          .put("notify_url", notifyUrl).put("amount", new JsonObject().put("total", 1))
          .put("payer", new JsonObject().put("openid", "o-hang")).encode();
      String path = "/v3/pay/transactions/jsapi";
      String timestamp = Long.toString(System.currentTimeMillis() / 1000);
      String nonce = "n" + System.nanoTime();
      String signature = PayCrypto.sign(TestKeys.KEYS.merchant().getPrivate(),
          "POST\n" + path + "\n" + timestamp + "\n" + nonce + "\n" + body + "\n");
      String authorization = PayCrypto.SCHEMA + " mchid=\"" + SandboxConfig.DEFAULT_MCH_ID + "\",nonce_str=\""
          + nonce + "\",timestamp=\"" + timestamp + "\",serial_no=\"" + TestKeys.KEYS.merchantSerial()
          + "\",signature=\"" + signature + "\"";
      return Control.send(HttpRequest.newBuilder(URI.create(base + path))
          .header("Authorization", authorization).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)), Duration.ofSeconds(10)).status();
    }
  }
}
