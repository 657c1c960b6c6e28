package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.RedisAPI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** {@code /health/ready}: 200 only when PostgreSQL, Redis and the ranking verticle answer within a second. */
final class Health {
  private static final long CHECK_TIMEOUT_MS = 1_000;
  private final Map<String, Supplier<Future<?>>> checks = new LinkedHashMap<>();

  /**
   * @param pg {@code SELECT 1} within the given timeout on a pool connection that is closed, not kept, past it
   *     ({@link BoundedPool#ping}); probes that arrive while one is in flight share its answer, so a burst of probes
   *     against a stalled PostgreSQL takes one connection, not the pool
   */
  Health(java.util.function.LongFunction<Future<Void>> pg, RedisAPI redis, Supplier<Future<?>> ranking) {
    checks.put("postgres", shared(() -> pg.apply(CHECK_TIMEOUT_MS)));
    checks.put("redis", () -> redis.ping(List.of()));
    checks.put("ranking", ranking);
  }

  /** One call in flight at a time; callers meanwhile get the same future. */
  private static Supplier<Future<?>> shared(Supplier<Future<?>> check) {
    java.util.concurrent.atomic.AtomicReference<Future<?>> inFlight = new java.util.concurrent.atomic.AtomicReference<>();
    return () -> {
      Future<?> current = inFlight.get();
      if (current != null && !current.isComplete()) {
        return current;
      }
      io.vertx.core.Promise<Object> mine = io.vertx.core.Promise.promise();
      if (!inFlight.compareAndSet(current, mine.future())) {
        Future<?> other = inFlight.get();
        return other != null ? other : check.get();
      }
      check.get().onComplete(ar -> {
        if (ar.succeeded()) {
          mine.complete(ar.result());
        } else {
          mine.fail(ar.cause());
        }
      });
      return mine.future();
    };
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
