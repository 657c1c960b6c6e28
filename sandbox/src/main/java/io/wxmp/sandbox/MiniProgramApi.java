package io.wxmp.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The mini-program server API (WECHAT.md "Mini-program server API"): access tokens (plain and stable), jscode2session,
 * phone numbers, text content security and subscribe messages. Every answer is HTTP 200; failures carry
 * {@code errcode}/{@code errmsg}. State is touched only on the sandbox's event loop.
 */
final class MiniProgramApi {
  static final long TOKEN_TTL_MS = 7200 * 1000L;
  /** WeChat keeps a replaced token working for five more minutes. */
  static final long TOKEN_GRACE_MS = 5 * 60 * 1000L;

  private final SandboxConfig config;
  private final Wire wire;
  private final WxUsers users;
  private final Stats stats;
  private final Map<String, Long> tokenExpiry = new HashMap<>();
  private final List<JsonObject> messages = new ArrayList<>();
  private int subscribeFailures;
  private String latestToken;
  private String stableToken;

  MiniProgramApi(SandboxConfig config, Wire wire, WxUsers users, Stats stats) {
    this.config = config;
    this.wire = wire;
    this.users = users;
    this.stats = stats;
  }

  void mount(Router router) {
    router.get("/cgi-bin/token").handler(this::token);
    router.post("/cgi-bin/stable_token").handler(this::stableToken);
    router.get("/sns/jscode2session").handler(this::jscode2session);
    router.post("/wxa/business/getuserphonenumber").handler(this::phoneNumber);
    router.post("/wxa/msg_sec_check").handler(this::msgSecCheck);
    router.post("/cgi-bin/message/subscribe/send").handler(this::subscribeSend);
    router.post("/wxa/img_sec_check").handler(this::imgSecCheck);
  }

  /** The next {@code n} subscribe sends fail with WeChat's "system busy" (-1), as a real outage does (control API). */
  void failSubscribeSends(int n) {
    subscribeFailures = n;
  }

  // --- access tokens -------------------------------------------------------------------------------------------

  private void token(RoutingContext ctx) {
    Map<String, String> q = Wire.query(ctx);
    stats.increment("tokenRequests");
    if (!"client_credential".equals(q.get("grant_type"))) {
      wire.wxError(ctx, 40002, "invalid grant_type");
    } else if (rejectApp(ctx, q.get("appid"), q.get("secret"))) {
      return;
    } else {
      long now = System.currentTimeMillis();
      if (latestToken != null) {
        graceOut(latestToken, now);
      }
      latestToken = issueToken(now);
      wire.wx(ctx, new JsonObject().put("access_token", latestToken).put("expires_in", 7200));
    }
  }

  private void stableToken(RoutingContext ctx) {
    stats.increment("tokenRequests");
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null) {
      wire.wxError(ctx, 47001, "data format error");
      return;
    }
    if (!"client_credential".equals(body.getValue("grant_type"))) {
      wire.wxError(ctx, 40002, "invalid grant_type");
      return;
    }
    if (rejectApp(ctx, string(body, "appid"), string(body, "secret"))) {
      return;
    }
    long now = System.currentTimeMillis();
    boolean force = Boolean.TRUE.equals(body.getValue("force_refresh"));
    Long expiry = stableToken == null ? null : tokenExpiry.get(stableToken);
    // A still-valid stable token is handed out again; near its end (under WxJava's 200 s margin) a new one comes.
    if (force || expiry == null || expiry - now < TOKEN_GRACE_MS) {
      if (stableToken != null) {
        graceOut(stableToken, now);
      }
      stableToken = issueToken(now);
      expiry = tokenExpiry.get(stableToken);
    }
    wire.wx(ctx, new JsonObject().put("access_token", stableToken).put("expires_in", (expiry - now) / 1000));
  }

  private boolean rejectApp(RoutingContext ctx, String appid, String secret) {
    if (!config.appId().equals(appid)) {
      wire.wxError(ctx, 40013, "invalid appid");
      return true;
    }
    if (!config.appSecret().equals(secret)) {
      wire.wxError(ctx, 40125, "invalid appsecret");
      return true;
    }
    return false;
  }

  private String issueToken(long now) {
    // Real tokens are long and use letters, digits, '-' and '_'.
    String token = "89_" + Wire.randomToken(120);
    tokenExpiry.put(token, now + TOKEN_TTL_MS);
    stats.increment("tokensIssued");
    return token;
  }

  private void graceOut(String token, long now) {
    tokenExpiry.computeIfPresent(token, (t, expiry) -> Math.min(expiry, now + TOKEN_GRACE_MS));
  }

  /** Makes every token issued so far expired: the next call with one gets 42001 (control API). */
  void expireTokens() {
    long past = System.currentTimeMillis() - 1;
    tokenExpiry.replaceAll((t, expiry) -> Math.min(expiry, past));
  }

  /** Answers the error and returns false when the request's access_token is missing, unknown or expired. */
  private boolean checkToken(RoutingContext ctx) {
    String token = Wire.query(ctx).get("access_token");
    if (token == null || token.isEmpty()) {
      wire.wxError(ctx, 41001, "access_token missing");
      return false;
    }
    Long expiry = tokenExpiry.get(token);
    if (expiry == null) {
      wire.wxError(ctx, 40001, "invalid credential, access_token is invalid or not latest");
      return false;
    }
    if (expiry <= System.currentTimeMillis()) {
      wire.wxError(ctx, 42001, "access_token expired");
      return false;
    }
    return true;
  }

  void prune(long now) {
    tokenExpiry.values().removeIf(expiry -> expiry + TOKEN_TTL_MS < now);
  }

  // --- login and phone ---------------------------------------------------------------------------------------

  private void jscode2session(RoutingContext ctx) {
    Map<String, String> q = Wire.query(ctx);
    stats.increment("code2sessionCalls");
    if (rejectApp(ctx, q.get("appid"), q.get("secret"))) {
      return;
    }
    String jsCode = q.get("js_code");
    if (jsCode == null || jsCode.isEmpty()) {
      wire.wxError(ctx, 41008, "missing code");
      return;
    }
    WxUsers.Code code = users.loginCode(jsCode);
    if (code == null || code.expiresAt <= System.currentTimeMillis()) {
      wire.wxError(ctx, 40029, "invalid code");
      return;
    }
    if (code.used) {
      wire.wxError(ctx, 40163, "code been used");
      return;
    }
    code.used = true;
    WxUsers.User user = users.getOrCreate(code.openid);
    byte[] sessionKey = new byte[16];
    Wire.RANDOM.nextBytes(sessionKey);
    JsonObject answer = new JsonObject()
        .put("session_key", Base64.getEncoder().encodeToString(sessionKey))
        .put("openid", user.openid);
    if (user.unionid != null) {
      answer.put("unionid", user.unionid);
    }
    wire.wx(ctx, answer);
  }

  private void phoneNumber(RoutingContext ctx) {
    if (!checkToken(ctx)) {
      return;
    }
    stats.increment("phoneNumberCalls");
    JsonObject body = Wire.jsonBody(ctx);
    WxUsers.Code code = body == null ? null : users.phoneCode(string(body, "code"));
    if (code == null || code.used || code.expiresAt <= System.currentTimeMillis()) {
      wire.wxError(ctx, 40029, "invalid code");
      return;
    }
    code.used = true;
    WxUsers.User user = users.getOrCreate(code.openid);
    if (user.phone == null) {
      user.phone = WxUsers.newPhone();
    }
    JsonObject phoneInfo = new JsonObject()
        .put("phoneNumber", user.phone)
        .put("purePhoneNumber", user.phone)
        .put("countryCode", "86")
        .put("watermark", new JsonObject()
            .put("timestamp", System.currentTimeMillis() / 1000)
            .put("appid", config.appId()));
    wire.wx(ctx, new JsonObject().put("errcode", 0).put("errmsg", "ok").put("phone_info", phoneInfo));
  }

  // --- content security ----------------------------------------------------------------------------------------

  private void msgSecCheck(RoutingContext ctx) {
    if (!checkToken(ctx)) {
      return;
    }
    stats.increment("msgSecChecks");
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null || !(body.getValue("content") instanceof String content)) {
      wire.wxError(ctx, 47001, "data format error");
      return;
    }
    String hit = riskyWord(content, string(body, "title"), string(body, "nickname"), string(body, "signature"));
    if (!"2".equals(String.valueOf(body.getValue("version")))) {
      // Version 1 answers only with an errcode: 87014 for risky content.
      if (hit != null) {
        wire.wxError(ctx, 87014, "risky content");
      } else {
        wire.wx(ctx, new JsonObject().put("errcode", 0).put("errmsg", "ok"));
      }
      return;
    }
    Object scene = body.getValue("scene");
    String openid = string(body, "openid");
    if (openid == null || openid.isEmpty() || !(scene instanceof Number n) || n.intValue() < 1 || n.intValue() > 4) {
      wire.wxError(ctx, 47001, "data format error");
      return;
    }
    String suggest = hit == null ? "pass" : "risky";
    int label = hit == null ? 100 : 21000;
    JsonArray detail = new JsonArray().add(new JsonObject()
        .put("strategy", "content_model").put("errcode", 0).put("suggest", suggest).put("label", label)
        .put("prob", hit == null ? 0 : 90));
    if (hit != null) {
      detail.add(new JsonObject().put("strategy", "keyword").put("errcode", 0).put("suggest", "risky")
          .put("label", label).put("level", 20).put("keyword", hit));
    }
    wire.wx(ctx, new JsonObject()
        .put("errcode", 0)
        .put("errmsg", "ok")
        .put("result", new JsonObject().put("suggest", suggest).put("label", label))
        .put("detail", detail)
        .put("trace_id", Wire.rid()));
  }

  /** The first configured risky word found in any of the texts, case-insensitively; null when none. */
  private String riskyWord(String... texts) {
    for (String text : texts) {
      if (text == null) {
        continue;
      }
      String lower = text.toLowerCase(Locale.ROOT);
      for (String word : config.riskyWords()) {
        if (!word.isEmpty() && lower.contains(word.toLowerCase(Locale.ROOT))) {
          return word;
        }
      }
    }
    return null;
  }

  /**
   * Image content security ({@code img_sec_check}): a multipart upload with the file in field {@code media}. An image
   * whose bytes contain a configured risky word (say, in a PNG text chunk) is risky: 87014, as WeChat answers.
   */
  private void imgSecCheck(RoutingContext ctx) {
    if (!checkToken(ctx)) {
      return;
    }
    stats.increment("imgSecChecks");
    io.vertx.ext.web.FileUpload media = ctx.fileUploads().stream().filter(f -> "media".equals(f.name())).findFirst()
        .orElse(null);
    if (media == null) {
      wire.wxError(ctx, 41005, "media data missing");
      return;
    }
    ctx.vertx().fileSystem().readFile(media.uploadedFileName()).onComplete(read -> {
      if (read.failed()) {
        wire.wxError(ctx, -1, "system error");
        return;
      }
      String raw = read.result().toString(java.nio.charset.StandardCharsets.ISO_8859_1);
      for (String word : config.riskyWords()) {
        String bytes = new String(word.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            java.nio.charset.StandardCharsets.ISO_8859_1);
        if (!word.isEmpty() && raw.contains(bytes)) {
          wire.wxError(ctx, 87014, "risky content");
          return;
        }
      }
      wire.wx(ctx, new JsonObject().put("errcode", 0).put("errmsg", "ok"));
    });
  }

  // --- subscribe messages --------------------------------------------------------------------------------------

  private void subscribeSend(RoutingContext ctx) {
    if (!checkToken(ctx)) {
      return;
    }
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null) {
      wire.wxError(ctx, 47001, "data format error");
      return;
    }
    if (subscribeFailures > 0) {
      subscribeFailures--;
      stats.increment("messagesFailed");
      wire.wxError(ctx, -1, "system error");
      return;
    }
    String touser = string(body, "touser");
    WxUsers.User user = touser == null ? null : users.user(touser);
    if (user == null) {
      wire.wxError(ctx, 40003, "invalid openid");
      return;
    }
    String templateId = string(body, "template_id");
    if (templateId == null || templateId.isBlank()) {
      wire.wxError(ctx, 40037, "invalid template_id");
      return;
    }
    if (!(body.getValue("data") instanceof JsonObject data) || !validData(data)) {
      wire.wxError(ctx, 47003, "argument invalid! data.value invalid");
      return;
    }
    if (!user.subscribed) {
      wire.wxError(ctx, 43101, "user refuse to accept the msg");
      return;
    }
    long msgid = 1_000_000_000L + (Wire.RANDOM.nextLong() & 0x7fff_ffff_ffffL);
    messages.add(new JsonObject()
        .put("msgid", msgid)
        .put("touser", touser)
        .put("template_id", templateId)
        .put("page", body.getValue("page"))
        .put("miniprogram_state", body.getValue("miniprogram_state"))
        .put("lang", body.getValue("lang"))
        .put("data", data.copy())
        .put("sentAt", java.time.OffsetDateTime.now().toString()));
    stats.increment("messagesSent");
    wire.wx(ctx, new JsonObject().put("errcode", 0).put("errmsg", "ok").put("msgid", msgid));
  }

  private static boolean validData(JsonObject data) {
    for (Map.Entry<String, Object> entry : data) {
      if (!(entry.getValue() instanceof JsonObject field) || !field.containsKey("value")) {
        return false;
      }
    }
    return true;
  }

  JsonArray messages() {
    JsonArray out = new JsonArray();
    messages.forEach(m -> out.add(m.copy()));
    return out;
  }

  private static String string(JsonObject body, String name) {
    return body.getValue(name) instanceof String s ? s : null;
  }
}
