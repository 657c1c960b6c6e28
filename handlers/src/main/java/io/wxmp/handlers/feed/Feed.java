package io.wxmp.handlers.feed;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.wxmp.gpu.RankingClient;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.events.EventWeights;
import io.wxmp.handlers.events.OnlineState;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feed of one server, built once in the server's start-up and shared by its HTTP verticles: the catalogue copy,
 * the serving model, the training job, page assembly and the fold-in listener, with the timers that keep the catalogue
 * and the model current and train on a schedule.
 */
public final class Feed {
  private static final Logger log = LoggerFactory.getLogger(Feed.class);

  /**
   * @param trainIntervalSec how often a server tries to train (the lease lets one run at a time); 0 turns it off
   * @param refreshMs        how often the catalogue copy is refreshed and the newest model version looked for
   * @param cursorTtlSec     how long a feed's cursor stays valid after its last page
   */
  public record Config(FeedService.Config page, FeedTrainer.Config training, long trainIntervalSec, long refreshMs,
      long cursorTtlSec) {}

  private final Vertx vertx;
  private final Config config;
  private final Catalogue catalogue;
  private final ModelStore store;
  private final ModelServing serving;
  private final FeedTrainer trainer;
  private final FeedService service;
  private final FeedRepository repo;
  private final FoldInListener foldIn;
  private final WorkerExecutor compute;
  private final Pool pg;
  private final UserVectors userVectors;
  private final WorkerExecutor training;
  private final ServingRefresh refresher;
  private final CatalogueGeneration generation;
  private long trainTimer = -1;

  public Feed(Vertx vertx, Pool pg, RedisAPI redis, RankingClient ranking, OnlineState online, EventWeights weights,
      byte[] tokenKey, SponsoredSlots sponsored, FeedExperiments experiments, MeterRegistry metrics, Config config) {
    this(vertx, pg, redis, ranking, online, weights, tokenKey, sponsored, experiments, metrics, config, true);
  }

  /**
   * @param ownsRanking true when this process runs the ranking verticle (role {@code both}); false on an API node of
   *                    a cluster, whose ranking nodes load each version themselves (see {@link ModelServing})
   */
  public Feed(Vertx vertx, Pool pg, RedisAPI redis, RankingClient ranking, OnlineState online, EventWeights weights,
      byte[] tokenKey, SponsoredSlots sponsored, FeedExperiments experiments, MeterRegistry metrics, Config config,
      boolean ownsRanking) {
    this.vertx = vertx;
    this.config = config;
    this.pg = pg;
    this.generation = new CatalogueGeneration(redis);
    this.catalogue = new Catalogue(pg, generation);
    this.store = new ModelStore(pg);
    this.repo = new FeedRepository(pg);
    this.compute = vertx.createSharedWorkerExecutor("feed-model", 1, 10, TimeUnit.MINUTES);
    this.training = vertx.createSharedWorkerExecutor("feed-training", 1, 6, TimeUnit.HOURS);
    this.serving = new ModelServing(vertx, ranking, store, catalogue, compute, ownsRanking);
    this.refresher = new ServingRefresh(vertx, catalogue, serving);
    this.trainer = new FeedTrainer(redis, store, weights, config.training(), training, () -> {
      vertx.eventBus().publish(ModelServing.MODEL_TRAINED, "new"); // every ranking node of a cluster loads it
      return serving.loadNewest().compose(x -> serving.reconcile());
    });
    UserVectors vectors = new UserVectors(redis);
    this.service = new FeedService(config.page(), catalogue, serving, ranking, online, vectors, store, repo,
        new FeedUsers(repo, new ProfileCache(redis)), refresher::refresh,
        new FeedCursor(redis, config.cursorTtlSec()), tokenKey, sponsored, experiments, metrics);
    this.foldIn = new FoldInListener(serving, online, vectors, metrics);
    this.userVectors = vectors;
  }

  /** First catalogue read and model load, then the timers. */
  public Future<Void> start() {
    return refresher.start(config.refreshMs(), false).map(v -> {
      if (config.trainIntervalSec() > 0) {
        long every = config.trainIntervalSec() * 1000;
        trainTimer = vertx.setPeriodic(every, every, t -> trainer.trainIfIdle()
            .onFailure(e -> log.warn("scheduled feed training failed: {}", e.toString())));
      }
      return null;
    });
  }

  /** Refreshes the catalogue copy, loads a newer model if there is one, and applies catalogue changes to it. */
  public Future<Void> refresh() {
    return refresher.refresh();
  }

  public void stop() {
    refresher.stop();
    vertx.cancelTimer(trainTimer);
    compute.close();
    training.close();
  }

  /** Replaces where experiment arms come from (the campaigns feature wires its own; tests set fixed arms). */
  public void useExperiments(FeedExperiments experiments) {
    service.use(service.sponsored(), experiments);
  }

  /** Replaces where sponsored entries come from. */
  public void useSponsoredSlots(SponsoredSlots slots) {
    service.use(slots, service.experiments());
  }

  public Catalogue catalogue() {
    return catalogue;
  }

  /** The generation pages compare their catalogue copy's with. */
  public CatalogueGeneration generation() {
    return generation;
  }

  public ModelServing serving() {
    return serving;
  }

  public FeedTrainer trainer() {
    return trainer;
  }

  public FeedService service() {
    return service;
  }

  public FeedRepository repository() {
    return repo;
  }

  public ModelStore store() {
    return store;
  }

  /** The listener that the events feature calls after each committed batch. */
  /**
   * DELETE /me: the user's cached ranking, their re-solved vector in Redis and their rows in every stored model
   * version.
   */
  public Future<Void> forget(long userId) {
    service.candidateCache().forget(Long.toString(userId)); // this server's copy; another's lapses within 60 s
    return userVectors.forget(Long.toString(userId))
        .compose(v -> pg.preparedQuery("DELETE FROM feed_user_vectors WHERE user_id = $1")
            .execute(io.vertx.sqlclient.Tuple.of(userId)))
        .mapEmpty();
  }

  public EventListener foldInListener() {
    return foldIn;
  }
}
