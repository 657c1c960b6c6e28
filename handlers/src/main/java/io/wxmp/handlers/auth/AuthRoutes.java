package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.Limits;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.Sessions;
import io.wxmp.handlers.common.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /auth/*} and {@code /me*}: WeChat login, phone binding, logout (here or everywhere), the user's profile, the
 * avatar upload, subscribe message consents, and the privacy rights: export everything, erase the account.
 */
public final class AuthRoutes {
  private static final Logger log = LoggerFactory.getLogger(AuthRoutes.class);
  private final AuthService service;
  private final PrivacyRepository privacy;
  private final Avatars avatars;
  private final SubscriptionRepository subscriptions;
  private final AuthConfig config;
  private final Deps deps;

  private AuthRoutes(AuthService service, PrivacyRepository privacy, Avatars avatars,
      SubscriptionRepository subscriptions, AuthConfig config, Deps deps) {
    this.service = service;
    this.privacy = privacy;
    this.avatars = avatars;
    this.subscriptions = subscriptions;
    this.config = config;
    this.deps = deps;
  }

  /**
   * Routes relative to {@code /api/v1}; the caller mounts a body handler in front (and one of its own, with file
   * uploads, in front of {@code POST /me/avatar}).
   */
  public static Router create(Deps deps, AuthConfig config) {
    AuthService service = new AuthService(deps.wechat(), deps.upstream(), deps.sessions(), new UserRepository(deps.pg()),
        config.phoneCipher(), deps.profiles());
    Avatars avatars = new Avatars(deps.vertx(), deps.pg(), deps.wechat(), deps.upstream(), config.publicUrl());
    AuthRoutes routes = new AuthRoutes(service, new PrivacyRepository(deps.pg(), config.phoneCipher()), avatars,
        new SubscriptionRepository(deps.pg()), config, deps);
    Router router = Router.router(deps.vertx());
    // each of these costs a WeChat call: a token bucket per client address (login) or per user in front
    Limits limits = deps.limits();
    router.post("/auth/login").handler(limits.wechatLogin().handler(limits.clients()::of));
    router.post("/auth/login").handler(Respond.json(routes::login));
    router.route("/auth/phone").handler(Authenticate.users(deps.sessions()));
    router.post("/auth/phone").handler(limits.profile().handler(AuthRoutes::userKey));
    router.post("/auth/phone").handler(Respond.json(routes::phone));
    router.route("/auth/logout").handler(Authenticate.users(deps.sessions()));
    router.post("/auth/logout").handler(Respond.noContent(routes::logout));
    // GET /me authenticates itself: the session and the cached answer in one round trip (Sessions.userAnd)
    router.get("/me").handler(Respond.encodedJson(routes::me));
    router.route("/me").handler(Authenticate.users(deps.sessions()));
    for (String path : List.of("/me/export", "/me/avatar", "/me/subscriptions")) {
      router.route(path).handler(Authenticate.users(deps.sessions()));
    }
    router.patch("/me").handler(limits.profile().handler(AuthRoutes::userKey));
    router.patch("/me").handler(Respond.json(routes::updateMe));
    router.delete("/me").handler(Respond.noContent(routes::erase));
    router.get("/me/export").handler(Respond.json(routes::export));
    router.post("/me/avatar").handler(limits.profile().handler(AuthRoutes::userKey));
    router.post("/me/avatar").handler(Respond.json(routes::avatar));
    router.get("/me/subscriptions").handler(Respond.json(routes::subscriptions));
    router.post("/me/subscriptions").handler(Respond.json(routes::acceptSubscriptions));
    return router;
  }

  private static String userKey(RoutingContext ctx) {
    return Long.toString(Authenticate.user(ctx).userId());
  }

  /** {@code GET /media/{id}} (outside {@code /api/v1}): uploaded images. */
  public static io.vertx.core.Handler<RoutingContext> media(Deps deps) {
    return new Avatars(deps.vertx(), deps.pg(), deps.wechat(), deps.upstream(), null)::serve;
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

  /** {@code POST /auth/logout}; {@code ?all=true} logs out everywhere (every token of the user). */
  Future<Void> logout(RoutingContext ctx) {
    String all = ctx.queryParams().get("all");
    if (all != null && !all.equals("true") && !all.equals("false")) {
      throw ApiException.invalid(new JsonObject().put("all", "must be true or false"));
    }
    return "true".equals(all) ? service.logoutEverywhere(Authenticate.user(ctx))
        : service.logout(Authenticate.token(ctx));
  }

  Future<JsonObject> export(RoutingContext ctx) {
    return privacy.export(Authenticate.user(ctx).userId()).map(doc -> {
      if (doc == null) {
        throw ApiException.unauthorized();
      }
      return doc;
    });
  }

  /**
   * {@code DELETE /me}: the leaderboards first (they are found through the attempts), then the database in one
   * transaction (and the {@code GET /me} cache right after it), then other features' Redis state, and the tokens last,
   * so a failure on the way can be retried with the same token.
   */
  Future<Void> erase(RoutingContext ctx) {
    UserPrincipal user = Authenticate.user(ctx);
    return privacy.quizzesPlayed(user.userId())
        .compose(quizzes -> {
          List<Future<Void>> removed = new ArrayList<>();
          for (long quizId : quizzes) {
            removed.add(io.wxmp.handlers.common.Redis.bounded(deps.redis().zrem(List.of(
                io.wxmp.handlers.quiz.Leaderboard.key(quizId), Long.toString(user.userId())))).mapEmpty());
          }
          return Future.all(removed);
        })
        .compose(v -> privacy.erase(user.userId()).eventually(() -> deps.profiles().invalidate(user.userId())))
        .compose(erased -> {
          List<Future<Void>> forgotten = new ArrayList<>();
          config.forgetters().forEach(f -> forgotten.add(f.apply(user.userId())));
          return Future.all(forgotten);
        })
        .compose(v -> deps.sessions().revokeAll(Sessions.Owner.USER, user.userId(), null))
        .onSuccess(v -> log.info("user {} erased", user.userId()));
  }

  Future<JsonObject> avatar(RoutingContext ctx) {
    UserPrincipal user = Authenticate.user(ctx);
    return avatars.upload(ctx, user).eventually(() -> deps.profiles().invalidate(user.userId()))
        .compose(v -> service.profile(user)).map(AuthRoutes::profileJson);
  }

  /** The configured templates and how many messages of each the user has accepted and not yet received. */
  Future<JsonObject> subscriptions(RoutingContext ctx) {
    return subscriptionsJson(Authenticate.user(ctx));
  }

  /**
   * {@code {"templateIds": [...]}}: the ids the user accepted in {@code wx.requestSubscribeMessage} (each acceptance
   * allows one message); only this mini-program's configured templates.
   */
  Future<JsonObject> acceptSubscriptions(RoutingContext ctx) {
    UserPrincipal user = Authenticate.user(ctx);
    Input in = Input.of(ctx);
    List<String> ids = in.strings("templateIds", 10, 128, true);
    if (ids != null) {
      for (int i = 0; i < ids.size(); i++) {
        in.check(config.templates().containsValue(ids.get(i)), "templateIds[" + i + "]",
            "is not a template of this mini-program");
      }
    }
    in.validate();
    return subscriptions.accept(user.userId(), ids).compose(v -> subscriptionsJson(user));
  }

  private Future<JsonObject> subscriptionsJson(UserPrincipal user) {
    return subscriptions.unused(user.userId()).map(unused -> {
      JsonObject templates = new JsonObject();
      config.templates().forEach(templates::put);
      JsonObject remaining = new JsonObject();
      config.templates().values().forEach(id -> remaining.put(id, unused.getOrDefault(id, 0L)));
      return new JsonObject().put("templates", templates).put("remaining", remaining);
    });
  }

  /**
   * The cached answer when there is one (read with the session when this server knows the token: one round trip);
   * otherwise PostgreSQL's, stored for the next time unless a write came in while it was read (see
   * {@link ProfileCache}).
   */
  Future<String> me(RoutingContext ctx) {
    ProfileCache profiles = deps.profiles();
    return deps.sessions().userAnd(Authenticate.bearer(ctx), profiles::read).compose(found -> {
      UserPrincipal user = found.user();
      Authenticate.remember(ctx, user, Authenticate.bearer(ctx));
      return (found.also() != null ? profiles.get(user.userId(), found.also()) : profiles.get(user.userId()))
          .compose(cached -> answer(user, cached));
    });
  }

  private Future<String> answer(UserPrincipal user, ProfileCache.Lookup cached) {
    return cached.answer() != null
        ? Future.succeededFuture(cached.answer())
        : service.profile(user).map(p -> {
          String answer = profileJson(p).encode();
          deps.profiles().put(user.userId(), cached.generation(), answer,
              p.memberUntil() == null ? null : p.memberUntil().toInstant().toEpochMilli());
          return answer;
        });
  }

  Future<JsonObject> updateMe(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String nickname = in.displayName("nickname", 1, 32, false);
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
