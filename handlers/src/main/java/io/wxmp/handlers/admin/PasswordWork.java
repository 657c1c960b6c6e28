package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.wxmp.handlers.common.ApiException;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Argon2 hashing (19 MiB and tens of milliseconds each) on a pool of its own, with a bound on what may wait for it:
 * at most {@code workers} hashes run at once (so at most {@code workers} × 19 MiB), at most {@code maxWaiting} more
 * wait, and a check past that is refused at once (429 {@code rate_limited}, Retry-After 1) instead of queueing behind
 * a flood, so a correct password still gets its answer in one hash's time, not in the flood's.
 */
public final class PasswordWork {
  private final WorkerExecutor pool;
  private final int maxPending;
  private final AtomicInteger pending = new AtomicInteger();

  public PasswordWork(Vertx vertx, int workers, int maxWaiting) {
    this.pool = vertx.createSharedWorkerExecutor("passwords", workers);
    this.maxPending = workers + maxWaiting;
  }

  /** Whether {@code password} is the one behind {@code hash}; a null hash (no such account) costs a hash too. */
  public Future<Boolean> matches(String password, String hash) {
    return run(() -> Passwords.matches(password, hash));
  }

  public Future<String> hash(String password) {
    return run(() -> Passwords.hash(password));
  }

  /** Other password work (a check and a new hash in one go). */
  public <T> Future<T> run(Callable<T> work) {
    if (pending.incrementAndGet() > maxPending) {
      pending.decrementAndGet();
      return Future.failedFuture(ApiException.rateLimited(1));
    }
    return pool.<T>executeBlocking(work, false).andThen(done -> pending.decrementAndGet());
  }

  /** Hashes running or waiting now. */
  public int pending() {
    return pending.get();
  }
}
