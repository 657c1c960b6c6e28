package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import java.util.ArrayList;
import java.util.List;

/** {@code GET /admin/audit}: the owner's view of every write by the accounts of their merchant, newest first. */
public final class AuditRoutes {
  private static final String LIST = """
      SELECT id, at, actor_id, actor_username, action, target_type, target_id, request_id, changes FROM audit_log
      WHERE merchant_id = $1 AND actor_kind = 'merchant_account' AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3""";

  private final Pool pg;

  private AuditRoutes(Pool pg) {
    this.pg = pg;
  }

  public static Router create(Deps deps) {
    AuditRoutes routes = new AuditRoutes(deps.pg());
    Router router = Router.router(deps.vertx());
    router.get("/admin/audit").handler(Respond.json(routes::list));
    return router;
  }

  Future<JsonObject> list(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    merchant.requireOwner();
    Paging paging = Paging.of(ctx);
    return pg.preparedQuery(LIST).execute(Tuple.of(merchant.merchantId(), paging.beforeId(), paging.fetch()))
        .map(rows -> {
          List<Row> all = new ArrayList<>();
          rows.forEach(all::add);
          return paging.page("items", all, r -> r.getLong("id"), AuditRoutes::entryJson);
        });
  }

  private static JsonObject entryJson(Row r) {
    Object changes = r.getValue("changes");
    return new JsonObject()
        .put("id", Json.id(r.getLong("id")))
        .put("at", Json.time(r.getOffsetDateTime("at")))
        .put("account", new JsonObject().put("id", Json.id(r.getLong("actor_id")))
            .put("username", r.getString("actor_username")))
        .put("action", r.getString("action"))
        .put("target", new JsonObject().put("type", r.getString("target_type")).put("id", r.getString("target_id")))
        .put("requestId", r.getString("request_id"))
        .put("changes", changes instanceof JsonObject o ? changes(o) : new JsonObject());
  }

  /**
   * Each change as {@code {"from"?, "to"}}: refunds recorded before that shape held their values bare (amount,
   * reason, outRefundNo), read as what they were set to.
   */
  private static JsonObject changes(JsonObject stored) {
    JsonObject out = new JsonObject();
    stored.forEach(e -> out.put(e.getKey(), e.getValue() instanceof JsonObject change && change.containsKey("to")
        ? change : new JsonObject().put("to", e.getValue())));
    return out;
  }
}
