package io.wxmp.handlers.items;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ContentSecurity;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import java.util.List;

/** {@code /admin/items*} and the cover upload {@code POST /admin/media} for merchants, {@code GET /items/{id}} for users. */
public final class ItemRoutes {
  static final long MAX_PRICE_FEN = 100_000_000L;
  private final ItemService service;
  private final Covers covers;

  private ItemRoutes(ItemService service, Covers covers) {
    this.service = service;
    this.covers = covers;
  }

  /**
   * {@code publicUrl}: this server's public base URL, for the url of an uploaded cover (null: a path). The cover
   * upload is multipart: the server's router gives {@code POST /admin/media} a body handler with file uploads.
   */
  public static Router create(Deps deps, String publicUrl) {
    Covers covers = new Covers(deps.vertx(), deps.pg(), deps.wechat(), deps.upstream(), publicUrl);
    ItemRoutes routes = new ItemRoutes(new ItemService(new ItemRepository(deps.pg()),
        new ContentSecurity(deps.wechat(), deps.upstream()), covers, new CatalogueGeneration(deps.redis())), covers);
    Router router = Router.router(deps.vertx());
    router.post("/admin/media").handler(Respond.status(201,
        ctx -> routes.covers.upload(ctx, Authenticate.merchant(ctx), Audit.who(ctx))));
    router.post("/admin/items").handler(Respond.status(201, routes::create));
    router.get("/admin/items").handler(Respond.json(routes::list));
    router.get("/admin/items/:id").handler(Respond.json(routes::get));
    router.patch("/admin/items/:id").handler(Respond.json(routes::update));
    router.delete("/admin/items/:id").handler(Respond.noContent(routes::archive));
    router.route("/items/*").handler(Authenticate.users(deps.sessions()));
    router.get("/items/:id").handler(Respond.json(routes::forUser));
    return router;
  }

  Future<JsonObject> create(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    merchant.requireWriter();
    Input in = Input.of(ctx);
    String kind = in.oneOf("kind", Item.KINDS, true);
    Item draft = new Item(0, merchant.merchantId(), kind, null, "", "", null, null, List.of(), null, null, "draft",
        null, null);
    Item item = read(in, draft, true);
    return service.create(merchant, Audit.who(ctx), item).map(Item::toAdminJson);
  }

  Future<JsonObject> list(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    String status = ctx.queryParams().get("status");
    if (status != null && !Item.STATUSES.contains(status)) {
      throw io.wxmp.handlers.common.ApiException.invalid(new JsonObject().put("status", "must be one of "
          + String.join(", ", Item.STATUSES)));
    }
    return service.list(Authenticate.merchant(ctx), status, paging.beforeId(), paging.fetch())
        .map(items -> paging.page("items", items, Item::id, Item::toAdminJson));
  }

  Future<JsonObject> get(RoutingContext ctx) {
    return service.get(Authenticate.merchant(ctx), Ids.path(ctx, "id")).map(Item::toAdminJson);
  }

  Future<JsonObject> update(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    long id = Ids.path(ctx, "id");
    merchant.requireWriter();
    Input in = Input.of(ctx);
    return service.update(merchant, Audit.who(ctx), id, current -> {
      if (in.has("kind") && !current.kind().equals(in.raw().getValue("kind"))) {
        in.error("kind", "cannot be changed; create a new item");
      }
      return read(in, current, false);
    }).map(Item::toAdminJson);
  }

  Future<Void> archive(RoutingContext ctx) {
    return service.archive(Authenticate.merchant(ctx), Audit.who(ctx), Ids.path(ctx, "id"));
  }

  Future<JsonObject> forUser(RoutingContext ctx) {
    return service.forUser(Authenticate.user(ctx), Ids.path(ctx, "id"))
        .map(view -> view.item().toUserJson(view.owned()));
  }

  /** Reads the fields present in the body over {@code base}; on create, title is required. Throws 400 with fields. */
  static Item read(Input in, Item base, boolean creating) {
    String title = in.has("title") || creating ? in.string("title", 1, 120, true) : base.title();
    String summary = in.has("summary") ? in.string("summary", 0, 500, false) : base.summary();
    String body = in.has("body") ? in.string("body", 0, 50_000, false) : base.body();
    String preview = in.has("preview") ? in.string("preview", 0, 2_000, false) : base.preview();
    String coverUrl = in.has("coverUrl") ? in.url("coverUrl", 512, false) : base.coverUrl();
    List<String> tags = in.has("tags") ? in.strings("tags", 10, 24, false) : base.tags();
    Long priceFen = in.has("price") ? price(in) : base.priceFen();
    Integer days = base.membershipDays();
    if (in.has("membershipDays")) {
      Long d = in.integer("membershipDays", 1, 3660, false);
      days = d == null ? null : d.intValue();
    }
    // Present means set: a null status is an error, not a silent return to draft.
    String status = in.has("status") ? in.oneOf("status", Item.STATUSES, true) : base.status();
    if (base.kind() != null) {
      boolean membership = base.kind().equals("membership");
      if (membership) {
        in.check(days != null, "membershipDays", "is required for a membership (1..3660 days)");
        in.check(priceFen != null, "price", "a membership must have a price of at least 1 fen");
      } else {
        in.check(days == null, "membershipDays", "only memberships have a duration");
      }
    }
    in.validate();
    return new Item(base.id(), base.merchantId(), base.kind(), title, summary == null ? "" : summary,
        body == null ? "" : body, preview, coverUrl, tags == null ? List.of() : tags, priceFen, days,
        status == null ? "draft" : status, base.createdAt(), base.updatedAt());
  }

  /** {@code null} means free; otherwise {@code {"amount": fen >= 1, "currency": "CNY"}}. */
  private static Long price(Input in) {
    Object value = in.raw().getValue("price");
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject money)) {
      in.error("price", "must be null or {\"amount\": fen, \"currency\": \"CNY\"}");
      return null;
    }
    Object amount = money.getValue("amount");
    Object currency = money.getValue("currency");
    if (!(amount instanceof Integer || amount instanceof Long)) {
      in.error("price", "amount must be a whole number of fen");
      return null;
    }
    long fen = ((Number) amount).longValue();
    if (fen < 1 || fen > MAX_PRICE_FEN) {
      in.error("price", "a paid item costs at least 1 fen (and at most " + MAX_PRICE_FEN + ")");
      return null;
    }
    if (currency != null && !"CNY".equals(currency)) {
      in.error("price", "currency must be CNY");
      return null;
    }
    return fen;
  }
}
