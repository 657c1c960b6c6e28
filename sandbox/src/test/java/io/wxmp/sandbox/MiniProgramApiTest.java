package io.wxmp.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cn.binarywang.wx.miniapp.api.WxMaService;
import cn.binarywang.wx.miniapp.api.impl.WxMaServiceImpl;
import cn.binarywang.wx.miniapp.bean.WxMaJscode2SessionResult;
import cn.binarywang.wx.miniapp.bean.WxMaPhoneNumberInfo;
import cn.binarywang.wx.miniapp.bean.WxMaSubscribeMessage;
import cn.binarywang.wx.miniapp.bean.security.WxMaMsgSecCheckCheckRequest;
import cn.binarywang.wx.miniapp.bean.security.WxMaMsgSecCheckCheckResponse;
import cn.binarywang.wx.miniapp.config.impl.WxMaDefaultConfigImpl;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import me.chanjar.weixin.common.error.WxErrorException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The mini-program server API, driven through the real WxJava SDK. */
@ExtendWith(VertxExtension.class)
class MiniProgramApiTest {
  private static SandboxConfig config;
  private static int port;
  private static Control control;
  private static WxMaService wx;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    config = SandboxConfig.defaults(TestKeys.KEYS);
    SandboxVerticle sandbox = new SandboxVerticle(config);
    vertx.deployVerticle(sandbox).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = sandbox.actualPort();
    control = new Control(port);
    wx = wxMa(config.appId(), config.appSecret());
  }

  @AfterAll
  static void stop() {
    close(wx);
  }

  static void close(WxMaService service) {
    try {
      ((WxMaServiceImpl) service).getRequestHttpClient().close();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static WxMaService wxMa(String appId, String secret) {
    WxMaDefaultConfigImpl wxConfig = new WxMaDefaultConfigImpl();
    wxConfig.setAppid(appId);
    wxConfig.setSecret(secret);
    wxConfig.setApiHostUrl("http://127.0.0.1:" + port);
    wxConfig.setMaxRetryTimes(0);
    WxMaServiceImpl service = new WxMaServiceImpl();
    service.setWxMaConfig(wxConfig);
    service.setMaxRetryTimes(0);
    return service;
  }

  @Test
  void code2sessionReturnsTheUsersOpenidAndUnionid() throws Exception {
    JsonObject user = control.newUser(new JsonObject().put("unionid", "union-1"));

    WxMaJscode2SessionResult session = wx.getUserService().getSessionInfo(user.getString("code"));

    assertThat(session.getOpenid()).isEqualTo(user.getString("openid")).startsWith("o").hasSize(28);
    assertThat(session.getUnionid()).isEqualTo("union-1");
    assertThat(session.getSessionKey()).isNotBlank();
  }

  @Test
  void code2sessionKeepsTheOpenidOfAKnownUser() throws Exception {
    JsonObject first = control.newUser(new JsonObject());
    JsonObject again = control.newUser(new JsonObject().put("openid", first.getString("openid")));

    assertThat(again.getString("code")).isNotEqualTo(first.getString("code"));
    assertThat(wx.getUserService().getSessionInfo(again.getString("code")).getOpenid())
        .isEqualTo(first.getString("openid"));
  }

  @Test
  void code2sessionRejectsAnUnknownCodeWith40029() {
    assertThatThrownBy(() -> wx.getUserService().getSessionInfo("0unknown-code"))
        .isInstanceOfSatisfying(WxErrorException.class,
            e -> assertThat(e.getError().getErrorCode()).isEqualTo(40029));
  }

  @Test
  void code2sessionRejectsAReusedCodeWith40163() throws Exception {
    String code = control.newUser(new JsonObject()).getString("code");
    wx.getUserService().getSessionInfo(code);

    assertThatThrownBy(() -> wx.getUserService().getSessionInfo(code))
        .isInstanceOfSatisfying(WxErrorException.class,
            e -> assertThat(e.getError().getErrorCode()).isEqualTo(40163));
  }

  @Test
  void phoneNumberComesFromAOneUsePhoneCode() throws Exception {
    JsonObject user = control.newUser(new JsonObject().put("phone", "13900001111"));

    WxMaPhoneNumberInfo phone = wx.getUserService().getPhoneNumber(user.getString("phoneCode"));

    assertThat(phone.getPhoneNumber()).isEqualTo("13900001111");
    assertThat(phone.getPurePhoneNumber()).isEqualTo("13900001111");
    assertThat(phone.getCountryCode()).isEqualTo("86");
    assertThat(phone.getWatermark().getAppid()).isEqualTo(config.appId());
    assertThatThrownBy(() -> wx.getUserService().getPhoneNumber(user.getString("phoneCode")))
        .isInstanceOfSatisfying(WxErrorException.class,
            e -> assertThat(e.getError().getErrorCode()).isEqualTo(40029));
  }

  @Test
  void phoneNumberDefaultsToA138Number() throws Exception {
    JsonObject user = control.newUser(new JsonObject());

    assertThat(wx.getUserService().getPhoneNumber(user.getString("phoneCode")).getPhoneNumber())
        .matches("138\\d{8}")
        .isEqualTo(user.getString("phone"));
  }

  @Test
  void msgSecCheckPassesCleanTextAndFlagsRiskyWords() throws Exception {
    String openid = control.newUser(new JsonObject()).getString("openid");

    WxMaMsgSecCheckCheckResponse clean = wx.getSecurityService().checkMessage(
        WxMaMsgSecCheckCheckRequest.builder().version("2").openid(openid).scene(2).content("hello world").build());
    WxMaMsgSecCheckCheckResponse risky = wx.getSecurityService().checkMessage(
        WxMaMsgSecCheckCheckRequest.builder().version("2").openid(openid).scene(2).content("a RISKY nickname").build());

    assertThat(clean.getResult().getSuggest()).isEqualTo("pass");
    assertThat(clean.getResult().getLabel()).isEqualTo("100");
    assertThat(clean.getTraceId()).isNotBlank();
    assertThat(risky.getResult().getSuggest()).isEqualTo("risky");
    assertThat(risky.getResult().getLabel()).isNotEqualTo("100");
    assertThat(risky.getDetail()).isNotEmpty();
  }

  @Test
  void subscribeMessagesAreRecordedAndRefusedForUnsubscribedUsers() throws Exception {
    String openid = control.newUser(new JsonObject()).getString("openid");
    long sentBefore = control.stats().getLong("messagesSent");

    wx.getSubscribeService().sendSubscribeMsg(WxMaSubscribeMessage.builder()
        .toUser(openid).templateId("TPL-order-paid").page("pages/orders/index")
        .data(List.of(new WxMaSubscribeMessage.MsgData("thing1", "Course A"))).build());

    assertThat(control.stats().getLong("messagesSent")).isEqualTo(sentBefore + 1);
    JsonArray messages = control.get("/sandbox/messages").array();
    JsonObject sent = messages.stream().map(JsonObject.class::cast)
        .filter(m -> openid.equals(m.getString("touser"))).findFirst().orElseThrow();
    assertThat(sent.getString("template_id")).isEqualTo("TPL-order-paid");
    assertThat(sent.getString("page")).isEqualTo("pages/orders/index");
    assertThat(sent.getJsonObject("data").getJsonObject("thing1").getString("value")).isEqualTo("Course A");
    assertThat(sent.getLong("msgid")).isPositive();

    assertThat(control.post("/sandbox/users/" + openid + "/subscription",
        new JsonObject().put("subscribed", false)).status()).isEqualTo(204);
    assertThatThrownBy(() -> wx.getSubscribeService().sendSubscribeMsg(WxMaSubscribeMessage.builder()
        .toUser(openid).templateId("TPL-order-paid")
        .data(List.of(new WxMaSubscribeMessage.MsgData("thing1", "Course A"))).build()))
        .isInstanceOfSatisfying(WxErrorException.class,
            e -> assertThat(e.getError().getErrorCode()).isEqualTo(43101));
  }

  @Test
  void eachSdkInstanceFetchesOneTokenAndReusesIt() throws Exception {
    long before = control.stats().getLong("tokensIssued");
    WxMaService first = wxMa(config.appId(), config.appSecret());
    WxMaService second = wxMa(config.appId(), config.appSecret());
    try {
      for (int i = 0; i < 3; i++) {
        first.getUserService().getSessionInfo(control.newUser(new JsonObject()).getString("code"));
      }
      assertThat(control.stats().getLong("tokensIssued")).isEqualTo(before + 1);

      second.getUserService().getSessionInfo(control.newUser(new JsonObject()).getString("code"));
      assertThat(control.stats().getLong("tokensIssued")).isEqualTo(before + 2);
      // The first instance's token is replaced but, as at WeChat, still works for a few minutes.
      first.getUserService().getSessionInfo(control.newUser(new JsonObject()).getString("code"));
      assertThat(control.stats().getLong("tokensIssued")).isEqualTo(before + 2);
    } finally {
      close(first);
      close(second);
    }
  }

  @Test
  void stableTokenIsTheSameUntilForceRefresh() {
    JsonObject request = new JsonObject().put("grant_type", "client_credential")
        .put("appid", config.appId()).put("secret", config.appSecret());

    JsonObject one = control.post("/cgi-bin/stable_token", request).json();
    JsonObject two = control.post("/cgi-bin/stable_token", request).json();
    JsonObject forced = control.post("/cgi-bin/stable_token", request.copy().put("force_refresh", true)).json();

    assertThat(one.getString("access_token")).isNotBlank().isEqualTo(two.getString("access_token"));
    assertThat(one.getInteger("expires_in")).isGreaterThan(7000);
    assertThat(forced.getString("access_token")).isNotEqualTo(one.getString("access_token"));
  }

  @Test
  void wrongCredentialsAndUnknownTokensAreErrorsWithStatus200() {
    Control.Answer wrongSecret = control.get(
        "/cgi-bin/token?secret=nope&appid=" + config.appId() + "&grant_type=client_credential");
    Control.Answer wrongAppid = control.get(
        "/cgi-bin/token?grant_type=client_credential&appid=wx000&secret=" + config.appSecret());
    Control.Answer badToken = control.post("/wxa/msg_sec_check?access_token=not-a-token",
        new JsonObject().put("version", "2").put("openid", "o1").put("scene", 1).put("content", "x"));

    assertThat(wrongSecret.status()).isEqualTo(200);
    assertThat(wrongSecret.json().getInteger("errcode")).isEqualTo(40125);
    assertThat(wrongAppid.json().getInteger("errcode")).isEqualTo(40013);
    assertThat(badToken.status()).isEqualTo(200);
    assertThat(badToken.json().getInteger("errcode")).isEqualTo(40001);
    assertThat(badToken.json().getString("errmsg")).startsWith("invalid credential");
    assertThatThrownBy(() -> wxMa(config.appId(), "wrong-secret").getAccessToken())
        .isInstanceOfSatisfying(WxErrorException.class,
            e -> assertThat(e.getError().getErrorCode()).isEqualTo(40125));
  }

  @Test
  void expiredTokensAreRefreshedByTheSdk() throws Exception {
    WxMaService service = wxMa(config.appId(), config.appSecret());
    try {
      String openid = control.newUser(new JsonObject()).getString("openid");
      WxMaMsgSecCheckCheckRequest check =
          WxMaMsgSecCheckCheckRequest.builder().version("2").openid(openid).scene(1).content("fine").build();
      service.getSecurityService().checkMessage(check);
      long before = control.stats().getLong("tokensIssued");

      assertThat(control.post("/sandbox/tokens/expire", null).status()).isEqualTo(204);
      // 42001 makes WxJava fetch a new token and retry once.
      assertThat(service.getSecurityService().checkMessage(check).getResult().getSuggest()).isEqualTo("pass");
      assertThat(control.stats().getLong("tokensIssued")).isEqualTo(before + 1);
    } finally {
      close(service);
    }
  }

  @Test
  void faultDelayHoldsBackWeChatAnswersButNotTheControlApi() {
    String path = "/cgi-bin/token?grant_type=client_credential&appid=" + config.appId()
        + "&secret=" + config.appSecret();
    assertThat(control.post("/sandbox/faults", new JsonObject().put("delayMs", 400)).status()).isEqualTo(204);
    try {
      long started = System.nanoTime();
      assertThat(control.get("/sandbox/stats").status()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(300));

      assertThatThrownBy(() -> Control.send(HttpRequest.newBuilder(java.net.URI.create(control.base + path)).GET(),
          Duration.ofMillis(100))).hasRootCauseInstanceOf(java.net.http.HttpTimeoutException.class);

      started = System.nanoTime();
      assertThat(control.get(path).json().getString("access_token")).isNotBlank();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    } finally {
      assertThat(control.post("/sandbox/faults", new JsonObject().put("delayMs", 0)).status()).isEqualTo(204);
    }
  }
}
