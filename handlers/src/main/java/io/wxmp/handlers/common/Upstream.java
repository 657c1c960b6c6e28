package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the blocking WeChat SDK calls (WxJava, wechatpay-java) on the named, bounded "wechat" worker pool, never on
 * an event loop, and turns "no answer in time" into 503 {@code upstream_unavailable}.
 */
public final class Upstream {
  private final WorkerExecutor executor;
  private final long timeoutMs;

  public Upstream(WorkerExecutor executor, long timeoutMs) {
    this.executor = executor;
    this.timeoutMs = timeoutMs;
  }

  /** Runs {@code call}; a timeout or an I/O failure becomes 503, any other failure is passed on for mapping. */
  public <T> Future<T> call(String what, Callable<T> call) {
    return executor.<T>executeBlocking(call, false)
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .recover(failure -> {
          ApiException inner = innerApiException(failure);
          if (inner != null) {
            return Future.failedFuture(inner); // e.g. Redis (the SDK's token store) failed, not WeChat
          }
          return Future.failedFuture(isUnavailable(failure) ? ApiException.upstreamUnavailable(what, failure) : failure);
        });
  }

  /** An {@link ApiException} raised inside the SDK call (by our own Redis-backed token store), if any. */
  public static ApiException innerApiException(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ApiException api) {
        return api;
      }
    }
    return null;
  }

  public long timeoutMs() {
    return timeoutMs;
  }

  private static boolean isUnavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException || t instanceof java.io.IOException
          || t instanceof java.util.concurrent.RejectedExecutionException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
