package io.wxmp.gpu;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.wxmp.gpu.RankingMessages.LoadRequest;
import io.wxmp.gpu.RankingMessages.RemoveRequest;
import io.wxmp.gpu.RankingMessages.TopKReply;
import io.wxmp.gpu.RankingMessages.TopKRequest;
import io.wxmp.gpu.RankingMessages.UpsertRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves ranking on the event bus (see {@link RankingAddresses}); deploy it as a worker.
 *
 * <p>Requests land in a bounded queue (over the bound they fail at once with {@code ranking_overloaded}). One
 * dedicated thread drains it: it waits at most {@code batchWindowMicros} after the first waiting query for others,
 * scores up to {@code maxBatch} of them with one {@link Scorer#topK} call per collection, and answers each caller
 * with its own slice. Mutations go through the same queue, so a query sees every mutation answered before it was
 * sent. Scoring runs off the verticle's context so admission (and ping) stay immediate while a batch is scored.
 *
 * <p>On a clustered event bus, queries ({@link RankingAddresses#TOP_K}) and {@link RankingAddresses#PING} are served to
 * every node of the cluster (the event bus picks one ranking node per request, round-robin), while mutations
 * ({@code UPSERT}, {@code REMOVE}, {@code LOAD}) are local consumers: each ranking node fills its own collections
 * (from PostgreSQL, see {@code FeedRanking}) and no other node can change them. A node that should take queries only
 * once its collections are loaded starts with {@code serveQueriesAtStart} false and calls {@link #serveQueries()}.
 */
public final class RankingVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RankingVerticle.class);

  private final RankingConfig config;
  private final MeterRegistry registry;
  private final ScorerFactory factory;
  private final boolean serveQueriesAtStart;
  private Future<Void> queriesServed;

  // Touched only by the ranking thread.
  private final Map<String, VectorCollection> collections = new HashMap<>();
  private final Map<String, IvfIndex> indexes = new HashMap<>();
  /** Per collection whose index is being built: the build's token and the ids mutated since its snapshot. */
  private final Map<String, Build> builds = new HashMap<>();
  /** Whether large collections get an IVF index: nprobe > 0 and the backend chosen at start is the CPU. */
  private volatile boolean indexing;
  /** Collections served through an index now (for the gauge; written by the ranking thread). */
  private volatile int indexed;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition batchReady = lock.newCondition();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean draining; // guarded by lock
  private boolean stopped; // guarded by lock

  private volatile Scorer scorer;
  private WorkerExecutor rankingThread;
  private WorkerExecutor indexThread;
  private DistributionSummary batchSizes;
  private Counter rejected;
  private Counter backendFailures;
  private Counter ivfRows;

  /** message is null for the verticle's own requests (an index to install). */
  private record Pending(Message<Object> message, Object body, long enqueuedNanos) {}

  private record Build(Object token, HashSet<Long> mutated) {}

  /** Installs an index built off the ranking thread, unless the collection was reloaded meanwhile. */
  private record InstallIndex(String collection, Object token, IvfIndex index) {}

  public RankingVerticle(RankingConfig config, MeterRegistry registry) {
    this(config, registry, ScorerFactory.standard());
  }

  public RankingVerticle(RankingConfig config, MeterRegistry registry, ScorerFactory factory) {
    this(config, registry, factory, true);
  }

  /**
   * @param serveQueriesAtStart false: only the local mutation consumers are registered at start, queries and ping
   *                            wait for {@link #serveQueries()} (a ranking node that first loads its collections)
   */
  public RankingVerticle(RankingConfig config, MeterRegistry registry, ScorerFactory factory,
      boolean serveQueriesAtStart) {
    this.config = config;
    this.registry = registry;
    this.factory = factory;
    this.serveQueriesAtStart = serveQueriesAtStart;
  }

  /**
   * Whether collections of at least {@value IvfIndex#MIN_ROWS} rows are served through an IVF index (decided at start:
   * nprobe above 0 and the CPU backend chosen; a server on CUDA, and its CPU fallback, always scan in full).
   */
  public boolean indexing() {
    return indexing;
  }

  /** The backend in use now: "cpu" or "cuda" (null before start). */
  public String backend() {
    Scorer s = scorer;
    return s == null ? null : s.backend();
  }

  @Override
  public Future<?> start() {
    RankingCodecs.register(vertx);
    rankingThread = vertx.createSharedWorkerExecutor("wxmp-ranking-" + deploymentID(), 1, 10, TimeUnit.MINUTES);
    indexThread = vertx.createSharedWorkerExecutor("wxmp-ranking-index-" + deploymentID(), 1, 10, TimeUnit.MINUTES);
    batchSizes = DistributionSummary.builder("wxmp.ranking.batch.size").description("queries per topK call")
        .publishPercentileHistogram().register(registry);
    rejected = Counter.builder("wxmp.ranking.rejected").description("requests failed with ranking_overloaded")
        .register(registry);
    ivfRows = Counter.builder("wxmp.ranking.ivf.rows")
        .description("rows scored from IVF lists (the scan's volume per query: WXMP_RANKING_NPROBE)").register(registry);
    backendFailures = Counter.builder("wxmp.ranking.backend.failures")
        .description("batches failed by the backend (after which CUDA falls back to the CPU)").register(registry);
    for (String b : new String[] {"cpu", "cuda"}) {
      Gauge.builder("wxmp.ranking.backend", this, v -> b.equals(v.backend()) ? 1 : 0).tag("backend", b)
          .description("1 for the backend in use").register(registry);
    }
    Gauge.builder("wxmp.ranking.queue", this, v -> v.queued()).description("requests waiting").register(registry);
    Gauge.builder("wxmp.ranking.indexed.collections", this, v -> v.indexed)
        .description("collections served through an IVF index (WXMP_RANKING_NPROBE)").register(registry);

    // CUDA contexts belong to a thread: detect on the thread that will score.
    return rankingThread.executeBlocking(() -> {
          try {
            return factory.select(config.backend());
          } catch (LinkageError e) {
            // An Error escaping here would leave the deployment pending forever: fail it with a reason instead.
            throw new IllegalStateException("the ranking engine could not load (" + e + "); the CPU scorer needs "
                + "the JVM option --add-modules jdk.incubator.vector", e);
          }
        })
        .compose(s -> {
          scorer = s;
          // Decided once: after a CUDA failure the CPU fallback keeps scanning in full, the ranking CUDA gave.
          indexing = config.nprobe() > 0 && "cpu".equals(s.backend());
          EventBus eb = vertx.eventBus();
          List<MessageConsumer<?>> consumers = List.of(
              eb.localConsumer(RankingAddresses.UPSERT, this::admit),
              eb.localConsumer(RankingAddresses.REMOVE, this::admit),
              eb.localConsumer(RankingAddresses.LOAD, this::admit));
          return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
        })
        .compose(v -> serveQueriesAtStart ? registerQueries() : Future.succeededFuture());
  }

  /**
   * Starts taking queries and pings (from the whole cluster on a clustered event bus); calling it again is harmless.
   * Call it after the deployment succeeded.
   */
  public Future<Void> serveQueries() {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    context.runOnContext(v -> registerQueries().onComplete(done));
    return done.future();
  }

  /** On the verticle's context. */
  private Future<Void> registerQueries() {
    if (queriesServed == null) {
      EventBus eb = vertx.eventBus();
      List<MessageConsumer<?>> consumers = List.of(
          eb.consumer(RankingAddresses.TOP_K, this::admitTopK),
          eb.consumer(RankingAddresses.PING, m -> m.reply(backend())));
      queriesServed = Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
    }
    return queriesServed;
  }

  @Override
  public Future<?> stop() {
    List<Pending> left;
    lock.lock();
    try {
      stopped = true;
      left = new ArrayList<>(queue);
      queue.clear();
    } finally {
      lock.unlock();
    }
    for (Pending p : left) {
      if (p.message() == null) {
        continue;
      }
      p.message().fail(RankingAddresses.STOPPED_CODE, RankingAddresses.STOPPED + ": the ranking verticle stopped");
    }
    return rankingThread.executeBlocking(() -> {
      Scorer s = scorer;
      if (s != null) {
        s.close();
      }
      return null;
    }).eventually(() -> indexThread.close()).eventually(() -> rankingThread.close());
  }

  private int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  private void admitTopK(Message<Object> m) {
    if (!(m.body() instanceof TopKRequest r) || r.collection() == null || r.query() == null) {
      m.fail(RankingAddresses.BAD_REQUEST_CODE, RankingAddresses.BAD_REQUEST + ": expected a TopKRequest");
      return;
    }
    if (r.k() < 1 || r.k() > Scorer.MAX_K) {
      m.fail(RankingAddresses.BAD_REQUEST_CODE, RankingAddresses.BAD_REQUEST + ": k must be in 1.." + Scorer.MAX_K);
      return;
    }
    admit(m);
  }

  private void admit(Message<Object> m) {
    admit(m, m.body());
  }

  /** m null: the verticle's own request, queued past the bound and dropped silently when stopped. */
  private void admit(Message<Object> m, Object body) {
    boolean schedule = false;
    lock.lock();
    try {
      if (stopped) {
        if (m != null) {
          m.fail(RankingAddresses.STOPPED_CODE, RankingAddresses.STOPPED + ": the ranking verticle stopped");
        }
        return;
      }
      if (m != null && queue.size() >= config.queueBound()) {
        rejected.increment();
        m.fail(RankingAddresses.OVERLOADED_CODE, RankingAddresses.OVERLOADED + ": more than "
            + config.queueBound() + " ranking requests are waiting; retry later");
        return;
      }
      queue.add(new Pending(m, body, System.nanoTime()));
      if (!draining) {
        draining = true;
        schedule = true;
      } else if (queue.size() >= config.maxBatch() || !(body instanceof TopKRequest)) {
        batchReady.signal();
      }
    } finally {
      lock.unlock();
    }
    if (schedule) {
      rankingThread.executeBlocking(this::drain, true)
          .onFailure(t -> log.error("Ranking drain loop failed", t));
    }
  }

  /** Runs on the ranking thread until the queue is empty. */
  private Void drain() {
    try {
      List<Pending> batch;
      while ((batch = nextBatch()) != null) {
        if (batch.get(0).body() instanceof TopKRequest) {
          scoreBatch(batch);
        } else {
          mutate(batch.get(0));
        }
      }
    } catch (RuntimeException | Error e) {
      lock.lock();
      try {
        draining = false; // the next admitted request restarts the loop
      } finally {
        lock.unlock();
      }
      throw e;
    }
    return null;
  }

  /** The next mutation alone, or up to maxBatch leading queries once the window closed; null when idle. */
  private List<Pending> nextBatch() {
    long window = TimeUnit.MICROSECONDS.toNanos(config.batchWindowMicros());
    lock.lock();
    try {
      while (true) {
        if (queue.isEmpty() || stopped) {
          draining = false;
          return null;
        }
        Pending first = queue.peekFirst();
        if (!(first.body() instanceof TopKRequest)) {
          return List.of(queue.pollFirst());
        }
        int leading = 0;
        boolean barrier = false;
        for (Pending p : queue) {
          if (!(p.body() instanceof TopKRequest)) {
            barrier = true;
            break;
          }
          if (++leading == config.maxBatch()) {
            break;
          }
        }
        long waited = System.nanoTime() - first.enqueuedNanos();
        if (leading >= config.maxBatch() || barrier || waited >= window) {
          List<Pending> batch = new ArrayList<>(leading);
          for (int i = 0; i < leading; i++) {
            batch.add(queue.pollFirst());
          }
          return batch;
        }
        batchReady.awaitNanos(window - waited);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      draining = false;
      return null;
    } finally {
      lock.unlock();
    }
  }

  private void scoreBatch(List<Pending> batch) {
    Map<String, List<Pending>> byCollection = new LinkedHashMap<>();
    for (Pending p : batch) {
      byCollection.computeIfAbsent(((TopKRequest) p.body()).collection(), c -> new ArrayList<>()).add(p);
    }
    for (Map.Entry<String, List<Pending>> e : byCollection.entrySet()) {
      VectorCollection c = collections.get(e.getKey());
      List<Pending> ok = new ArrayList<>();
      for (Pending p : e.getValue()) {
        TopKRequest r = (TopKRequest) p.body();
        if (c == null) {
          fail(p, RankingAddresses.UNKNOWN_COLLECTION_CODE,
              RankingAddresses.UNKNOWN_COLLECTION + ": no collection named " + e.getKey());
        } else if (r.query().length != c.dim()) {
          fail(p, RankingAddresses.BAD_REQUEST_CODE, RankingAddresses.BAD_REQUEST + ": collection " + e.getKey()
              + " has dim " + c.dim() + ", the query has " + r.query().length);
        } else {
          ok.add(p);
        }
      }
      if (!ok.isEmpty()) {
        score(c, ok);
      }
    }
  }

  private void score(VectorCollection c, List<Pending> requests) {
    int n = requests.size();
    float[][] queries = new float[n][];
    long[][] excludes = new long[n][];
    int k = 1;
    for (int i = 0; i < n; i++) {
      TopKRequest r = (TopKRequest) requests.get(i).body();
      queries[i] = r.query();
      excludes[i] = r.exclude();
      k = Math.max(k, r.k());
    }
    Scorer s = scorer;
    IvfIndex index = indexing ? indexes.get(c.name()) : null;
    List<List<ScoredId>> results;
    long scannedBefore = index == null ? 0 : index.scannedRows;
    long start = System.nanoTime();
    try {
      results = index != null ? index.topK(queries, k, excludes, config.nprobe()) : s.topK(c, queries, k, excludes);
    } catch (Throwable t) {
      backendFailures.increment();
      String reason = RankingAddresses.BACKEND_ERROR + ": the " + s.backend() + " backend failed this batch (" + t
          + ")";
      if (!"cpu".equals(s.backend())) {
        log.error("Ranking backend {} failed a batch of {}; switching to the CPU", s.backend(), n, t);
        scorer = factory.cpu();
        try {
          s.close();
        } catch (Throwable closeFailure) {
          log.warn("Closing the failed {} scorer failed too: {}", s.backend(), closeFailure.toString());
        }
        reason += "; ranking switched to the CPU, retry";
      } else {
        log.error("Ranking on the CPU failed a batch of {}", n, t);
      }
      for (Pending p : requests) {
        fail(p, RankingAddresses.BACKEND_ERROR_CODE, reason);
      }
      return;
    }
    Timer.builder("wxmp.ranking.score").tag("backend", s.backend())
        .description("time of one topK call (kernels and transfers on CUDA)").register(registry)
        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    batchSizes.record(n);
    if (index != null) {
      ivfRows.increment(index.scannedRows - scannedBefore);
    }
    List<Runnable> replies = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Pending p = requests.get(i);
      List<ScoredId> all = results.get(i);
      int want = ((TopKRequest) p.body()).k();
      TopKReply reply = new TopKReply(all.size() > want ? List.copyOf(all.subList(0, want)) : all);
      replies.add(() -> p.message().reply(reply));
    }
    context.runOnContext(v -> replies.forEach(Runnable::run));
  }

  private void mutate(Pending p) {
    Object body = p.body();
    try {
      if (body instanceof UpsertRequest u) {
        VectorCollection c = collections.computeIfAbsent(u.collection(), this::newCollection);
        c.upsert(u.id(), u.vector());
        mutated(c, u.id());
      } else if (body instanceof RemoveRequest r) {
        VectorCollection c = collections.get(r.collection());
        if (c != null && c.remove(r.id())) {
          mutated(c, r.id());
        }
      } else if (body instanceof LoadRequest l) {
        VectorCollection c = newCollection(l.collection());
        c.load(l.ids(), l.vectors());
        collections.put(l.collection(), c);
        indexes.remove(l.collection());
        indexed = indexes.size();
        builds.remove(l.collection());
        if (indexing && c.size() >= IvfIndex.MIN_ROWS) {
          buildIndex(c);
        }
      } else if (body instanceof InstallIndex i) {
        install(i);
        return;
      } else {
        fail(p, RankingAddresses.BAD_REQUEST_CODE, RankingAddresses.BAD_REQUEST + ": unexpected " + body);
        return;
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      fail(p, RankingAddresses.BAD_REQUEST_CODE, RankingAddresses.BAD_REQUEST + ": " + e.getMessage());
      return;
    }
    context.runOnContext(v -> p.message().reply(null));
  }

  /** Keeps c's index (and a build under way) in step with a changed or removed row; rebuilds when many changed. */
  private void mutated(VectorCollection c, long id) {
    IvfIndex index = indexes.get(c.name());
    if (index != null) {
      float[] v = c.get(id);
      if (v != null) {
        index.upserted(id, v);
      } else {
        index.removed(id);
      }
    }
    Build b = builds.get(c.name());
    if (b != null) {
      b.mutated().add(id);
    } else if (index != null && index.changes() > Math.max(1_000, c.size() / 20) && c.size() >= IvfIndex.MIN_ROWS) {
      buildIndex(c); // the current index serves until the new one is installed
    }
  }

  /** Snapshots c (on the ranking thread) and builds its index on the index thread; installed through the queue. */
  private void buildIndex(VectorCollection c) {
    String name = c.name();
    long[] ids = java.util.Arrays.copyOf(c.ids(), c.size());
    float[] data = c.rowMajor();
    int dim = c.dim();
    Object token = new Object();
    builds.put(name, new Build(token, new HashSet<>()));
    long started = System.nanoTime();
    indexThread.<IvfIndex>executeBlocking(() -> {
      CpuScorer assigner = new CpuScorer();
      try {
        return IvfIndex.build(ids, data, dim, 0x5eed ^ ids.length, assigner);
      } finally {
        assigner.close();
      }
    }, false).onComplete(r -> {
      if (r.succeeded()) {
        log.info("IVF index of {} built: {} rows in {} lists, {} ms", name, ids.length, r.result().lists(),
            (System.nanoTime() - started) / 1_000_000);
        admit(null, new InstallIndex(name, token, r.result()));
      } else {
        log.error("Building the IVF index of {} failed; it is scanned in full", name, r.cause());
      }
    });
  }

  private void install(InstallIndex i) {
    Build b = builds.get(i.collection());
    VectorCollection c = collections.get(i.collection());
    if (b == null || b.token() != i.token() || c == null) {
      return; // reloaded (or retired) since the snapshot
    }
    builds.remove(i.collection());
    for (Long id : b.mutated()) {
      float[] v = c.get(id);
      if (v != null) {
        i.index().upserted(id, v);
      } else {
        i.index().removed(id);
      }
    }
    indexes.put(i.collection(), i.index());
    indexed = indexes.size();
  }

  private VectorCollection newCollection(String name) {
    return new VectorCollection(name, config.dim(), config.fp16());
  }

  private void fail(Pending p, int code, String message) {
    if (p.message() == null) {
      log.warn("Ranking: {}", message);
      return;
    }
    context.runOnContext(v -> p.message().fail(code, message));
  }
}
