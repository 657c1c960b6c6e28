package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.RedisLease;
import io.wxmp.handlers.events.EventWeights;
import io.wxmp.recsys.Ials;
import io.wxmp.recsys.IalsModel;
import io.wxmp.recsys.IalsParams;
import io.wxmp.recsys.Interactions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training job: reads the summed, weighted events, trains iALS ({@code recsys}) on a worker thread with the
 * configured number of training threads, measures it on held-out interactions, and writes a model version with its
 * item and user vectors. One run at a time across all servers (a Redis lease); a run that dies leaves a version that
 * the next run marks failed. The same data and seed give the same vectors.
 */
public final class FeedTrainer {
  private static final Logger log = LoggerFactory.getLogger(FeedTrainer.class);
  static final String LEASE_KEY = "wxmp:feed:training";
  /** Users held out for the offline metrics (each with at least {@link #HOLDOUT_MIN} items, 20 % of them hidden). */
  static final int HOLDOUT_USERS = 200;
  static final int HOLDOUT_MIN = 5;
  static final int METRIC_K = 20;
  static final int TOP_ITEMS = 20;
  static final int VERSIONS_KEPT = 3;

  /**
   * @param params       dimension, epochs, α₀, λ, confidence scale, seed and threads of iALS
   * @param leaseSeconds how long a run may hold the lease (and after which an unfinished version counts as dead)
   */
  public record Config(IalsParams params, long leaseSeconds) {}

  /** Answered by {@link #start()} when a run is under way: the running version (may be null if just starting). */
  public static final class Busy extends RuntimeException {
    private final String modelVersion;

    Busy(String modelVersion) {
      super("a training run is in progress", null, false, false);
      this.modelVersion = modelVersion;
    }

    public String modelVersion() {
      return modelVersion;
    }
  }

  private final RedisAPI redis;
  private final ModelStore store;
  private final EventWeights weights;
  private final Config config;
  private final WorkerExecutor training;
  private final Supplier<Future<?>> afterTraining;

  public FeedTrainer(RedisAPI redis, ModelStore store, EventWeights weights, Config config, WorkerExecutor training,
      Supplier<Future<?>> afterTraining) {
    this.redis = redis;
    this.store = store;
    this.weights = weights;
    this.config = config;
    this.training = training;
    this.afterTraining = afterTraining;
  }

  public record Run(ModelStore.ModelRow started, Future<ModelStore.ModelRow> finished) {}

  /**
   * Starts a run and answers once its version exists (status training); {@code finished} completes when it is
   * serving or failed. Fails with {@link Busy} while another run holds the lease.
   */
  public Future<Run> start() {
    return RedisLease.tryAcquire(redis, LEASE_KEY, config.leaseSeconds() * 1000).compose(token -> {
      if (token == null) {
        return store.running().compose(r -> Future.failedFuture(new Busy(r == null ? null : r.version())));
      }
      return store.abandonOlderThan(config.leaseSeconds())
          .compose(v -> store.create(toJson(config.params())))
          .map(row -> {
            // released once the version is finished, before the servers load it (a caller that sees it serving can
            // start the next run at once), and again at the end in case the run failed before that (a no-op then)
            Supplier<Future<Void>> release = () -> RedisLease.release(redis, LEASE_KEY, token);
            Future<ModelStore.ModelRow> finished = train(row, release).eventually(release);
            return new Run(row, finished);
          })
          .recover(e -> RedisLease.release(redis, LEASE_KEY, token).transform(x -> Future.failedFuture(e)));
    });
  }

  /** Starts a run unless one is under way; for the schedule and dev start-up. */
  public Future<ModelStore.ModelRow> trainIfIdle() {
    return start().compose(Run::finished).recover(e -> e instanceof Busy
        ? Future.succeededFuture(null) : Future.failedFuture(e));
  }

  private Future<ModelStore.ModelRow> train(ModelStore.ModelRow row, Supplier<Future<Void>> releaseLease) {
    long started = System.nanoTime();
    List<String> types = new ArrayList<>();
    List<Float> ws = new ArrayList<>();
    for (String t : List.of("click", "like", "share", "dwell", "complete", "purchase", "refund")) {
      float w = weights.weight(t);
      if (w != 0) {
        types.add(t);
        ws.add(w);
      }
    }
    return store.trainingData(types.toArray(new String[0]), ws.toArray(new Float[0]), weights.weight("quiz"))
        .compose(data -> training.executeBlocking(() -> fit(data, config.params()), false))
        .compose(fit -> store.saveVectors(row.id(), fit.itemIds, fit.model.itemVectors(), fit.userIds,
                fit.model.userVectors(), fit.topItems, fit.model.dim())
            .compose(v -> {
              JsonObject metrics = fit.metrics.put("trainSeconds", (System.nanoTime() - started) / 1e9);
              return store.finish(row.id(), fit.userIds.length, fit.itemIds.length, fit.nnz, metrics);
            }))
        .compose(v -> store.prune(VERSIONS_KEPT))
        .compose(v -> releaseLease.get().recover(e -> Future.succeededFuture()))
        .compose(v -> store.byVersion(row.version()))
        .compose(done -> {
          log.info("feed model {} trained: {} users, {} items, {}", done.version(), done.users(), done.items(),
              done.metrics());
          return afterTraining.get().<ModelStore.ModelRow>map(x -> done)
              .recover(e -> Future.succeededFuture(done));
        })
        .recover(e -> {
          log.error("feed model {} failed to train", row.version(), e);
          return store.fail(row.id(), e.toString()).compose(v -> store.byVersion(row.version()));
        });
  }

  /** The model and the id maps of one run; also its offline metrics. */
  static final class Fit {
    long[] userIds;
    long[] itemIds;
    long[][] topItems;
    long nnz;
    IalsModel model;
    JsonObject metrics;
  }

  /**
   * Pure computation (runs on the training worker): ids to rows, hold-out, iALS, metrics.
   *
   * <p>Quiz interests join as extra columns, one per tag, after the items (the user side of "collective" matrix
   * factorisation: a tag column is fitted like an item that everyone who answered about the tag liked). So a user's
   * quiz answers pull their trained vector toward the items of people with the same interests, a user with quiz
   * answers and no events gets a trained vector of their own, and the tag columns are dropped afterwards: only items
   * are saved and served. The hold-out and the metrics use the item columns only. No interests, no extra columns:
   * the same vectors as before.
   */
  static Fit fit(ModelStore.TrainingData data, IalsParams p) {
    long[] tagUsers = data.tagUserIds();
    long[] userIds = distinctSorted(concat(data.userIds(), tagUsers));
    long[] itemIds = distinctSorted(data.itemIds());
    String[] tagNames = Arrays.stream(data.tags()).distinct().sorted().toArray(String[]::new);
    int realItems = itemIds.length;
    int columns = realItems + tagNames.length;
    int n = data.userIds().length;
    int[] u = new int[n];
    int[] i = new int[n];
    for (int k = 0; k < n; k++) {
      u[k] = Arrays.binarySearch(userIds, data.userIds()[k]);
      i[k] = Arrays.binarySearch(itemIds, data.itemIds()[k]);
    }
    Interactions all = Interactions.of(userIds.length, realItems, u, i, data.strengths());
    // Hold out 20 % of the items of up to HOLDOUT_USERS users (chosen with the seed) for the offline metrics.
    SplittableRandom random = new SplittableRandom(p.seed());
    boolean[] hidden = new boolean[n];
    int[] heldUsers = pickUsers(all, random);
    int start = 0;
    int[] firstOf = new int[userIds.length + 1];
    for (int k = 0; k < n; k++) {
      firstOf[u[k] + 1]++;
    }
    for (int x = 0; x < userIds.length; x++) {
      firstOf[x + 1] += firstOf[x];
    }
    for (int user : heldUsers) {
      int from = firstOf[user];
      int to = firstOf[user + 1];
      int count = to - from;
      int hide = Math.max(1, count / 5);
      int[] order = shuffled(count, random);
      for (int h = 0; h < hide; h++) {
        hidden[from + order[h]] = true;
      }
    }
    int kept = 0;
    for (boolean h : hidden) {
      kept += h ? 0 : 1;
    }
    int extra = tagUsers.length;
    int[] tu = new int[kept + extra];
    int[] ti = new int[kept + extra];
    float[] ts = new float[kept + extra];
    int j = 0;
    for (int k = 0; k < n; k++) {
      if (!hidden[k]) {
        tu[j] = u[k];
        ti[j] = i[k];
        ts[j++] = data.strengths()[k];
      }
    }
    for (int k = 0; k < extra; k++) {
      tu[j] = Arrays.binarySearch(userIds, tagUsers[k]);
      ti[j] = realItems + Arrays.binarySearch(tagNames, data.tags()[k]);
      ts[j++] = data.tagStrengths()[k];
    }
    Interactions train = Interactions.of(userIds.length, columns, tu, ti, ts);
    IalsModel trained = Ials.train(train, p);
    // the served model: the users and the item columns only
    IalsModel model = columns == realItems ? trained : new IalsModel(trained.params(), trained.users(), realItems,
        trained.userVectors(), Arrays.copyOf(trained.itemVectors(), realItems * trained.dim()));

    Fit fit = new Fit();
    fit.userIds = userIds;
    fit.itemIds = itemIds;
    fit.nnz = all.nnz();
    fit.model = model;
    fit.topItems = new long[userIds.length][];
    for (int x = 0; x < userIds.length; x++) {
      int[] items = train.itemsOf(x);
      float[] s = train.strengthsOf(x);
      List<Integer> order = new ArrayList<>();
      for (int k = 0; k < items.length; k++) {
        if (items[k] < realItems) {
          order.add(k);
        }
      }
      order.sort((a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(items[a], items[b]));
      long[] top = new long[Math.min(TOP_ITEMS, order.size())];
      for (int k = 0; k < top.length; k++) {
        top[k] = itemIds[items[order.get(k)]];
      }
      fit.topItems[x] = top;
    }
    fit.metrics = metrics(model, train, heldUsers, u, i, hidden, start)
        .put("interestTags", tagNames.length).put("interestNnz", extra);
    return fit;
  }

  private static long[] concat(long[] a, long[] b) {
    long[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Recall@20 and NDCG@20 of the hidden items (full ranking minus the user's training items), beside popularity. */
  private static JsonObject metrics(IalsModel model, Interactions train, int[] heldUsers, int[] u, int[] i,
      boolean[] hidden, int unused) {
    int items = model.items();
    float[] popularity = new float[items];
    for (int x = 0; x < train.users(); x++) {
      for (int item : train.itemsOf(x)) {
        if (item < items) {
          popularity[item]++;
        }
      }
    }
    List<List<Integer>> targets = new ArrayList<>();
    for (int x = 0; x < model.users(); x++) {
      targets.add(null);
    }
    for (int k = 0; k < u.length; k++) {
      if (hidden[k]) {
        if (targets.get(u[k]) == null) {
          targets.set(u[k], new ArrayList<>());
        }
        targets.get(u[k]).add(i[k]);
      }
    }
    double recall = 0;
    double ndcg = 0;
    double popRecall = 0;
    double popNdcg = 0;
    int evaluated = 0;
    for (int user : heldUsers) {
      List<Integer> target = targets.get(user);
      if (target == null || target.isEmpty()) {
        continue;
      }
      float[] scores = model.scores(model.userVector(user));
      int[] seen = Arrays.stream(train.itemsOf(user)).filter(x -> x < items).toArray();
      double[] r = rank(scores, seen, target);
      double[] pr = rank(popularity, seen, target);
      recall += r[0];
      ndcg += r[1];
      popRecall += pr[0];
      popNdcg += pr[1];
      evaluated++;
    }
    JsonObject out = new JsonObject().put("heldOutUsers", evaluated).put("k", METRIC_K);
    if (evaluated > 0) {
      out.put("recallAt20", recall / evaluated).put("ndcgAt20", ndcg / evaluated)
          .put("popularityRecallAt20", popRecall / evaluated).put("popularityNdcgAt20", popNdcg / evaluated);
    }
    return out;
  }

  /** {recall, ndcg} at METRIC_K of target under scores, the seen items left out. */
  private static double[] rank(float[] scores, int[] seen, List<Integer> target) {
    boolean[] skip = new boolean[scores.length];
    for (int s : seen) {
      skip[s] = true;
    }
    int k = METRIC_K;
    int[] top = new int[k];
    float[] topScore = new float[k];
    int filled = 0;
    for (int item = 0; item < scores.length; item++) {
      if (skip[item]) {
        continue;
      }
      float s = scores[item];
      if (filled < k || s > topScore[filled - 1]) {
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && topScore[pos - 1] < s) {
          topScore[pos] = topScore[pos - 1];
          top[pos] = top[pos - 1];
          pos--;
        }
        topScore[pos] = s;
        top[pos] = item;
      }
    }
    java.util.Set<Integer> t = new java.util.HashSet<>(target);
    double hits = 0;
    double dcg = 0;
    for (int r = 0; r < filled; r++) {
      if (t.contains(top[r])) {
        hits++;
        dcg += 1 / (Math.log(r + 2) / Math.log(2));
      }
    }
    double idcg = 0;
    for (int r = 0; r < Math.min(k, t.size()); r++) {
      idcg += 1 / (Math.log(r + 2) / Math.log(2));
    }
    return new double[] {hits / Math.min(k, t.size()), idcg == 0 ? 0 : dcg / idcg};
  }

  private static int[] pickUsers(Interactions all, SplittableRandom random) {
    List<Integer> eligible = new ArrayList<>();
    for (int x = 0; x < all.users(); x++) {
      if (all.countOf(x) >= HOLDOUT_MIN) {
        eligible.add(x);
      }
    }
    int[] order = shuffled(eligible.size(), random);
    int m = Math.min(HOLDOUT_USERS, eligible.size());
    int[] out = new int[m];
    for (int k = 0; k < m; k++) {
      out[k] = eligible.get(order[k]);
    }
    return out;
  }

  private static int[] shuffled(int n, SplittableRandom random) {
    int[] a = new int[n];
    for (int k = 0; k < n; k++) {
      a[k] = k;
    }
    for (int k = n - 1; k > 0; k--) {
      int j = random.nextInt(k + 1);
      int t = a[k];
      a[k] = a[j];
      a[j] = t;
    }
    return a;
  }

  private static long[] distinctSorted(long[] values) {
    return Arrays.stream(values).distinct().sorted().toArray();
  }

  static JsonObject toJson(IalsParams p) {
    return new JsonObject().put("algorithm", "ials").put("dim", p.dim()).put("epochs", p.epochs())
        .put("unobservedWeight", p.unobservedWeight()).put("regularization", p.regularization())
        .put("confidenceScale", p.confidenceScale()).put("seed", p.seed()).put("threads", p.threads());
  }

  static IalsParams params(JsonObject j) {
    return new IalsParams(j.getInteger("dim"), j.getInteger("epochs"), j.getDouble("unobservedWeight"),
        j.getDouble("regularization"), j.getDouble("confidenceScale"), j.getLong("seed"),
        Math.max(1, j.getInteger("threads", 1)));
  }

  static ApiException busy() {
    return ApiException.conflict("training_in_progress", "A feed model is being trained; try again when it is done.");
  }
}
