package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.sqlclient.SqlConnection;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.server.testkit.TestStack;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A connection handed to a waiter of the PostgreSQL pool before that waiter's queueing finished: the waiter keeps it,
 * and nothing fails later on an event loop. This is what the feed and sponsored-feed benchmarks logged a few times per
 * run ("Unhandled exception", {@code IllegalStateException: Promise already completed}, no request failing):
 *
 * <ol>
 *   <li>a request on event loop 1, in the callback that hands it a connection another request there gave back, asks
 *       for another one; the pool is full, so the new waiter is queued, and the pool's "queued" callback (which arms
 *       vertx-sql-client's wait timer, {@code PoolOptions.connectionTimeout}) runs only once the callback in progress
 *       returns;</li>
 *   <li>meanwhile event loop 2 gives a connection back and the pool hands it to that waiter: no timer to cancel yet,
 *       so the acquisition completes;</li>
 *   <li>then the timer is armed and fires: Vert.x's pool says the waiter (handed a connection by a recycle, never
 *       marked disposed) was cancelled, and vertx-sql-client fails the acquisition promise it had completed.</li>
 * </ol>
 *
 * The server's pool has no wait timer of its own; {@link BoundedPool} bounds the wait.
 */
class PoolWaitRaceTest {
  private static final int QUERY_TIMEOUT_MS = 300;

  @Test
  void aWaiterServedBeforeItsQueueingFinishedIsNotFailedLater() throws Exception {
    TestStack stack = TestStack.shared();
    ConcurrentLinkedQueue<Throwable> unhandled = new ConcurrentLinkedQueue<>();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    vertx.exceptionHandler(unhandled::add);
    BoundedPool pool = Database.from(Settings.of(stack.settings)).pool(vertx, 2, QUERY_TIMEOUT_MS);
    // two contexts on two event loops; each connection belongs to the event loop that made it
    VertxInternal internal = (VertxInternal) vertx;
    Context first = internal.createEventLoopContext();
    Context second = internal.createEventLoopContext();
    try {
      SqlConnection one = on(first, pool::getConnection);
      SqlConnection two = on(second, pool::getConnection);
      Promise<SqlConnection> served = Promise.promise();
      CountDownLatch given = new CountDownLatch(1);
      on(first, () -> {
        // queued: both connections are taken
        Future<SqlConnection> earlier = pool.getConnection();
        Future<SqlConnection> handedOff = earlier.map(mine -> {
          // inside the pool's hand-off of the connection given back below: the pool is full again
          Future<SqlConnection> waiter = pool.getConnection();
          second.runOnContext(v -> {
            two.close();
            given.countDown();
          });
          try {
            // the other event loop gives its connection back, and the pool hands it to the waiter there, before this
            // callback returns (and so before the pool's "queued" callback for the waiter has run)
            assertThat(given.await(5, TimeUnit.SECONDS)).isTrue();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          waiter.onComplete(served);
          return mine;
        });
        one.close();
        return handedOff.compose(mine -> mine.close());
      });
      SqlConnection got = served.future().await(5, TimeUnit.SECONDS);
      on(first, got::close);
      // a wait timer armed for the served waiter (on the first event loop, when the hand-off returned) fires before
      // a later timer there that waits longer
      on(first, () -> vertx.timer(QUERY_TIMEOUT_MS + 200, TimeUnit.MILLISECONDS));
      assertThat(unhandled.stream().map(PoolWaitRaceTest::describe).toList())
          .as("unhandled exceptions on the event loops").isEmpty();
      assertThat(on(first, () -> pool.query("SELECT 1").execute()).size()).isEqualTo(1);
    } finally {
      pool.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Without the pool's own wait timer the wait still ends: BoundedPool's deadline, then 503, nothing leaked. */
  @Test
  void aWaiterPastTheDeadlineGets503AndTheConnectionItMissedGoesBack() throws Exception {
    TestStack stack = TestStack.shared();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    BoundedPool pool = Database.from(Settings.of(stack.settings)).pool(vertx, 1, QUERY_TIMEOUT_MS);
    Context context = ((VertxInternal) vertx).createEventLoopContext();
    try {
      SqlConnection held = on(context, pool::getConnection);
      long start = System.nanoTime();
      Throwable failure = on(context, () -> pool.getConnection().map(c -> (Throwable) null).otherwise(t -> t));
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(failure).isInstanceOf(ApiException.class);
      assertThat(((ApiException) failure).code()).isEqualTo("upstream_unavailable");
      assertThat(waitedMs).isBetween((long) QUERY_TIMEOUT_MS, 5_000L);
      on(context, held::close);
      // the abandoned waiter got the connection back and gave it back at once: the next statement runs
      assertThat(on(context, () -> pool.query("SELECT 1").execute()).size()).isEqualTo(1);
    } finally {
      pool.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The exception and where it was thrown (the pool's frames). */
  private static String describe(Throwable t) {
    StringBuilder out = new StringBuilder(t.toString());
    StackTraceElement[] frames = t.getStackTrace();
    for (int i = 0; i < Math.min(4, frames.length); i++) {
      out.append("\n    at ").append(frames[i]);
    }
    return out.toString();
  }

  /** {@code call} on {@code context}, awaited here. */
  private static <T> T on(Context context, Supplier<Future<T>> call) throws Exception {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(done));
    return done.future().await(10, TimeUnit.SECONDS);
  }
}
