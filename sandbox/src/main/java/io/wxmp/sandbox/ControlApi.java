package io.wxmp.sandbox;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The sandbox's own API under {@code /sandbox/} (API.md "Sandbox control API"): plays the WeChat user (login and
 * phone codes, subscriptions, paying), injects faults and shows what the sandbox saw. Never delayed by faults.
 */
final class ControlApi {
  private final Wire wire;
  private final WxUsers users;
  private final Stats stats;
  private final MiniProgramApi miniProgram;

  ControlApi(Wire wire, WxUsers users, Stats stats, MiniProgramApi miniProgram) {
    this.wire = wire;
    this.users = users;
    this.stats = stats;
    this.miniProgram = miniProgram;
  }

  void mount(Router router) {
    router.post("/sandbox/users").handler(this::createUser);
    router.post("/sandbox/users/:openid/subscription").handler(this::subscription);
    router.post("/sandbox/faults").handler(this::faults);
    router.post("/sandbox/tokens/expire").handler(this::expireTokens);
    router.get("/sandbox/stats").handler(ctx -> wire.json(ctx, 200, stats.toJson()));
    router.get("/sandbox/messages").handler(ctx -> wire.json(ctx, 200, miniProgram.messages()));
  }

  /** {@code {"openid"?, "unionid"?, "phone"?, "subscribed"?}} → 201 {@code {"openid","code","phoneCode",...}}. */
  private void createUser(RoutingContext ctx) {
    JsonObject body = optionalBody(ctx);
    if (body == null) {
      return;
    }
    String openid;
    String unionid;
    String phone;
    Boolean subscribed;
    try {
      openid = body.getString("openid");
      unionid = body.getString("unionid");
      phone = body.getString("phone");
      subscribed = body.getBoolean("subscribed");
    } catch (ClassCastException e) {
      badRequest(ctx, "openid, unionid and phone are strings, subscribed is a boolean");
      return;
    }
    if (phone != null && !phone.matches("\\d{5,20}")) {
      badRequest(ctx, "phone must be digits");
      return;
    }
    WxUsers.User user = users.getOrCreate(openid);
    if (unionid != null) {
      user.unionid = unionid;
    }
    if (phone != null) {
      user.phone = phone;
    } else if (user.phone == null) {
      user.phone = WxUsers.newPhone();
    }
    if (subscribed != null) {
      user.subscribed = subscribed;
    }
    long now = System.currentTimeMillis();
    JsonObject answer = new JsonObject()
        .put("openid", user.openid)
        .put("code", users.issueLoginCode(user, now))
        .put("phoneCode", users.issuePhoneCode(user, now))
        .put("phone", user.phone)
        .put("subscribed", user.subscribed);
    if (user.unionid != null) {
      answer.put("unionid", user.unionid);
    }
    wire.json(ctx, 201, answer);
  }

  /** {@code {"subscribed": bool}} → 204: whether the user accepts subscribe messages (43101 when not). */
  private void subscription(RoutingContext ctx) {
    WxUsers.User user = users.user(ctx.pathParam("openid"));
    JsonObject body = Wire.jsonBody(ctx);
    if (user == null) {
      error(ctx, 404, "not_found", "no such user");
    } else if (body == null || !(body.getValue("subscribed") instanceof Boolean subscribed)) {
      badRequest(ctx, "body must be {\"subscribed\": true|false}");
    } else {
      user.subscribed = subscribed;
      wire.noContent(ctx);
    }
  }

  /**
   * {@code {"delayMs"?: n, "subscribeFailures"?: m}} → 204: every WeChat answer comes n ms late (0 clears); the next m
   * subscribe message sends fail with errcode -1 (system busy).
   */
  private void faults(RoutingContext ctx) {
    JsonObject body = Wire.jsonBody(ctx);
    Object delay = body == null ? null : body.getValue("delayMs");
    Object failures = body == null ? null : body.getValue("subscribeFailures");
    if (body == null || (delay == null && failures == null)
        || (delay != null && (!(delay instanceof Number d) || d.longValue() < 0))
        || (failures != null && (!(failures instanceof Number f) || f.intValue() < 0))) {
      badRequest(ctx, "body must be {\"delayMs\": n, \"subscribeFailures\": m} with n, m >= 0");
      return;
    }
    if (delay != null) {
      wire.delayMs(((Number) delay).longValue());
    }
    if (failures != null) {
      miniProgram.failSubscribeSends(((Number) failures).intValue());
    }
    wire.noContent(ctx);
  }

  private void expireTokens(RoutingContext ctx) {
    miniProgram.expireTokens();
    wire.noContent(ctx);
  }

  /** The body as JSON, {} when empty; answers 400 and returns null when it is not a JSON object. */
  JsonObject optionalBody(RoutingContext ctx) {
    if (ctx.body().length() <= 0) {
      return new JsonObject();
    }
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null) {
      badRequest(ctx, "body must be a JSON object");
    }
    return body;
  }

  void badRequest(RoutingContext ctx, String message) {
    error(ctx, 400, "bad_request", message);
  }

  void error(RoutingContext ctx, int status, String code, String message) {
    wire.json(ctx, status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
  }
}
