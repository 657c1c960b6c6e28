package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;

/**
 * Wires a handler method that returns a future into a route: every path answers exactly once, with the given
 * status on success or through the failure handler (which renders API.md's error body) otherwise. A handler that
 * throws synchronously (a validation error) fails the request the same way.
 */
public final class Respond {
  private Respond() {}

  public static Handler<RoutingContext> json(Function<RoutingContext, Future<JsonObject>> handler) {
    return status(200, handler);
  }

  public static Handler<RoutingContext> status(int status, Function<RoutingContext, Future<JsonObject>> handler) {
    return answer(status, handler, JsonObject::encode);
  }

  /** 200 with a body that is JSON already encoded (a cached answer), so it is not parsed and encoded again. */
  public static Handler<RoutingContext> encodedJson(Function<RoutingContext, Future<String>> handler) {
    return answer(200, handler, Function.identity());
  }

  /** {@code status} with the result as JSON ({@code encode}d), or with no body (204 for 200) when it is null. */
  private static <T> Handler<RoutingContext> answer(int status, Function<RoutingContext, Future<T>> handler,
      Function<T, String> encode) {
    return ctx -> {
      Future<T> result;
      try {
        result = handler.apply(ctx);
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
      result.onComplete(done -> {
        if (done.failed()) {
          ctx.fail(done.cause());
        } else if (done.result() == null) {
          ctx.response().setStatusCode(status == 200 ? 204 : status).end();
        } else {
          ctx.response().setStatusCode(status)
              .putHeader("Content-Type", "application/json; charset=utf-8")
              .end(encode.apply(done.result()));
        }
      });
    };
  }

  /** A future that answers 204 with no body. */
  public static Handler<RoutingContext> noContent(Function<RoutingContext, Future<Void>> handler) {
    return status(204, ctx -> handler.apply(ctx).map(v -> (JsonObject) null));
  }
}
