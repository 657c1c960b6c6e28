package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import io.wxmp.gpu.RankingClient;
import java.util.concurrent.TimeUnit;

/**
 * The feed's part on a ranking node of a cluster (role {@code ranking}): a catalogue copy and the serving model, loaded
 * from PostgreSQL into this node's own ranking verticle, refreshed on a timer and at once when a training run announces
 * a new version. It serves no pages; the API nodes rank through the clustered event bus.
 */
public final class FeedRanking {
  private final WorkerExecutor compute;
  private final ModelServing serving;
  private final ServingRefresh refresher;
  private final long refreshMs;

  public FeedRanking(Vertx vertx, Pool pg, RankingClient ranking, long refreshMs) {
    this.refreshMs = refreshMs;
    Catalogue catalogue = new Catalogue(pg);
    this.compute = vertx.createSharedWorkerExecutor("feed-model", 1, 10, TimeUnit.MINUTES);
    this.serving = new ModelServing(vertx, ranking, new ModelStore(pg), catalogue, compute, true);
    this.refresher = new ServingRefresh(vertx, catalogue, serving);
  }

  /** Loads the catalogue and the newest serving version (failing if PostgreSQL does not answer), then the timers. */
  public Future<Void> start() {
    return refresher.start(refreshMs, true);
  }

  /** The version loaded into the ranking verticle; null before the first model. */
  public String version() {
    ServingModel m = serving.current();
    return m == null ? null : m.version();
  }

  public Future<Void> refresh() {
    return refresher.refresh();
  }

  public void stop() {
    refresher.stop();
    compute.close();
  }
}
