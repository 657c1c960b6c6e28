package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.Respond;

/** {@code /auth/*} and {@code /me}: WeChat login, phone binding, logout and the user's profile. */
public final class AuthRoutes {
  private final AuthService service;

  private AuthRoutes(AuthService service) {
    this.service = service;
  }

  /** Routes relative to {@code /api/v1}; the caller mounts a body handler in front. */
  public static Router create(Deps deps) {
    AuthService service = new AuthService(deps.wechat(), deps.upstream(), deps.sessions(), new UserRepository(deps.pg()));
    AuthRoutes routes = new AuthRoutes(service);
    Router router = Router.router(deps.vertx());
    router.post("/auth/login").handler(Respond.json(routes::login));
    router.route("/auth/phone").handler(Authenticate.users(deps.sessions()));
    router.post("/auth/phone").handler(Respond.json(routes::phone));
    router.route("/auth/logout").handler(Authenticate.users(deps.sessions()));
    router.post("/auth/logout").handler(Respond.noContent(routes::logout));
    router.route("/me").handler(Authenticate.users(deps.sessions()));
    router.get("/me").handler(Respond.json(routes::me));
    router.patch("/me").handler(Respond.json(routes::updateMe));
    return router;
  }

  Future<JsonObject> login(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String code = in.string("code", 1, 128, true);
    in.validate();
    return service.login(code).map(login -> new JsonObject()
        .put("token", login.token())
        .put("expiresIn", login.expiresIn())
        .put("user", new JsonObject()
            .put("id", Json.id(login.user().id()))
            .put("nickname", login.user().nickname())
            .put("avatarUrl", login.user().avatarUrl())
            .put("phoneBound", login.user().phoneBound())
            .put("isNew", login.user().isNew())));
  }

  Future<JsonObject> phone(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String code = in.string("code", 1, 128, true);
    in.validate();
    return service.bindPhone(Authenticate.user(ctx), code)
        .map(masked -> new JsonObject().put("phoneBound", true).put("phoneMasked", masked));
  }

  Future<Void> logout(RoutingContext ctx) {
    return service.logout(Authenticate.token(ctx));
  }

  Future<JsonObject> me(RoutingContext ctx) {
    return service.profile(Authenticate.user(ctx)).map(AuthRoutes::profileJson);
  }

  Future<JsonObject> updateMe(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String nickname = in.string("nickname", 1, 32, false);
    String avatarUrl = in.url("avatarUrl", 512, false);
    Boolean personalised = null;
    if (in.has("personalised")) {
      Object value = in.raw().getValue("personalised");
      in.check(value instanceof Boolean, "personalised", "must be true or false");
      personalised = value instanceof Boolean b ? b : null;
    }
    in.check(in.has("nickname") || in.has("avatarUrl") || in.has("personalised"), "nickname",
        "give nickname, avatarUrl or personalised");
    in.validate();
    return service.updateProfile(Authenticate.user(ctx), nickname, avatarUrl, personalised)
        .map(AuthRoutes::profileJson);
  }

  static JsonObject profileJson(UserRepository.Profile p) {
    return new JsonObject()
        .put("id", Json.id(p.id()))
        .put("nickname", p.nickname())
        .put("avatarUrl", p.avatarUrl())
        .put("phoneBound", p.phoneBound())
        .put("points", p.points())
        .put("memberUntil", Json.time(p.memberUntil()))
        .put("personalised", p.personalised());
  }
}
