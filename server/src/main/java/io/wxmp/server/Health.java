package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** {@code /health/ready}: 200 only when PostgreSQL, Redis and the ranking verticle answer within a second. */
final class Health {
  private static final long CHECK_TIMEOUT_MS = 1_000;
  private final Map<String, Supplier<Future<?>>> checks = new LinkedHashMap<>();

  Health(Pool pg, RedisAPI redis, Supplier<Future<?>> ranking) {
    checks.put("postgres", () -> pg.query("SELECT 1").execute());
    checks.put("redis", () -> redis.ping(List.of()));
    checks.put("ranking", ranking);
  }

  void ready(RoutingContext ctx) {
    List<String> names = List.copyOf(checks.keySet());
    List<Future<Boolean>> results = names.stream()
        .map(name -> checks.get(name).get()
            .timeout(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .map(ok -> true)
            .otherwise(false))
        .toList();
    Future.join(results).onComplete(done -> {
      JsonObject parts = new JsonObject();
      boolean allUp = true;
      for (int i = 0; i < names.size(); i++) {
        boolean up = Boolean.TRUE.equals(results.get(i).result());
        parts.put(names.get(i), up ? "up" : "down");
        allUp &= up;
      }
      JsonObject body = new JsonObject().put("status", allUp ? "up" : "down").put("checks", parts);
      if (!allUp) {
        body.put("error", new JsonObject().put("code", "upstream_unavailable").put("message",
            "Not ready: " + String.join(", ", parts.fieldNames().stream().filter(n -> "down".equals(parts.getString(n))).toList())
                + " did not answer."));
      }
      ctx.response().setStatusCode(allUp ? 200 : 503)
          .putHeader("Content-Type", "application/json; charset=utf-8")
          .end(body.encode());
    });
  }
}
