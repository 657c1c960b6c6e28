package io.wxmp.gpu;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.wxmp.gpu.RankingMessages.LoadRequest;
import io.wxmp.gpu.RankingMessages.RemoveRequest;
import io.wxmp.gpu.RankingMessages.TopKReply;
import io.wxmp.gpu.RankingMessages.TopKRequest;
import io.wxmp.gpu.RankingMessages.UpsertRequest;
import java.util.List;

/**
 * What other modules use to rank: event-bus requests to {@link RankingVerticle}. Failures arrive as
 * {@link io.vertx.core.eventbus.ReplyException} with the codes of {@link RankingAddresses}.
 *
 * <p>On a clustered event bus {@link #topK} and {@link #ping} go to any ranking node of the cluster (one per request,
 * round-robin), while {@link #upsert}, {@link #remove} and {@link #load} reach only this process's own ranking
 * verticle: each ranking node fills its collections itself.
 */
public final class RankingClient {
  private final Vertx vertx;
  private final DeliveryOptions options;
  private final DeliveryOptions pingOptions;
  private final DeliveryOptions localOptions;

  /** 5 s per request, 1 s for ping. */
  public RankingClient(Vertx vertx) {
    this(vertx, 5_000, 1_000);
  }

  public RankingClient(Vertx vertx, long timeoutMillis, long pingTimeoutMillis) {
    this.vertx = vertx;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
    this.pingOptions = new DeliveryOptions().setSendTimeout(pingTimeoutMillis);
    this.localOptions = new DeliveryOptions().setSendTimeout(timeoutMillis).setLocalOnly(true);
    RankingCodecs.register(vertx);
  }

  /** The k best items of collection for query (best first), never any id of exclude (which may be null). */
  public Future<List<ScoredId>> topK(String collection, float[] query, int k, long[] exclude) {
    TopKRequest r = new TopKRequest(collection, query.clone(), k, exclude == null ? new long[0] : exclude.clone());
    return vertx.eventBus().<TopKReply>request(RankingAddresses.TOP_K, r, options).map(m -> m.body().items());
  }

  public Future<Void> upsert(String collection, long id, float[] vector) {
    return vertx.eventBus().request(RankingAddresses.UPSERT, new UpsertRequest(collection, id, vector.clone()),
        localOptions)
        .mapEmpty();
  }

  public Future<Void> remove(String collection, long id) {
    return vertx.eventBus().request(RankingAddresses.REMOVE, new RemoveRequest(collection, id), localOptions).mapEmpty();
  }

  /** Replaces the whole collection (start-up). The arrays must not be changed afterwards. */
  public Future<Void> load(String collection, long[] ids, float[][] vectors) {
    return vertx.eventBus().request(RankingAddresses.LOAD, new LoadRequest(collection, ids, vectors), localOptions)
        .mapEmpty();
  }

  /** The backend in use ("cpu" or "cuda"); for readiness checks. */
  public Future<String> ping() {
    return vertx.eventBus().<String>request(RankingAddresses.PING, null, pingOptions).map(m -> m.body());
  }
}
