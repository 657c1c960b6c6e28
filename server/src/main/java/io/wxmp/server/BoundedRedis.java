package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.wxmp.handlers.common.ApiException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Redis client every feature gets: each command has a deadline, and a Redis that is down, refuses, drops the
 * connection or does not answer in time fails it with 503 {@code upstream_unavailable} naming Redis (not a 500, nor
 * the feature's own upstream). Redis's error replies ({@code NOSCRIPT}, {@code WRONGTYPE}, ...) pass unchanged.
 */
final class BoundedRedis implements Redis {
  static final String WHAT = "Redis";
  private final Redis delegate;
  private final long deadlineMs;

  BoundedRedis(Redis delegate, long deadlineMs) {
    this.delegate = delegate;
    this.deadlineMs = deadlineMs;
  }

  /** A Redis error reply, or a request the client refused as malformed: not an outage. */
  private static boolean isReply(Throwable failure) {
    return failure.getClass().getName().equals("io.vertx.redis.client.impl.types.ErrorType")
        || failure instanceof IllegalArgumentException || failure instanceof ApiException;
  }

  private <T> Future<T> bounded(Future<T> call) {
    return call.timeout(deadlineMs, TimeUnit.MILLISECONDS)
        .recover(failure -> Future.failedFuture(isReply(failure) ? failure
            : ApiException.upstreamUnavailable(WHAT, failure)));
  }

  @Override
  public Future<RedisConnection> connect() {
    return bounded(delegate.connect());
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }

  @Override
  public Future<Response> send(Request command) {
    return bounded(delegate.send(command));
  }

  @Override
  public Future<List<Response>> batch(List<Request> commands) {
    return bounded(delegate.batch(commands));
  }
}
