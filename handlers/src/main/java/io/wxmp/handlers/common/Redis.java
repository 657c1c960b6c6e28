package io.wxmp.handlers.common;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/** Bounds every Redis call in a request, so a Redis that does not answer gives 503 in seconds rather than a hang. */
public final class Redis {
  public static final long TIMEOUT_MS = 2_000;

  private Redis() {}

  public static <T> Future<T> bounded(Future<T> call) {
    return call.timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .recover(failure -> Future.failedFuture(failure instanceof ApiException
            ? failure : ApiException.upstreamUnavailable("Redis")));
  }
}
