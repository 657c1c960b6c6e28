package io.wxmp.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.wechat.pay.java.core.RSAPublicKeyConfig;
import com.wechat.pay.java.core.exception.ServiceException;
import com.wechat.pay.java.core.http.DefaultHttpClientBuilder;
import com.wechat.pay.java.core.http.HttpClient;
import com.wechat.pay.java.core.notification.NotificationParser;
import com.wechat.pay.java.core.notification.RequestParam;
import com.wechat.pay.java.service.payments.jsapi.JsapiServiceExtension;
import com.wechat.pay.java.service.payments.jsapi.model.Amount;
import com.wechat.pay.java.service.payments.jsapi.model.CloseOrderRequest;
import com.wechat.pay.java.service.payments.jsapi.model.Payer;
import com.wechat.pay.java.service.payments.jsapi.model.PrepayRequest;
import com.wechat.pay.java.service.payments.jsapi.model.PrepayWithRequestPaymentResponse;
import com.wechat.pay.java.service.payments.jsapi.model.QueryOrderByOutTradeNoRequest;
import com.wechat.pay.java.service.payments.model.Transaction;
import com.wechat.pay.java.service.refund.RefundService;
import com.wechat.pay.java.service.refund.model.AmountReq;
import com.wechat.pay.java.service.refund.model.CreateRequest;
import com.wechat.pay.java.service.refund.model.QueryByOutRefundNoRequest;
import com.wechat.pay.java.service.refund.model.Refund;
import com.wechat.pay.java.service.refund.model.RefundNotification;
import com.wechat.pay.java.service.refund.model.Status;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** WeChat Pay v3, driven through the real wechatpay-java SDK; notifies checked with the SDK's NotificationParser. */
@ExtendWith(VertxExtension.class)
class PayApiTest {
  private static final Duration WITHIN = Duration.ofSeconds(10);
  private static SandboxKeys keys;
  private static SandboxConfig config;
  private static Control control;
  private static NotifyReceiver receiver;
  private static RSAPublicKeyConfig payConfig;
  private static JsapiServiceExtension jsapi;
  private static RefundService refunds;
  private static NotificationParser parser;
  private static int port;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    keys = TestKeys.KEYS;
    config = SandboxConfig.defaults(keys).withNotifyTimeScale(0.001);
    SandboxVerticle sandbox = new SandboxVerticle(config);
    vertx.deployVerticle(sandbox).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = sandbox.actualPort();
    control = new Control(port);
    receiver = new NotifyReceiver().start(vertx);

    payConfig = payConfig(keys.merchant().getPrivate());
    HttpClient http = httpClient(payConfig);
    jsapi = new JsapiServiceExtension.Builder().config(payConfig).httpClient(http).build();
    refunds = new RefundService.Builder().httpClient(http).build();
    parser = new NotificationParser(payConfig);
  }

  static RSAPublicKeyConfig payConfig(java.security.PrivateKey merchantKey) {
    return new RSAPublicKeyConfig.Builder()
        .merchantId(config.mchId())
        .privateKey(merchantKey)
        .merchantSerialNumber(keys.merchantSerial())
        .publicKey(keys.platform().getPublic())
        .publicKeyId(keys.platformPublicKeyId())
        .apiV3Key(keys.apiV3Key())
        .build();
  }

  /** The SDK's HTTP client, its requests to api.mch.weixin.qq.com sent to the sandbox instead. */
  static HttpClient httpClient(RSAPublicKeyConfig payConfig) {
    OkHttpClient okHttp = new OkHttpClient.Builder()
        .protocols(List.of(Protocol.HTTP_1_1))
        .addInterceptor(chain -> {
          Request request = chain.request();
          if ("api.mch.weixin.qq.com".equals(request.url().host())) {
            HttpUrl url = request.url().newBuilder().scheme("http").host("127.0.0.1").port(port).build();
            request = request.newBuilder().url(url).build();
          }
          return chain.proceed(request);
        })
        .build();
    return new DefaultHttpClientBuilder().config(payConfig).okHttpClient(okHttp).build();
  }

  private static String newOutTradeNo() {
    return "T" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
  }

  private static PrepayRequest prepayRequest(String outTradeNo, int total, String notifyPath) {
    PrepayRequest request = new PrepayRequest();
    request.setAppid(config.appId());
    request.setMchid(config.mchId());
    request.setDescription("Course A");
    request.setOutTradeNo(outTradeNo);
    request.setNotifyUrl(receiver.url(notifyPath));
    Amount amount = new Amount();
    amount.setTotal(total);
    amount.setCurrency("CNY");
    request.setAmount(amount);
    Payer payer = new Payer();
    payer.setOpenid("o-payer-" + outTradeNo);
    request.setPayer(payer);
    return request;
  }

  private static Transaction query(String outTradeNo) {
    QueryOrderByOutTradeNoRequest request = new QueryOrderByOutTradeNoRequest();
    request.setOutTradeNo(outTradeNo);
    request.setMchid(config.mchId());
    return jsapi.queryOrderByOutTradeNo(request);
  }

  private static Control.Answer confirm(JsonObject body) {
    return control.post("/sandbox/pay/confirm", body);
  }

  private static <T> T parse(NotifyReceiver.Received notify, Class<T> type) {
    return parser.parse(new RequestParam.Builder()
        .serialNumber(notify.header("Wechatpay-Serial"))
        .nonce(notify.header("Wechatpay-Nonce"))
        .signature(notify.header("Wechatpay-Signature"))
        .timestamp(notify.header("Wechatpay-Timestamp"))
        .signType(notify.header("Wechatpay-Signature-Type"))
        .body(notify.body())
        .build(), type);
  }

  private static List<NotifyReceiver.Received> awaitNotifies(String path, int count) {
    List<NotifyReceiver.Received> got = Control.eventually(() -> receiver.at(path), l -> l.size() >= count, WITHIN);
    assertThat(got).hasSizeGreaterThanOrEqualTo(count);
    return got;
  }

  private static JsonObject notification(String outTradeNo, String eventType) {
    JsonArray all = control.get("/sandbox/pay/notifications").array();
    return all.stream().map(JsonObject.class::cast)
        .filter(n -> outTradeNo.equals(n.getString("outTradeNo")) && eventType.equals(n.getString("eventType")))
        .findFirst().orElseThrow();
  }

  @Test
  void prepayWithRequestPaymentGivesParamsSignedByTheMerchant() throws Exception {
    String outTradeNo = newOutTradeNo();

    PrepayWithRequestPaymentResponse pay = jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 990, "/n"));

    assertThat(pay.getAppId()).isEqualTo(config.appId());
    assertThat(pay.getPackageVal()).matches("prepay_id=wx[0-9a-f]{34}");
    assertThat(pay.getSignType()).isEqualTo("RSA");
    String message = pay.getAppId() + "\n" + pay.getTimeStamp() + "\n" + pay.getNonceStr() + "\n"
        + pay.getPackageVal() + "\n";
    assertThat(PayCrypto.verify(keys.merchant().getPublic(), message, pay.getPaySign())).isTrue();
    assertThat(control.stats().getLong("ordersCreated")).isPositive();
  }

  @Test
  void prepayIsIdempotentForTheSameOrderAndRejectsChangedContent() {
    String outTradeNo = newOutTradeNo();
    String first = jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 100, "/n")).getPackageVal();
    String again = jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 100, "/n")).getPackageVal();

    assertThat(again).isEqualTo(first);
    assertThatThrownBy(() -> jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 200, "/n")))
        .isInstanceOfSatisfying(ServiceException.class, e -> {
          assertThat(e.getHttpStatusCode()).isEqualTo(400);
          assertThat(e.getErrorCode()).isIn("PARAM_ERROR", "INVALID_REQUEST");
        });
  }

  @Test
  void prepayValidatesItsParameters() {
    PrepayRequest noDescription = prepayRequest(newOutTradeNo(), 100, "/n");
    noDescription.setDescription(null);
    PrepayRequest otherApp = prepayRequest(newOutTradeNo(), 100, "/n");
    otherApp.setAppid("wx0000000000000000");

    for (PrepayRequest bad : List.of(noDescription, otherApp)) {
      assertThatThrownBy(() -> jsapi.prepayWithRequestPayment(bad))
          .isInstanceOfSatisfying(ServiceException.class, e -> {
            assertThat(e.getHttpStatusCode()).isEqualTo(400);
            assertThat(e.getErrorCode()).isEqualTo("PARAM_ERROR");
          });
    }
  }

  @Test
  void queryShowsNotpayThenSuccessAfterTheUserPays() {
    String outTradeNo = newOutTradeNo();
    String prepayId = jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 1200, "/n")).getPackageVal()
        .substring("prepay_id=".length());

    Transaction unpaid = query(outTradeNo);
    assertThat(unpaid.getTradeState()).isEqualTo(Transaction.TradeStateEnum.NOTPAY);
    assertThat(unpaid.getTransactionId()).isNull();
    assertThat(unpaid.getAmount().getTotal()).isEqualTo(1200);

    Control.Answer paid = confirm(new JsonObject().put("prepayId", prepayId).put("notify", false));
    assertThat(paid.status()).isEqualTo(200);
    assertThat(paid.json().getString("trade_state")).isEqualTo("SUCCESS");

    Transaction transaction = query(outTradeNo);
    assertThat(transaction.getTradeState()).isEqualTo(Transaction.TradeStateEnum.SUCCESS);
    assertThat(transaction.getTradeType()).isEqualTo(Transaction.TradeTypeEnum.JSAPI);
    assertThat(transaction.getTransactionId()).hasSize(28).isEqualTo(paid.json().getString("transaction_id"));
    assertThat(transaction.getAmount().getPayerTotal()).isEqualTo(1200);
    assertThat(transaction.getAmount().getCurrency()).isEqualTo("CNY");
    assertThat(transaction.getPayer().getOpenid()).isEqualTo("o-payer-" + outTradeNo);
    assertThat(OffsetDateTime.parse(transaction.getSuccessTime())).isBefore(OffsetDateTime.now().plusMinutes(1));
    assertThat(transaction.getAppid()).isEqualTo(config.appId());
    assertThat(transaction.getMchid()).isEqualTo(config.mchId());
    // A missed notify: nothing was sent.
    assertThat(control.get("/sandbox/pay/notifications").array().stream().map(JsonObject.class::cast)
        .noneMatch(n -> outTradeNo.equals(n.getString("outTradeNo")))).isTrue();
    assertThat(confirm(new JsonObject().put("outTradeNo", outTradeNo)).status()).isEqualTo(409);
    assertThatThrownBy(() -> jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 1200, "/n")))
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.getErrorCode()).isEqualTo("ORDERPAID"));
  }

  @Test
  void unknownOrdersAre404OrderNotExist() {
    assertThatThrownBy(() -> query("NO-SUCH-ORDER-1"))
        .isInstanceOfSatisfying(ServiceException.class, e -> {
          assertThat(e.getHttpStatusCode()).isEqualTo(404);
          assertThat(e.getErrorCode()).isEqualTo("ORDER_NOT_EXIST");
        });
  }

  @Test
  void closeOrderClosesAnUnpaidOrderAndRefusesAPaidOne() {
    String open = newOutTradeNo();
    jsapi.prepayWithRequestPayment(prepayRequest(open, 100, "/n"));
    CloseOrderRequest close = new CloseOrderRequest();
    close.setMchid(config.mchId());
    close.setOutTradeNo(open);

    jsapi.closeOrder(close); // 204, signed over the empty body, or the SDK throws

    assertThat(query(open).getTradeState()).isEqualTo(Transaction.TradeStateEnum.CLOSED);
    assertThat(confirm(new JsonObject().put("outTradeNo", open)).status()).isEqualTo(409);

    String paid = newOutTradeNo();
    jsapi.prepayWithRequestPayment(prepayRequest(paid, 100, "/n"));
    confirm(new JsonObject().put("outTradeNo", paid).put("notify", false));
    close.setOutTradeNo(paid);
    assertThatThrownBy(() -> jsapi.closeOrder(close))
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.getErrorCode()).isEqualTo("ORDERPAID"));
  }

  @Test
  void anUnpaidOrderPastItsTimeExpireReadsClosed() {
    String outTradeNo = newOutTradeNo();
    PrepayRequest request = prepayRequest(outTradeNo, 100, "/n");
    request.setTimeExpire(OffsetDateTime.now(ZoneOffset.ofHours(8)).minusSeconds(1).truncatedTo(ChronoUnit.SECONDS)
        .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    jsapi.prepayWithRequestPayment(request);

    assertThat(query(outTradeNo).getTradeState()).isEqualTo(Transaction.TradeStateEnum.CLOSED);
    assertThat(confirm(new JsonObject().put("outTradeNo", outTradeNo)).status()).isEqualTo(409);
  }

  @Test
  void aBadAuthorizationGets401SignError() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    RSAPublicKeyConfig impostor = payConfig(generator.generateKeyPair().getPrivate());
    JsapiServiceExtension wrongKey =
        new JsapiServiceExtension.Builder().config(impostor).httpClient(httpClient(impostor)).build();

    assertThatThrownBy(() -> wrongKey.prepayWithRequestPayment(prepayRequest(newOutTradeNo(), 100, "/n")))
        .isInstanceOfSatisfying(ServiceException.class, e -> {
          assertThat(e.getHttpStatusCode()).isEqualTo(401);
          assertThat(e.getErrorCode()).isEqualTo("SIGN_ERROR");
        });

    Control.Answer noAuth = Control.send(java.net.http.HttpRequest.newBuilder(
        URI.create(control.base + "/v3/pay/transactions/out-trade-no/X123456?mchid=" + config.mchId())).GET(),
        WITHIN);
    assertThat(noAuth.status()).isEqualTo(401);
    assertThat(noAuth.json().getString("code")).isEqualTo("SIGN_ERROR");
    assertThat(noAuth.json().getString("message")).isNotBlank();
  }

  @Test
  void answersCarryTheWechatpayHeadersWithExactCapitalisationOverHttp11() throws Exception {
    String raw;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /v3/pay/transactions/out-trade-no/X123456?mchid=" + config.mchId()
          + " HTTP/1.1\r\nHost: api.mch.weixin.qq.com\r\nConnection: close\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      raw = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    assertThat(raw).startsWith("HTTP/1.1 401");
    String[] parts = raw.split("\r\n\r\n", 2);
    assertThat(parts[0]).contains("\r\nWechatpay-Timestamp: ", "\r\nWechatpay-Nonce: ", "\r\nWechatpay-Signature: ",
        "\r\nWechatpay-Serial: " + keys.platformPublicKeyId() + "\r\n", "\r\nRequest-ID: ",
        "\r\nContent-Type: application/json");
    String timestamp = parts[0].split("Wechatpay-Timestamp: ")[1].split("\r\n")[0];
    String nonce = parts[0].split("Wechatpay-Nonce: ")[1].split("\r\n")[0];
    String signature = parts[0].split("Wechatpay-Signature: ")[1].split("\r\n")[0];
    assertThat(PayCrypto.verify(keys.platform().getPublic(), timestamp + "\n" + nonce + "\n" + parts[1] + "\n",
        signature)).isTrue();
  }

  @Test
  void paymentNotifyIsSignedAndEncryptedForTheSdkParser() {
    String outTradeNo = newOutTradeNo();
    String path = "/pay/notify/" + outTradeNo;
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 3300, path));

    assertThat(confirm(new JsonObject().put("outTradeNo", outTradeNo)).status()).isEqualTo(200);

    NotifyReceiver.Received notify = awaitNotifies(path, 1).get(0);
    assertThat(notify.header("Wechatpay-Serial")).isEqualTo(keys.platformPublicKeyId());
    assertThat(notify.header("Wechatpay-Signature-Type")).isEqualTo("WECHATPAY2-SHA256-RSA2048");
    JsonObject body = new JsonObject(notify.body());
    assertThat(body.getString("event_type")).isEqualTo("TRANSACTION.SUCCESS");
    assertThat(body.getString("resource_type")).isEqualTo("encrypt-resource");
    assertThat(body.getJsonObject("resource").getString("original_type")).isEqualTo("transaction");
    assertThat(body.getJsonObject("resource").getString("algorithm")).isEqualTo("AEAD_AES_256_GCM");

    Transaction transaction = parse(notify, Transaction.class);
    assertThat(transaction.getOutTradeNo()).isEqualTo(outTradeNo);
    assertThat(transaction.getTradeState()).isEqualTo(Transaction.TradeStateEnum.SUCCESS);
    assertThat(transaction.getAmount().getTotal()).isEqualTo(3300);
    assertThat(transaction.getAmount().getPayerTotal()).isEqualTo(3300);
    assertThat(transaction.getTransactionId()).isEqualTo(query(outTradeNo).getTransactionId());

    JsonObject recorded = Control.eventually(() -> notification(outTradeNo, "TRANSACTION.SUCCESS"),
        n -> n.getBoolean("delivered"), WITHIN);
    assertThat(recorded.getString("body")).isEqualTo(notify.body());
    assertThat(recorded.getString("url")).isEqualTo(receiver.url(path));
    assertThat(recorded.getJsonObject("headers").getString("Wechatpay-Signature"))
        .isEqualTo(notify.header("Wechatpay-Signature"));
    assertThat(recorded.getJsonArray("attempts")).hasSize(1);
    assertThat(recorded.getJsonArray("attempts").getJsonObject(0).getInteger("status")).isEqualTo(204);
  }

  @Test
  void aFailedNotifyIsRetriedOnTheScaledScheduleUntilA2xx() {
    String outTradeNo = newOutTradeNo();
    String path = "/pay/notify/" + outTradeNo;
    receiver.answer(path, 500, 500, 204);
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 100, path));

    confirm(new JsonObject().put("outTradeNo", outTradeNo));

    List<NotifyReceiver.Received> notifies = awaitNotifies(path, 3);
    JsonObject recorded = Control.eventually(() -> notification(outTradeNo, "TRANSACTION.SUCCESS"),
        n -> n.getBoolean("delivered"), WITHIN);
    assertThat(recorded.getJsonArray("attempts").stream().map(a -> ((JsonObject) a).getInteger("status")))
        .containsExactly(500, 500, 204);
    assertThat(notifies).extracting(NotifyReceiver.Received::body).containsOnly(notifies.get(0).body());
    // Every attempt is freshly signed and verifies.
    for (NotifyReceiver.Received notify : notifies) {
      assertThat(parse(notify, Transaction.class).getOutTradeNo()).isEqualTo(outTradeNo);
    }
    assertThat(receiver.at(path)).hasSize(3);
  }

  @Test
  void confirmWithAnotherAmountReportsItAsThePayerTotal() {
    String outTradeNo = newOutTradeNo();
    String path = "/pay/notify/" + outTradeNo;
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 1000, path));

    confirm(new JsonObject().put("outTradeNo", outTradeNo).put("amount", 1));

    Transaction notified = parse(awaitNotifies(path, 1).get(0), Transaction.class);
    assertThat(notified.getAmount().getTotal()).isEqualTo(1000);
    assertThat(notified.getAmount().getPayerTotal()).isEqualTo(1);
    assertThat(query(outTradeNo).getAmount().getPayerTotal()).isEqualTo(1);
  }

  @Test
  void redeliverSendsTheSameNotifyAgain() {
    String outTradeNo = newOutTradeNo();
    String path = "/pay/notify/" + outTradeNo;
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 100, path));
    confirm(new JsonObject().put("outTradeNo", outTradeNo));
    NotifyReceiver.Received first = awaitNotifies(path, 1).get(0);
    String id = Control.eventually(() -> notification(outTradeNo, "TRANSACTION.SUCCESS"),
        n -> n.getBoolean("delivered"), WITHIN).getString("id");
    receiver.answer(path, 200);

    Control.Answer redelivered = control.post("/sandbox/pay/notifications/" + id + "/redeliver", null);

    assertThat(redelivered.status()).isEqualTo(200);
    assertThat(redelivered.json().getInteger("status")).isEqualTo(200);
    NotifyReceiver.Received second = awaitNotifies(path, 2).get(1);
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(second.header("Wechatpay-Signature")).isEqualTo(first.header("Wechatpay-Signature"));
    assertThat(second.header("Wechatpay-Timestamp")).isEqualTo(first.header("Wechatpay-Timestamp"));
    assertThat(notification(outTradeNo, "TRANSACTION.SUCCESS").getJsonArray("attempts")).hasSize(2);
    assertThat(control.post("/sandbox/pay/notifications/nope/redeliver", null).status()).isEqualTo(404);
  }

  @Test
  void aRefundSucceedsAfterAWhileAndSendsARefundNotify() {
    String outTradeNo = newOutTradeNo();
    String refundPath = "/pay/refund-notify/" + outTradeNo;
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 5000, "/pay/notify/" + outTradeNo));
    confirm(new JsonObject().put("outTradeNo", outTradeNo).put("notify", false));
    String transactionId = query(outTradeNo).getTransactionId();
    CreateRequest request = refundRequest(outTradeNo, "R" + outTradeNo, 2000, 5000, refundPath);

    Refund created = refunds.create(request);

    assertThat(created.getStatus()).isEqualTo(Status.PROCESSING);
    assertThat(created.getOutRefundNo()).isEqualTo("R" + outTradeNo);
    assertThat(created.getOutTradeNo()).isEqualTo(outTradeNo);
    assertThat(created.getTransactionId()).isEqualTo(transactionId);
    assertThat(created.getRefundId()).isNotBlank();
    assertThat(created.getCreateTime()).isNotBlank();
    assertThat(created.getAmount().getRefund()).isEqualTo(2000);
    assertThat(created.getAmount().getTotal()).isEqualTo(5000);
    assertThat(created.getAmount().getPayerRefund()).isEqualTo(2000);
    // The same request again is the same refund.
    assertThat(refunds.create(request).getRefundId()).isEqualTo(created.getRefundId());

    QueryByOutRefundNoRequest queryRefund = new QueryByOutRefundNoRequest();
    queryRefund.setOutRefundNo("R" + outTradeNo);
    Refund done = Control.eventually(() -> refunds.queryByOutRefundNo(queryRefund),
        r -> r.getStatus() == Status.SUCCESS, WITHIN);
    assertThat(done.getStatus()).isEqualTo(Status.SUCCESS);
    assertThat(done.getSuccessTime()).isNotBlank();
    assertThat(query(outTradeNo).getTradeState()).isEqualTo(Transaction.TradeStateEnum.REFUND);

    NotifyReceiver.Received notify = awaitNotifies(refundPath, 1).get(0);
    assertThat(new JsonObject(notify.body()).getString("event_type")).isEqualTo("REFUND.SUCCESS");
    assertThat(new JsonObject(notify.body()).getJsonObject("resource").getString("original_type")).isEqualTo("refund");
    RefundNotification refunded = parse(notify, RefundNotification.class);
    assertThat(refunded.getOutTradeNo()).isEqualTo(outTradeNo);
    assertThat(refunded.getOutRefundNo()).isEqualTo("R" + outTradeNo);
    assertThat(refunded.getRefundId()).isEqualTo(created.getRefundId());
    assertThat(refunded.getTransactionId()).isEqualTo(transactionId);
    assertThat(refunded.getRefundStatus()).isEqualTo(Status.SUCCESS);
    assertThat(refunded.getAmount().getRefund()).isEqualTo(2000);
    assertThat(refunded.getAmount().getTotal()).isEqualTo(5000);
    assertThat(refunded.getAmount().getPayerTotal()).isEqualTo(5000);
    assertThat(refunded.getAmount().getPayerRefund()).isEqualTo(2000);

    // 3000 is left to refund: 3001 is too much, 3000 is fine.
    assertThatThrownBy(() -> refunds.create(refundRequest(outTradeNo, "R2" + outTradeNo, 3001, 5000, refundPath)))
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.getHttpStatusCode()).isEqualTo(400));
    assertThat(refunds.create(refundRequest(outTradeNo, "R3" + outTradeNo, 3000, 5000, refundPath)).getStatus())
        .isEqualTo(Status.PROCESSING);
  }

  @Test
  void anUnpaidOrderCannotBeRefunded() {
    String outTradeNo = newOutTradeNo();
    jsapi.prepayWithRequestPayment(prepayRequest(outTradeNo, 100, "/n"));

    assertThatThrownBy(() -> refunds.create(refundRequest(outTradeNo, "R" + outTradeNo, 100, 100, "/r")))
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.getHttpStatusCode()).isEqualTo(400));
    QueryByOutRefundNoRequest missing = new QueryByOutRefundNoRequest();
    missing.setOutRefundNo("R" + outTradeNo);
    assertThatThrownBy(() -> refunds.queryByOutRefundNo(missing))
        .isInstanceOfSatisfying(ServiceException.class, e -> assertThat(e.getHttpStatusCode()).isEqualTo(404));
  }

  private static CreateRequest refundRequest(String outTradeNo, String outRefundNo, long refund, long total,
      String notifyPath) {
    CreateRequest request = new CreateRequest();
    request.setOutTradeNo(outTradeNo);
    request.setOutRefundNo(outRefundNo);
    request.setReason("customer asked");
    request.setNotifyUrl(receiver.url(notifyPath));
    AmountReq amount = new AmountReq();
    amount.setRefund(refund);
    amount.setTotal(total);
    amount.setCurrency("CNY");
    request.setAmount(amount);
    return request;
  }
}
