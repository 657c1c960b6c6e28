package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.UserPrincipal;
import io.wxmp.handlers.items.Item;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /feed}, the user catalogue {@code GET /items} and {@code GET /me/items}, and the operators'
 * {@code POST /platform/feed/train} and {@code GET /platform/feed/model} (behind the platform gate of the API router).
 */
public final class FeedRoutes {
  private final Feed feed;
  private final Deps deps;

  private FeedRoutes(Feed feed, Deps deps) {
    this.feed = feed;
    this.deps = deps;
  }

  public static Router create(Deps deps, Feed feed) {
    FeedRoutes routes = new FeedRoutes(feed, deps);
    Router router = Router.router(deps.vertx());
    var users = Authenticate.users(deps.sessions());
    // authenticates itself: the session, the user's cached feed state and the catalogue generation in one round trip
    router.get("/feed").handler(Respond.encodedJson(routes::feedPage));
    router.get("/items").handler(users).handler(Respond.json(routes::catalogue));
    router.get("/me/items").handler(users).handler(Respond.json(routes::owned));
    router.post("/platform/feed/train").handler(routes::train);
    router.get("/platform/feed/model").handler(Respond.json(routes::model));
    return router;
  }

  /**
   * The page as JSON text, written without a JsonObject (FeedService.render). The page's reads that need no
   * PostgreSQL go with the session's (when this server knows the token's owner; else right after it): the user's feed
   * state from the {@link ProfileCache} hash and the {@link CatalogueGeneration}.
   */
  Future<String> feedPage(RoutingContext ctx) {
    String token = Authenticate.bearer(ctx);
    ProfileCache profiles = deps.profiles();
    List<io.vertx.redis.client.Request> sponsoredReads = feed.service().sponsored().firstReads();
    return deps.sessions().userAndAll(token, id -> {
          List<io.vertx.redis.client.Request> reads = new ArrayList<>(2 + sponsoredReads.size());
          reads.add(profiles.feedRead(id));
          reads.add(CatalogueGeneration.read());
          reads.addAll(sponsoredReads);
          return reads;
        })
        .compose(found -> {
          UserPrincipal user = found.user();
          Authenticate.remember(ctx, user, token);
          Paging paging = Paging.of(ctx);
          long id = user.userId();
          boolean sent = found.also() != null;
          Future<ProfileCache.Lookup> cached = sent ? profiles.feedGet(id, found.also().get(0)) : profiles.feedGet(id);
          Future<String> at = sent ? Future.succeededFuture(CatalogueGeneration.current(found.also().get(1)))
              : feed.generation().current();
          List<io.vertx.redis.client.Response> sponsoredAnswers = sent
              ? found.also().subList(2, found.also().size()) : null;
          return feed.service().page(id, paging.limit(), paging.cursor(), cached, at, sponsoredAnswers);
        });
  }

  Future<JsonObject> catalogue(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    String tag = ctx.queryParams().get("tag");
    String kind = ctx.queryParams().get("kind");
    if (kind != null && !Item.KINDS.contains(kind)) {
      throw ApiException.invalid(new JsonObject().put("kind", "must be one of " + String.join(", ", Item.KINDS)));
    }
    if (tag != null && (tag.isEmpty() || tag.length() > 24)) {
      throw ApiException.invalid(new JsonObject().put("tag", "must be 1..24 characters"));
    }
    long userId = Authenticate.user(ctx).userId();
    return feed.repository().user(userId).compose(user -> {
      if (user == null) {
        throw ApiException.unauthorized();
      }
      return feed.repository().items(tag, kind, paging.beforeId(), paging.fetch())
          .map(items -> paging.page("items", items, CatalogueItem::id,
              item -> FeedItems.json(item, FeedItems.locked(item, user.owned(), user.memberOf()), null, null, null)));
    });
  }

  Future<JsonObject> owned(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    return feed.repository().owned(Authenticate.user(ctx).userId(), paging.beforeId(), paging.fetch())
        .map(rows -> paging.page("items", rows, o -> o.item().id(), o -> new JsonObject()
            .put("item", FeedItems.json(o.item(), false, null, null, null))
            .put("source", o.source())
            .put("since", Json.time(o.since()))));
  }

  void train(RoutingContext ctx) {
    feed.trainer().start().onComplete(done -> {
      if (done.succeeded()) {
        ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json; charset=utf-8")
            .end(new JsonObject().put("modelVersion", done.result().started().version()).encode());
      } else if (done.cause() instanceof FeedTrainer.Busy busy) {
        JsonObject body = FeedTrainer.busy().body().put("modelVersion", busy.modelVersion());
        ctx.response().setStatusCode(409).putHeader("Content-Type", "application/json; charset=utf-8")
            .end(body.encode());
      } else {
        ctx.fail(done.cause());
      }
    });
  }

  Future<JsonObject> model(RoutingContext ctx) {
    return feed.store().newest().map(ModelServing::describe).map(json -> json.put("serving",
        feed.serving().current() == null ? null : feed.serving().current().version()));
  }
}
