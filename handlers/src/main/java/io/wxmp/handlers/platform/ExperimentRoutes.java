package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.feed.FeedParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code /platform/experiments*} for operators (the server authenticates them in front of every {@code /platform/*}
 * route): create, list, read, edit (name, arms while a draft, status draft → running → stopped) and the results per
 * arm. Every write is in the audit log, as the operator's.
 */
public final class ExperimentRoutes {
  static final int MAX_ARMS = 10;
  /** How far the shares may sum from 1 (shares are placed on 10,000 buckets, so finer means nothing). */
  static final double SHARE_TOLERANCE = 1e-6;
  private final Experiments experiments;

  private ExperimentRoutes(Experiments experiments) {
    this.experiments = experiments;
  }

  public static Router create(Vertx vertx, Experiments experiments) {
    ExperimentRoutes routes = new ExperimentRoutes(experiments);
    Router router = Router.router(vertx);
    router.post("/platform/experiments").handler(Respond.status(201, routes::create));
    router.get("/platform/experiments").handler(Respond.json(routes::list));
    router.get("/platform/experiments/:id").handler(Respond.json(routes::get));
    router.patch("/platform/experiments/:id").handler(Respond.json(routes::update));
    router.get("/platform/experiments/:id/results").handler(Respond.json(routes::results));
    return router;
  }

  Future<JsonObject> create(RoutingContext ctx) {
    Authenticate.operator(ctx);
    Input in = Input.of(ctx);
    String name = in.string("name", 1, 100, true);
    List<Experiment.Arm> arms = arms(in, true);
    String status = in.has("status") ? in.oneOf("status", List.of("draft", "running"), true) : "draft";
    in.validate();
    return experiments.create(Audit.who(ctx), name, arms, status).map(Experiment::toJson);
  }

  Future<JsonObject> list(RoutingContext ctx) {
    Authenticate.operator(ctx);
    Paging paging = Paging.of(ctx);
    return experiments.list(paging.beforeId(), paging.fetch())
        .map(rows -> paging.page("items", rows, Experiment::id, Experiment::toJson));
  }

  Future<JsonObject> get(RoutingContext ctx) {
    Authenticate.operator(ctx);
    return experiments.get(Ids.path(ctx, "id")).map(Experiment::toJson);
  }

  /** Any of {@code name}, {@code arms} (drafts only), {@code status}; the rules are {@link Experiments#update}'s. */
  Future<JsonObject> update(RoutingContext ctx) {
    Authenticate.operator(ctx);
    long id = Ids.path(ctx, "id");
    Input in = Input.of(ctx);
    String name = in.has("name") ? in.string("name", 1, 100, true) : null;
    List<Experiment.Arm> arms = in.has("arms") ? arms(in, true) : null;
    String status = in.has("status") ? in.oneOf("status", Experiment.STATUSES, true) : null;
    in.validate();
    return experiments.update(Audit.who(ctx), id, current -> new Experiments.Change(
            name == null ? current.name() : name,
            arms == null ? current.arms() : arms,
            status == null ? current.status() : status))
        .map(Experiment::toJson);
  }

  Future<JsonObject> results(RoutingContext ctx) {
    Authenticate.operator(ctx);
    return experiments.results(Ids.path(ctx, "id"));
  }

  /**
   * {@code arms}: 2..10 of {@code {"name", "share", "params"}}, names unique, shares 0..1 summing to 1, params the
   * feed parameters that differ from the defaults (an unknown or out-of-range one names its path).
   */
  static List<Experiment.Arm> arms(Input in, boolean required) {
    JsonArray raw = in.array("arms", 2, MAX_ARMS, required);
    if (raw == null) {
      return null;
    }
    List<Experiment.Arm> arms = new ArrayList<>();
    Set<String> names = new HashSet<>();
    double sum = 0;
    boolean ok = true;
    for (int i = 0; i < raw.size(); i++) {
      String path = "arms[" + i + "]";
      if (!(raw.getValue(i) instanceof JsonObject a)) {
        in.error(path, "must be {\"name\", \"share\", \"params\"}");
        ok = false;
        continue;
      }
      Input ai = Input.of(a);
      String name = ai.string("name", 1, 40, true);
      Object share = a.getValue("share");
      boolean shareOk = share instanceof Number n && Double.isFinite(n.doubleValue()) && n.doubleValue() >= 0
          && n.doubleValue() <= 1;
      if (!shareOk) {
        in.error(path + ".share", "must be a number 0..1");
      }
      Object params = a.getValue("params");
      if (params != null && !(params instanceof JsonObject)) {
        in.error(path + ".params", "must be an object of feed parameters");
      }
      for (String field : a.fieldNames()) {
        if (!List.of("name", "share", "params").contains(field)) {
          in.error(path + "." + field, "is not a field of an arm (name, share, params)");
        }
      }
      in.nest(path + ".", ai);
      FeedParams p = params instanceof JsonObject o ? Experiments.params(o, path + ".params", in)
          : params == null ? FeedParams.defaults() : null;
      if (name != null && !names.add(name)) {
        in.error(path + ".name", "must differ from the other arms' names");
      }
      if (name == null || !shareOk || p == null) {
        ok = false;
        continue;
      }
      sum += ((Number) share).doubleValue();
      arms.add(new Experiment.Arm(name, ((Number) share).doubleValue(), p));
    }
    if (ok && Math.abs(sum - 1) > SHARE_TOLERANCE) {
      in.error("arms", "the shares must sum to 1 (they sum to " + sum + ")");
    }
    return ok ? arms : null;
  }
}
