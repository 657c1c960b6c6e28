package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.wxmp.gpu.RankingClient;
import io.wxmp.recsys.IalsParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which model version this server ranks with, and the ranking collection that holds it. A new version is loaded into
 * a collection of its own ({@code feed-<version>}) while pages keep using the old one; then one volatile write makes
 * the new one current, so no request fails or mixes versions during a swap. The old collection is emptied a while
 * later. Catalogue changes (a new item, an unpublished one) are applied to the current collection by
 * {@link #reconcile()}. Every change to collections runs in one sequence, never two at once.
 *
 * <p>A server that runs ranking itself ({@code owner}: the roles {@code both} and {@code ranking}) fills its own ranking
 * verticle's collections. An API node of a cluster ({@code owner} false) fills nothing: the ranking nodes load each
 * version from PostgreSQL themselves. It still builds the version (fold-in and the vectors MMR needs), but makes it
 * current only once a ranking node answers a query on its collection; until then pages keep the version before (the
 * ranking nodes keep an old collection for {@link #RETIRE_AFTER_MS}), and the next {@link #loadNewest()} asks again.
 */
public final class ModelServing {
  private static final Logger log = LoggerFactory.getLogger(ModelServing.class);
  /** How long an old collection stays after a swap (pages in flight finish on it). */
  static final long RETIRE_AFTER_MS = 60_000;
  /** Published (the version) when a training run wrote a new serving version: every ranking node loads it. */
  public static final String MODEL_TRAINED = "wxmp.feed.model.trained";
  /** Published (the version) by a server that loaded a version into its ranking verticle. */
  public static final String MODEL_LOADED = "wxmp.feed.model.loaded";
  /** Above this many differences, reconcile reloads the whole collection instead of item by item. */
  private static final int RELOAD_ABOVE = 500;

  private final Vertx vertx;
  private final RankingClient ranking;
  private final ModelStore store;
  private final Catalogue catalogue;
  private final WorkerExecutor compute;
  private final boolean owner;
  private volatile ServingModel current;
  /** A viewer's built version that no ranking node had loaded yet when it asked. */
  private ServingModel pending;
  private Future<Void> sequence = Future.succeededFuture();

  public ModelServing(Vertx vertx, RankingClient ranking, ModelStore store, Catalogue catalogue,
      WorkerExecutor compute) {
    this(vertx, ranking, store, catalogue, compute, true);
  }

  /** @param owner true: fill this process's ranking verticle; false: wait for the cluster's ranking nodes */
  public ModelServing(Vertx vertx, RankingClient ranking, ModelStore store, Catalogue catalogue,
      WorkerExecutor compute, boolean owner) {
    this.owner = owner;
    this.vertx = vertx;
    this.ranking = ranking;
    this.store = store;
    this.catalogue = catalogue;
    this.compute = compute;
  }

  /** The model pages rank with now; null before the first model. */
  public ServingModel current() {
    return current;
  }

  /** Loads the newest serving version if it is not the current one; answers whether it swapped. */
  public Future<Boolean> loadNewest() {
    return inSequence(() -> store.newestServing().compose(row -> {
      ServingModel now = current;
      if (row == null || (now != null && now.modelId() >= row.id())) {
        return Future.succeededFuture(false);
      }
      if (pending != null && pending.modelId() == row.id()) {
        return swapWhenRanked(pending, System.nanoTime());
      }
      return load(row);
    }));
  }

  /** Applies catalogue changes to the current collection. */
  public Future<Void> reconcile() {
    return inSequence(() -> {
      ServingModel m = current;
      return m == null ? Future.succeededFuture() : sync(m);
    });
  }

  private synchronized <T> Future<T> inSequence(Supplier<Future<T>> step) {
    Future<T> next = sequence.transform(ignored -> {
      try {
        return step.get();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    });
    sequence = next.transform(ignored -> Future.succeededFuture());
    return next;
  }

  private Future<Boolean> load(ModelStore.ModelRow row) {
    long started = System.nanoTime();
    return store.itemVectors(row.id()).compose(rows -> compute.executeBlocking(() -> {
      IalsParams p = FeedTrainer.params(row.params());
      long[] ids = new long[rows.size()];
      float[] vectors = new float[rows.size() * p.dim()];
      for (int i = 0; i < rows.size(); i++) {
        ids[i] = (Long) rows.get(i)[0];
        System.arraycopy((float[]) rows.get(i)[1], 0, vectors, i * p.dim(), p.dim());
      }
      Catalogue.Snapshot snap = catalogue.snapshot();
      Map<Long, List<String>> tags = new HashMap<>();
      snap.items().forEach((id, item) -> tags.put(id, item.tags()));
      ServingModel m = new ServingModel(row.id(), row.version(), p, ids, vectors, tags);
      for (CatalogueItem item : snap.items().values()) {
        m.inCollection.put(item.id(), m.vectorFor(item.id(), item.tags()));
      }
      return m;
    }, false)).compose(m -> owner ? fill(m).map(v -> swap(m, started)) : swapWhenRanked(m, started));
  }

  private boolean swap(ServingModel m, long started) {
    ServingModel old = current;
    current = m;
    pending = null;
    if (owner) {
      // API nodes of a cluster wait for this before they rank with the version (a local no-op without a cluster)
      vertx.eventBus().publish(MODEL_LOADED, m.version());
    }
    log.info("feed model {} serving: {} items in the collection ({} trained), loaded in {} ms", m.version(),
        m.inCollection.size(), m.trainedItems(), (System.nanoTime() - started) / 1_000_000);
    if (old != null && owner) {
      vertx.setTimer(RETIRE_AFTER_MS, t -> inSequence(() -> ranking.load(old.collection(), new long[0],
          new float[0][])).onFailure(e -> log.warn("retiring {} failed: {}", old.collection(), e.toString())));
    }
    return true;
  }

  /** A viewer swaps once a ranking node answers a query on m's collection; otherwise m waits as pending. */
  private Future<Boolean> swapWhenRanked(ServingModel m, long started) {
    return ranking.topK(m.collection(), new float[m.dim()], 1, null)
        .map(answered -> swap(m, started))
        .recover(e -> {
          pending = m;
          log.info("feed model {} built; waiting for a ranking node to load it ({})", m.version(), e.toString());
          return Future.succeededFuture(false);
        });
  }

  /** Whether this server fills its own ranking verticle (else the cluster's ranking nodes load each version). */
  public boolean owner() {
    return owner;
  }

  /** Loads the whole collection of m from m.inCollection. */
  private Future<Void> fill(ServingModel m) {
    if (!owner) {
      return Future.succeededFuture();
    }
    long[] ids = new long[m.inCollection.size()];
    float[][] vectors = new float[ids.length][];
    int i = 0;
    for (Map.Entry<Long, float[]> e : m.inCollection.entrySet()) {
      if (i == ids.length) {
        break;
      }
      ids[i] = e.getKey();
      vectors[i++] = e.getValue();
    }
    return ranking.load(m.collection(), java.util.Arrays.copyOf(ids, i), java.util.Arrays.copyOf(vectors, i));
  }

  private Future<Void> sync(ServingModel m) {
    Catalogue.Snapshot snap = catalogue.snapshot();
    List<CatalogueItem> added = new ArrayList<>();
    for (CatalogueItem item : snap.items().values()) {
      if (!m.inCollection.containsKey(item.id())) {
        added.add(item);
      }
    }
    List<Long> removed = new ArrayList<>();
    for (Long id : m.inCollection.keySet()) {
      if (!snap.eligible(id)) {
        removed.add(id);
      }
    }
    if (added.isEmpty() && removed.isEmpty()) {
      return Future.succeededFuture();
    }
    removed.forEach(m.inCollection::remove);
    for (CatalogueItem item : added) {
      m.inCollection.put(item.id(), m.vectorFor(item.id(), item.tags()));
    }
    if (!owner) {
      return Future.succeededFuture(); // the ranking nodes apply the same changes from their own catalogue copy
    }
    if (added.size() + removed.size() > RELOAD_ABOVE) {
      return fill(m);
    }
    List<Future<Void>> ops = new ArrayList<>();
    for (Long id : removed) {
      ops.add(ranking.remove(m.collection(), id));
    }
    for (CatalogueItem item : added) {
      ops.add(ranking.upsert(m.collection(), item.id(), m.inCollection.get(item.id())));
    }
    return Future.all(ops).mapEmpty();
  }

  /** The model row as {@code GET /platform/feed/model} shows it. */
  static JsonObject describe(ModelStore.ModelRow row) {
    if (row == null) {
      return new JsonObject().put("version", null).put("status", "none").put("trainedAt", null).put("users", null)
          .put("items", null).put("metrics", null);
    }
    return new JsonObject().put("version", row.version()).put("status", row.status())
        .put("startedAt", io.wxmp.handlers.common.Json.time(row.startedAt()))
        .put("trainedAt", io.wxmp.handlers.common.Json.time(row.trainedAt()))
        .put("users", row.users()).put("items", row.items()).put("metrics", row.metrics())
        .put("params", row.params()).put("error", row.error());
  }
}
