package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class RankingVerticleTest {
  private static final int DIM = 32;

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  private static Future<String> deploy(Vertx vertx, RankingVerticle v) {
    return vertx.deployVerticle(v, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER));
  }

  private static ScorerFactory cpuOnly(ScorerFactory.CudaStarter cuda) {
    return new ScorerFactory() {
      @Override
      public Scorer cpu() {
        return new CpuScorer(2);
      }

      @Override
      public Scorer cuda() throws Throwable {
        return cuda.start();
      }
    };
  }

  @Test
  void answersEachOf1000ConcurrentCallersWithItsOwnResult(Vertx vertx) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU);
    await(deploy(vertx, new RankingVerticle(config, registry, cpuOnly(() -> {
      throw new UnsatisfiedLinkError("no libcuda in this test");
    }))));
    RankingClient client = new RankingClient(vertx);
    Random rnd = new Random(7);
    int n = 2000;
    long[] ids = new long[n];
    float[][] vectors = new float[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = 1_000_000L + i * 3L;
      vectors[i] = Reference.unitVector(rnd, DIM);
    }
    await(client.load("items", ids, vectors));
    VectorCollection reference = new VectorCollection("items", DIM, false);
    reference.load(ids, vectors);

    int callers = 1000;
    float[][] queries = new float[callers][];
    long[][] excludes = new long[callers][];
    int[] ks = new int[callers];
    List<Future<List<ScoredId>>> answers = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      queries[i] = Reference.unitVector(rnd, DIM);
      excludes[i] = Reference.randomExclude(rnd, ids, i % 5);
      ks[i] = 1 + i % 20;
    }
    for (int i = 0; i < callers; i++) {
      answers.add(client.topK("items", queries[i], ks[i], excludes[i]));
    }
    await(Future.all(answers));
    for (int i = 0; i < callers; i++) {
      Reference.assertSameRanking(answers.get(i).result(),
          Reference.topK(reference, ids, queries[i], ks[i], excludes[i]), 1e-5f);
    }
    var batches = registry.get("wxmp.ranking.batch.size").summary();
    assertThat(batches.totalAmount()).isEqualTo(callers);
    assertThat(batches.max()).as("requests were batched").isGreaterThan(1);
    assertThat(registry.get("wxmp.ranking.backend").tag("backend", "cpu").gauge().value()).isEqualTo(1.0);
    assertThat(await(client.ping())).isEqualTo("cpu");
  }

  @Test
  void failsFastWhenTheQueueIsOverItsBound(Vertx vertx) throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ScorerFactory blocking = new ScorerFactory() {
      @Override
      public Scorer cpu() {
        CpuScorer cpu = new CpuScorer(1);
        return new Scorer() {
          @Override
          public String backend() {
            return "cpu";
          }

          @Override
          public List<List<ScoredId>> topK(VectorCollection c, float[][] q, int k, long[][] ex) {
            entered.countDown();
            try {
              release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return cpu.topK(c, q, k, ex);
          }

          @Override
          public void close() {
            cpu.close();
          }
        };
      }

      @Override
      public Scorer cuda() {
        throw new UnsupportedOperationException();
      }
    };
    int bound = 10;
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU)
        .withBatching(0, 1).withQueueBound(bound);
    await(deploy(vertx, new RankingVerticle(config, new SimpleMeterRegistry(), blocking)));
    RankingClient client = new RankingClient(vertx);
    await(client.upsert("items", 1, Reference.unitVector(new Random(8), DIM)));
    float[] q = Reference.unitVector(new Random(9), DIM);

    Future<List<ScoredId>> first = client.topK("items", q, 1, null);
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue(); // the scorer holds the first one
    List<Future<List<ScoredId>>> queued = new ArrayList<>();
    for (int i = 0; i < bound; i++) {
      queued.add(client.topK("items", q, 1, null));
    }
    Future<List<ScoredId>> over = client.topK("items", q, 1, null);

    Throwable t = failureOf(over); // answered while the scorer is still blocked: fail fast
    assertThat(release.getCount()).isEqualTo(1);
    assertThat(t).isInstanceOf(ReplyException.class).hasMessageStartingWith(RankingAddresses.OVERLOADED);
    assertThat(((ReplyException) t).failureCode()).isEqualTo(RankingAddresses.OVERLOADED_CODE);
    assertThat(await(client.ping())).as("ping stays responsive while a batch is scored").isEqualTo("cpu");

    release.countDown();
    assertThat(await(first)).extracting(ScoredId::id).containsExactly(1L);
    for (Future<List<ScoredId>> f : queued) {
      assertThat(await(f)).extracting(ScoredId::id).containsExactly(1L);
    }
  }

  @Test
  void aNodeThatLoadsFirstTakesQueriesOnlyAfterServeQueries(Vertx vertx) throws Exception {
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU);
    RankingVerticle verticle = new RankingVerticle(config, new SimpleMeterRegistry(), cpuOnly(() -> {
      throw new UnsatisfiedLinkError("no libcuda in this test");
    }), false);
    await(deploy(vertx, verticle));
    RankingClient client = new RankingClient(vertx, 5_000, 500);
    float[] v = Reference.unitVector(new Random(11), DIM);
    await(client.load("items", new long[] {7}, new float[][] {v})); // mutations are served from the start

    Throwable t = failureOf(client.ping());
    assertThat(t).isInstanceOf(ReplyException.class);
    assertThat(((ReplyException) t).failureType()).isEqualTo(io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS);
    assertThat(failureOf(client.topK("items", v, 1, null))).isInstanceOf(ReplyException.class);

    await(verticle.serveQueries());
    await(verticle.serveQueries()); // again: harmless
    assertThat(await(client.ping())).isEqualTo("cpu");
    assertThat(await(client.topK("items", v, 1, null))).extracting(ScoredId::id).containsExactly(7L);
  }

  @Test
  void aCudaErrorFailsOnlyThatBatchAndSwitchesToTheCpu(Vertx vertx) throws Exception {
    Scorer broken = new Scorer() {
      @Override
      public String backend() {
        return "cuda";
      }

      @Override
      public List<List<ScoredId>> topK(VectorCollection c, float[][] q, int k, long[][] ex) {
        throw new jcuda.CudaException("CUDA_ERROR_ILLEGAL_ADDRESS");
      }

      @Override
      public void close() {
      }
    };
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RankingConfig config = RankingConfig.defaults().withDim(DIM);
    await(deploy(vertx, new RankingVerticle(config, registry, cpuOnly(() -> broken))));
    RankingClient client = new RankingClient(vertx);
    assertThat(await(client.ping())).isEqualTo("cuda");
    float[] v = Reference.unitVector(new Random(10), DIM);
    await(client.upsert("items", 42, v));

    Throwable t = failureOf(client.topK("items", v, 5, null));
    assertThat(t).isInstanceOf(ReplyException.class).hasMessageStartingWith(RankingAddresses.BACKEND_ERROR)
        .hasMessageContaining("CUDA_ERROR_ILLEGAL_ADDRESS").hasMessageContaining("switched to the CPU");
    assertThat(((ReplyException) t).failureCode()).isEqualTo(RankingAddresses.BACKEND_ERROR_CODE);

    assertThat(await(client.ping())).isEqualTo("cpu");
    assertThat(await(client.topK("items", v, 5, null))).extracting(ScoredId::id).containsExactly(42L);
    assertThat(registry.get("wxmp.ranking.backend").tag("backend", "cpu").gauge().value()).isEqualTo(1.0);
    assertThat(registry.get("wxmp.ranking.backend.failures").counter().count()).isEqualTo(1.0);
  }

  @Test
  void upsertAndRemoveThroughTheClientAreVisibleToTheNextQuery(Vertx vertx) throws Exception {
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU);
    await(deploy(vertx, new RankingVerticle(config, new SimpleMeterRegistry())));
    RankingClient client = new RankingClient(vertx);
    Random rnd = new Random(11);
    float[] q = Reference.unitVector(rnd, DIM);
    for (long id = 1; id <= 50; id++) {
      await(client.upsert("ads", id, Reference.unitVector(rnd, DIM)));
    }
    await(client.upsert("ads", 99, q));
    assertThat(await(client.topK("ads", q, 1, null))).extracting(ScoredId::id).containsExactly(99L);
    assertThat(await(client.topK("ads", q, 1, new long[] {99}))).extracting(ScoredId::id).doesNotContain(99L);
    await(client.remove("ads", 99));
    assertThat(await(client.topK("ads", q, 60, null))).hasSize(50).extracting(ScoredId::id).doesNotContain(99L);

    Throwable unknown = failureOf(client.topK("nope", q, 1, null));
    assertThat(unknown).hasMessageStartingWith(RankingAddresses.UNKNOWN_COLLECTION);
    Throwable badDim = failureOf(client.topK("ads", new float[DIM + 1], 1, null));
    assertThat(badDim).hasMessageStartingWith(RankingAddresses.BAD_REQUEST);
    Throwable badK = failureOf(client.topK("ads", q, 1001, null));
    assertThat(badK).hasMessageStartingWith(RankingAddresses.BAD_REQUEST);
  }

  @Test
  void fallsBackToTheCpuWhenCudaIsAbsent(Vertx vertx) throws Exception {
    await(deploy(vertx, new RankingVerticle(RankingConfig.defaults().withDim(DIM), new SimpleMeterRegistry(),
        cpuOnly(() -> {
          throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
        }))));
    assertThat(await(new RankingClient(vertx).ping())).isEqualTo("cpu");
  }

  @Test
  void forcedCudaThatCannotStartFailsTheDeploymentClearly(Vertx vertx) throws Exception {
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CUDA);
    Throwable t = failureOf(deploy(vertx, new RankingVerticle(config, new SimpleMeterRegistry(), cpuOnly(() -> {
      throw new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
    }))));
    assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining("cuda is configured");
  }

  @Test
  void aCpuScorerThatCannotLoadFailsTheDeploymentInsteadOfHanging(Vertx vertx) throws Exception {
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU);
    ScorerFactory noVectorApi = new ScorerFactory() {
      @Override
      public Scorer cpu() {
        throw new NoClassDefFoundError("jdk/incubator/vector/FloatVector");
      }

      @Override
      public Scorer cuda() {
        throw new UnsupportedOperationException();
      }
    };
    Throwable t = failureOf(deploy(vertx, new RankingVerticle(config, new SimpleMeterRegistry(), noVectorApi)));
    assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining("--add-modules jdk.incubator.vector");
  }

  @Test
  void pingAnswersWithinATimeout(Vertx vertx) throws Exception {
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU);
    await(deploy(vertx, new RankingVerticle(config, new SimpleMeterRegistry())));
    String backend = new RankingClient(vertx, 5_000, 200).ping().toCompletionStage().toCompletableFuture()
        .get(1, TimeUnit.SECONDS);
    assertThat(backend).isEqualTo("cpu");
  }


  /** Polls (on Vert.x timers) until the gauge of indexed collections reads n. */
  private static void awaitIndexed(Vertx vertx, SimpleMeterRegistry registry, double n) throws Exception {
    for (int i = 0; i < 600; i++) {
      if (registry.get("wxmp.ranking.indexed.collections").gauge().value() == n) {
        return;
      }
      io.vertx.core.Promise<Void> tick = io.vertx.core.Promise.promise();
      vertx.setTimer(50, t -> tick.complete());
      await(tick.future());
    }
    throw new AssertionError("the IVF index was not installed in 30 s");
  }

  @Test
  void aLargeCollectionIsServedThroughItsIndexAndMutationsStayExact(Vertx vertx) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    // nprobe above the number of lists: every list is probed, so the answers must equal a full scan
    RankingConfig config = RankingConfig.defaults().withDim(DIM).withBackend(RankingConfig.Backend.CPU)
        .withNprobe(4096);
    RankingVerticle verticle = new RankingVerticle(config, registry, cpuOnly(() -> {
      throw new UnsatisfiedLinkError("no libcuda in this test");
    }));
    await(deploy(vertx, verticle));
    assertThat(verticle.indexing()).isTrue();
    RankingClient client = new RankingClient(vertx);
    Random rnd = new Random(11);
    int n = IvfIndex.MIN_ROWS + 500;
    long[] ids = new long[n];
    float[][] vectors = new float[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = 5_000L + i;
      vectors[i] = Reference.unitVector(rnd, DIM);
    }
    await(client.load("items", ids, vectors));
    awaitIndexed(vertx, registry, 1);
    VectorCollection reference = new VectorCollection("items", DIM, false);
    reference.load(ids, vectors);
    for (int i = 0; i < 50; i++) {
      long id = ids[rnd.nextInt(n)];
      float[] v = Reference.unitVector(rnd, DIM);
      await(client.upsert("items", id, v));
      reference.upsert(id, v);
      long gone = ids[rnd.nextInt(n)];
      await(client.remove("items", gone));
      reference.remove(gone);
      float[] fresh = Reference.unitVector(rnd, DIM);
      await(client.upsert("items", 9_000_000L + i, fresh));
      reference.upsert(9_000_000L + i, fresh);
    }
    long[] refIds = java.util.Arrays.copyOf(reference.ids(), reference.size());
    for (int i = 0; i < 20; i++) {
      float[] q = Reference.unitVector(rnd, DIM);
      long[] exclude = Reference.randomExclude(rnd, refIds, 10);
      List<ScoredId> got = await(client.topK("items", q, 100, exclude));
      assertThat(got).isEqualTo(Reference.topK(reference, refIds, q, 100, exclude));
    }
    // a reload drops the index (a retired, empty collection has none)
    await(client.load("items", new long[0], new float[0][]));
    assertThat(registry.get("wxmp.ranking.indexed.collections").gauge().value()).isEqualTo(0.0);
  }

  @Test
  void aServerThatStartsOnCudaNeverIndexesSoItsCpuFallbackRanksTheSame(Vertx vertx) throws Exception {
    CpuScorer inner = new CpuScorer(1);
    Scorer fakeCuda = new Scorer() {
      @Override
      public String backend() {
        return "cuda";
      }

      @Override
      public List<List<ScoredId>> topK(VectorCollection c, float[][] q, int k, long[][] ex) {
        return inner.topK(c, q, k, ex);
      }

      @Override
      public void close() {
        inner.close();
      }
    };
    RankingVerticle verticle = new RankingVerticle(RankingConfig.defaults().withDim(DIM), new SimpleMeterRegistry(),
        cpuOnly(() -> fakeCuda));
    await(deploy(vertx, verticle));
    assertThat(verticle.backend()).isEqualTo("cuda");
    assertThat(verticle.indexing()).as("full scans on CUDA and after a fallback to the CPU").isFalse();
  }
}
