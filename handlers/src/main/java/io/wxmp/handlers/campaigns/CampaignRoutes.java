package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import java.time.OffsetDateTime;
import java.util.List;

/** {@code /admin/campaigns*}: create, list, read, edit and the stats of a campaign. The server authenticates in front. */
public final class CampaignRoutes {
  static final long MAX_BID_FEN = 10_000_000L;
  static final long MAX_BUDGET_FEN = 10_000_000_000L;
  private final CampaignService service;
  private final CampaignStats stats;

  CampaignRoutes(CampaignService service, CampaignStats stats) {
    this.service = service;
    this.stats = stats;
  }

  public static Router create(io.vertx.core.Vertx vertx, Campaigns campaigns) {
    CampaignRoutes routes = new CampaignRoutes(campaigns.service(), campaigns.stats());
    Router router = Router.router(vertx);
    router.post("/admin/campaigns").handler(Respond.status(201, routes::create));
    router.get("/admin/campaigns").handler(Respond.json(routes::list));
    router.get("/admin/campaigns/:id").handler(Respond.json(routes::get));
    router.patch("/admin/campaigns/:id").handler(Respond.json(routes::update));
    router.get("/admin/campaigns/:id/stats").handler(Respond.json(routes::stats));
    return router;
  }

  Future<JsonObject> create(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    merchant.requireWriter();
    Input in = Input.of(ctx);
    Campaign draft = new Campaign(0, merchant.merchantId(), 0, null, List.of(), false, null, 0, 0, 0, null, null,
        null, null, "draft", 0, 0, 0, null, null);
    return service.create(merchant, Audit.who(ctx), read(in, draft, true)).map(Campaign::toAdminJson);
  }

  Future<JsonObject> list(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    String status = ctx.queryParams().get("status");
    if (status != null && !Campaign.STATUSES.contains(status)) {
      throw ApiException.invalid(new JsonObject().put("status", "must be one of " + String.join(", ",
          Campaign.STATUSES)));
    }
    return service.list(Authenticate.merchant(ctx), status, paging.beforeId(), paging.fetch())
        .map(rows -> paging.page("items", rows, Campaign::id, Campaign::toAdminJson));
  }

  Future<JsonObject> get(RoutingContext ctx) {
    return service.get(Authenticate.merchant(ctx), Ids.path(ctx, "id")).map(Campaign::toAdminJson);
  }

  Future<JsonObject> update(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    long id = Ids.path(ctx, "id");
    merchant.requireWriter();
    Input in = Input.of(ctx);
    return service.update(merchant, Audit.who(ctx), id, current -> read(in, current, false)).map(Campaign::toAdminJson);
  }

  Future<JsonObject> stats(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    long id = Ids.path(ctx, "id");
    OffsetDateTime from = queryTime(ctx, "from");
    OffsetDateTime to = queryTime(ctx, "to");
    String bucket = ctx.queryParams().get("bucket");
    if (bucket == null) {
      bucket = "day";
    }
    if (!bucket.equals("hour") && !bucket.equals("day")) {
      throw ApiException.invalid(new JsonObject().put("bucket", "must be hour or day"));
    }
    if (from != null && to != null && !to.isAfter(from)) {
      throw ApiException.invalid(new JsonObject().put("to", "must be after from"));
    }
    String b = bucket;
    return service.get(merchant, id).compose(c -> stats.of(c, from, to, b));
  }

  private static OffsetDateTime queryTime(RoutingContext ctx, String name) {
    String raw = ctx.queryParams().get(name);
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    Input in = Input.of(new JsonObject().put(name, raw));
    OffsetDateTime t = in.time(name, false);
    in.validate();
    return t;
  }

  /** Reads the fields present in the body over {@code base}; on create name, itemId, bid and budget are required. */
  static Campaign read(Input in, Campaign base, boolean creating) {
    String name = in.has("name") || creating ? in.string("name", 1, 100, true) : base.name();
    long itemId = base.itemId();
    if (in.has("itemId") || creating) {
      Long id = in.id("itemId", true);
      itemId = id == null ? 0 : id;
    }
    List<String> tags = base.targetTags();
    boolean newUsersOnly = base.newUsersOnly();
    if (in.has("targeting")) {
      JsonObject t = in.object("targeting", true);
      if (t != null) {
        Input ti = Input.of(t);
        if (t.containsKey("tags")) {
          tags = nested(in, "targeting.tags", ti.strings("tags", 20, 24, true), t.getValue("tags") == null
              ? "must be a list of tags" : "must be a list of at most 20 tags of 1..24 characters");
        }
        if (t.containsKey("newUsersOnly")) {
          Boolean b = nested(in, "targeting.newUsersOnly", ti.bool("newUsersOnly", true), "must be true or false");
          newUsersOnly = b != null && b;
        }
      }
    }
    String model = base.bidModel();
    long bid = base.bidFen();
    if (in.has("bid") || creating) {
      JsonObject b = in.object("bid", true);
      if (b != null) {
        Input bi = Input.of(b);
        if (b.containsKey("model") || base.bidModel() == null) {
          model = nested(in, "bid.model", bi.oneOf("model", Campaign.BID_MODELS, true), "must be cpm or cpc");
        }
        if (b.containsKey("amount") || creating) {
          Long amount = nested(in, "bid.amount", bi.integer("amount", 1, MAX_BID_FEN, true),
              "must be a whole number of fen, 1.." + MAX_BID_FEN);
          bid = amount == null ? 0 : amount;
        }
      }
    }
    long total = base.budgetTotalFen();
    long daily = base.budgetDailyFen();
    if (in.has("budget") || creating) {
      JsonObject b = in.object("budget", true);
      if (b != null) {
        Input bi = Input.of(b);
        if (b.containsKey("total") || creating) {
          Long v = nested(in, "budget.total", bi.integer("total", 1, MAX_BUDGET_FEN, true),
              "must be a whole number of fen, 1.." + MAX_BUDGET_FEN);
          total = v == null ? 0 : v;
        }
        if (b.containsKey("daily") || creating) {
          Long v = nested(in, "budget.daily", bi.integer("daily", 1, MAX_BUDGET_FEN, true),
              "must be a whole number of fen, 1.." + MAX_BUDGET_FEN);
          daily = v == null ? 0 : v;
        }
      }
    }
    Integer capImpressions = base.capImpressions();
    Integer capPerHours = base.capPerHours();
    if (in.has("frequencyCap")) {
      Object raw = in.raw().getValue("frequencyCap");
      if (raw == null) {
        capImpressions = null;
        capPerHours = null;
      } else if (!(raw instanceof JsonObject f)) {
        in.error("frequencyCap", "must be null or {\"impressions\", \"perHours\"}");
      } else {
        Input fi = Input.of(f);
        Long n = nested(in, "frequencyCap.impressions", fi.integer("impressions", 1, 1000, true),
            "must be a whole number 1..1000");
        Long h = nested(in, "frequencyCap.perHours", fi.integer("perHours", 1, 720, true),
            "must be a whole number of hours 1..720");
        capImpressions = n == null ? null : n.intValue();
        capPerHours = h == null ? null : h.intValue();
      }
    }
    OffsetDateTime startAt = base.startAt();
    if (in.has("startAt")) {
      startAt = in.time("startAt", true);
    } else if (creating) {
      startAt = OffsetDateTime.now();
    }
    OffsetDateTime endAt = in.has("endAt") ? in.time("endAt", false) : base.endAt();
    String status = in.has("status") ? in.oneOf("status", Campaign.STATUSES, true) : base.status();

    if (!in.hasErrors()) {
      in.check(daily <= total, "budget.daily", "must not exceed budget.total");
      in.check(!"cpc".equals(model) || bid <= daily, "bid.amount",
          "a click bid must not exceed the daily budget (no click could ever be paid)");
      in.check(endAt == null || startAt == null || endAt.isAfter(startAt), "endAt", "must be after startAt");
    }
    in.validate();
    return new Campaign(base.id(), base.merchantId(), itemId, name, List.copyOf(tags), newUsersOnly, model, bid,
        total, daily, capImpressions, capPerHours, startAt, endAt, status == null ? "draft" : status,
        base.spentMillifen(), base.impressions(), base.clicks(), base.createdAt(), base.updatedAt());
  }

  /** A value read from a nested object: when the inner reader found it wrong, the outer one names the dotted path. */
  private static <T> T nested(Input outer, String path, T value, String problem) {
    if (value == null) {
      outer.error(path, problem);
    }
    return value;
  }
}
