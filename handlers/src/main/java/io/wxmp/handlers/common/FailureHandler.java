package io.wxmp.handlers.common;

import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns a failed request into API.md's error body. Unexpected failures are logged once (with the
 * request id from the MDC, see {@link RequestIds}).
 */
public final class FailureHandler {
  private static final Logger log = LoggerFactory.getLogger(FailureHandler.class);

  private FailureHandler() {}

  public static void handle(RoutingContext ctx) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ApiException error = toApiException(ctx);
    if ("upstream_unavailable".equals(error.code())) {
      // one line per part and cause per window: PostgreSQL down must not write a line (let alone a trace) per request
      String part = error.unavailablePart() == null ? "a dependency" : error.unavailablePart();
      String cause = FailureLog.rootCause(error.getCause() != null ? error.getCause() : ctx.failure());
      FailureLog.once("503 " + part + " " + FailureLog.rootClass(error.getCause() != null ? error.getCause()
          : ctx.failure()), left -> log.warn("{} {}: 503, {} unavailable ({}){}",
          ctx.request().method(), ctx.request().path(), part, cause,
          left == 0 ? "" : "; " + left + " more like it in the last " + FailureLog.WINDOW_MS / 1000 + " s"));
    } else if (error.status() >= 500) {
      Throwable failure = ctx.failure();
      StackTraceElement[] at = failure == null ? new StackTraceElement[0] : failure.getStackTrace();
      String kind = "500 " + FailureLog.rootClass(failure) + (at.length > 0 ? " at " + at[0] : "");
      FailureLog.once(kind, left -> log.error("{} {} failed{}", ctx.request().method(),
          ctx.request().path(), left == 0 ? "" : " (" + left + " more like it in the last "
              + FailureLog.WINDOW_MS / 1000 + " s)", failure));
    }
    send(ctx, error);
  }

  public static void send(RoutingContext ctx, ApiException error) {
    if (ctx.response().headWritten()) {
      ctx.response().end();
      return;
    }
    if (error.retryAfterSeconds() != null) {
      ctx.response().putHeader("Retry-After", String.valueOf(error.retryAfterSeconds()));
    }
    ctx.response()
        .setStatusCode(error.status())
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Vary", "Accept-Language")
        .end(error.body(Messages.of(error, ctx.request().getHeader("Accept-Language"))).encode());
  }

  static ApiException toApiException(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure != null && !(failure instanceof ApiException) && failure.getCause() instanceof ApiException cause) {
      failure = cause;
    }
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof DecodeException) {
      return ApiException.badRequest("The body is not valid JSON.");
    }
    if (failure instanceof TimeoutException) {
      return ApiException.upstreamUnavailable("A dependency");
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
    return switch (status) {
      case 400 -> ApiException.badRequest("Bad request.");
      case 401 -> ApiException.unauthorized();
      case 403 -> ApiException.forbidden();
      case 404 -> ApiException.notFound();
      case 405 -> new ApiException(405, "method_not_allowed", "This method is not allowed here.");
      case 413 -> new ApiException(413, "payload_too_large", "The body is over the 64 KiB limit.");
      case 415 -> new ApiException(415, "unsupported_media_type", "Send application/json.");
      default -> new ApiException(500, "internal", "Something went wrong on our side.");
    };
  }

  /** Answers unmatched routes with the same body as every other error. */
  public static void notFound(RoutingContext ctx) {
    send(ctx, ApiException.notFound());
  }
}
