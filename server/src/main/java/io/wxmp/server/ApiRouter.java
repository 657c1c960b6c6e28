package io.wxmp.server;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.MethodOverrideHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.wxmp.handlers.admin.AccountRoutes;
import io.wxmp.handlers.admin.AdminAuthRoutes;
import io.wxmp.handlers.admin.AuditRoutes;
import io.wxmp.handlers.auth.AuthConfig;
import io.wxmp.handlers.auth.AuthRoutes;
import io.wxmp.handlers.auth.Avatars;
import io.wxmp.handlers.campaigns.CampaignRoutes;
import io.wxmp.handlers.campaigns.Campaigns;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.FailureHandler;
import io.wxmp.handlers.common.Images;
import io.wxmp.handlers.common.RequestIds;
import io.wxmp.handlers.feed.Feed;
import io.wxmp.handlers.feed.FeedRoutes;
import io.wxmp.handlers.events.EventRoutes;
import io.wxmp.handlers.events.EventService;
import io.wxmp.handlers.items.ItemRoutes;
import io.wxmp.handlers.pay.OrderRoutes;
import io.wxmp.handlers.platform.ExperimentRoutes;
import io.wxmp.handlers.platform.Experiments;
import io.wxmp.handlers.platform.PlatformRoutes;
import io.wxmp.handlers.quiz.QuizRoutes;
import io.wxmp.handlers.stats.StatsRoutes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole public HTTP surface: health, the OpenAPI document, the consoles, then every feature router under
 * {@code /api/v1}; and the management port's (metrics).
 */
final class ApiRouter {
  static final String API = "/api/v1";
  static final int BODY_LIMIT = 64 * 1024;
  /**
   * An item's body may be 50,000 characters (ItemRoutes), which in Chinese is about 150 KB of UTF-8 and twice that
   * when a client escapes it as \\uXXXX: item writes alone get a larger limit.
   */
  static final int ITEM_BODY_LIMIT = 384 * 1024;
  private static final String UPLOADS = System.getProperty("java.io.tmpdir") + "/wxmp-uploads";
  private static final Logger access = LoggerFactory.getLogger("wxmp.access");

  private ApiRouter() {}

  static Router create(Deps deps, Health health, String openApiYaml, QuizRoutes.Config quiz, EventService events,
      Campaigns campaigns, AuthConfig auth, Feed feed, Experiments experiments) {
    Router root = Router.router(deps.vertx());
    // wx.request has no PATCH: the mini-program sends POST with X-HTTP-Method-Override: PATCH. First, because the
    // override reroutes the request from the top.
    root.route(API + "/*").handler(MethodOverrideHandler.create());
    root.route().handler(RequestIds::assign);
    root.route().handler(ApiRouter::accessLog);
    root.route().handler(ApiRouter::securityHeaders);

    root.get("/health/live").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("status", "up")));
    root.get("/health/ready").handler(health::ready);
    root.get("/openapi.yaml").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/yaml; charset=utf-8").end(openApiYaml));
    AdminConsole.mount(root);

    root.route(API + "/admin/items*").handler(BodyHandler.create(false).setBodyLimit(ITEM_BODY_LIMIT));
    root.get("/media/:id").handler(AuthRoutes.media(deps));

    // the avatar upload is a multipart body (a file of up to 1 MiB); the JSON body handler below skips it
    root.post(API + "/me/avatar").handler(BodyHandler.create(UPLOADS).setBodyLimit(Avatars.MAX_BYTES + 64 * 1024)
        .setDeleteUploadedFilesOnEnd(true));
    // so is a merchant's item cover, with the same limit
    root.post(API + "/admin/media").handler(BodyHandler.create(UPLOADS).setBodyLimit(Images.MAX_BYTES + 64 * 1024)
        .setDeleteUploadedFilesOnEnd(true));
    root.route(API + "/*").handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    root.route(API + "/admin/*").handler(adminGate(deps));
    root.route(API + "/platform/*").handler(platformGate(deps));
    root.route(API + "/*").subRouter(AuthRoutes.create(deps, auth));
    root.route(API + "/*").subRouter(AdminAuthRoutes.create(deps));
    root.route(API + "/*").subRouter(PlatformRoutes.create(deps));
    root.route(API + "/*").subRouter(FeedRoutes.create(deps, feed));
    root.route(API + "/*").subRouter(AuditRoutes.create(deps));
    root.route(API + "/*").subRouter(AccountRoutes.create(deps));
    root.route(API + "/*").subRouter(ItemRoutes.create(deps, auth.publicUrl()));
    root.route(API + "/*").subRouter(OrderRoutes.create(deps));
    root.route(API + "/*").subRouter(QuizRoutes.create(deps, quiz, events.online()));
    root.route(API + "/*").subRouter(EventRoutes.create(deps, events));
    root.route(API + "/*").subRouter(StatsRoutes.create(deps));
    root.route(API + "/*").subRouter(CampaignRoutes.create(deps.vertx(), campaigns));
    root.route(API + "/*").subRouter(ExperimentRoutes.create(deps.vertx(), experiments));

    root.route().last().handler(FailureHandler::notFound);
    root.route().failureHandler(FailureHandler::handle);
    return root;
  }

  /**
   * The management port's surface ({@code WXMP_MANAGEMENT_HOST}, 127.0.0.1 by default, and
   * {@code WXMP_MANAGEMENT_PORT}): {@code /metrics} (Prometheus text) and the health probes. {@code /metrics} is not
   * on the public port.
   */
  static Router management(Vertx vertx, Health health, PrometheusMeterRegistry registry) {
    Router root = Router.router(vertx);
    root.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    root.get("/health/live").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("status", "up")));
    root.get("/health/ready").handler(health::ready);
    root.route().last().handler(FailureHandler::notFound);
    root.route().failureHandler(FailureHandler::handle);
    return root;
  }

  /** Every admin route needs a merchant token, except the login that hands one out. */
  private static Handler<RoutingContext> adminGate(Deps deps) {
    Handler<RoutingContext> merchants = Authenticate.merchants(deps.sessions());
    return ctx -> {
      if (ctx.request().path().equals(API + "/admin/login")) {
        ctx.next();
      } else {
        merchants.handle(ctx);
      }
    };
  }

  /** Every platform route needs an operator token, except the login that hands one out. */
  private static Handler<RoutingContext> platformGate(Deps deps) {
    Handler<RoutingContext> operators = Authenticate.operators(deps.sessions());
    return ctx -> {
      if (ctx.request().path().equals(API + "/platform/login")) {
        ctx.next();
      } else {
        operators.handle(ctx);
      }
    };
  }

  /**
   * One line per request once it is over. A response that was never ended (the client went away first, or the
   * connection failed) is logged as {@link #CLIENT_GONE} with the reason, not with the status it would have had.
   */
  private static void accessLog(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(done -> {
      long ms = (System.nanoTime() - start) / 1_000_000;
      if (done.succeeded()) {
        access.info("{} {} {} {}ms", ctx.request().method(), ctx.request().path(),
            ctx.response().getStatusCode(), ms);
      } else {
        access.info("{} {} {} {}ms (not answered: {})", ctx.request().method(),
            ctx.request().path(), CLIENT_GONE, ms, done.cause() == null ? "closed" : done.cause().getMessage());
      }
    });
    ctx.next();
  }

  /** The access log's status for a request whose answer was never written (nginx's "client closed request"). */
  static final int CLIENT_GONE = 499;

  /**
   * Every answer is what it says it is (never content-sniffed); {@code /api/v1} answers are never stored by a cache
   * (login answers carry tokens, every other answer is someone's own data) unless a route says otherwise. The console
   * pages set their strict CSP themselves (see {@link AdminConsole}); {@code /media} keeps its immutable caching. No
   * CORS headers anywhere: the console is same-origin, so a page on another origin can read no answer.
   */

  private static void securityHeaders(RoutingContext ctx) {
    boolean api = ctx.request().path().startsWith(API + "/");
    ctx.addHeadersEndHandler(v -> {
      var h = ctx.response().headers();
      h.set("X-Content-Type-Options", "nosniff");
      if (api) {
        if (!h.contains(io.vertx.core.http.HttpHeaders.CACHE_CONTROL)) {
          h.set(io.vertx.core.http.HttpHeaders.CACHE_CONTROL, "no-store");
        }
      }
    });
    ctx.next();
  }
}
