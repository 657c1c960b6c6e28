package io.wxmp.bench.ranking;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.wxmp.gpu.CpuScorer;
import io.wxmp.gpu.CudaScorer;
import io.wxmp.gpu.RankingClient;
import io.wxmp.gpu.RankingConfig;
import io.wxmp.gpu.RankingVerticle;
import io.wxmp.gpu.Scorer;
import io.wxmp.gpu.VectorCollection;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Ranking engine benchmark: a hand-written harness (warm-up, then timed calls) because the issue asks for p50/p99 and
 * for ratios to a memory-streaming floor measured in the same run. Prints markdown tables.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... io.wxmp.bench.ranking.RankingBench \
 *   [--n 100000,1000000] [--dims 64,128] [--k 50] [--batches 1,32,256] [--seconds 2] [--backend cpu|cuda]
 *   [--fp16] [--verticle] [--export DIR]
 * </pre>
 */
public final class RankingBench {
  private RankingBench() {}

  public static void main(String[] args) throws Exception {
    int[] ns = {100_000, 1_000_000};
    int[] dims = {64, 128};
    int[] batches = {1, 32, 256};
    int k = 50;
    double seconds = 2;
    String backend = "cpu";
    boolean fp16 = false;
    boolean verticle = false;
    Path export = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--n" -> ns = ints(args[++i]);
        case "--dims" -> dims = ints(args[++i]);
        case "--batches" -> batches = ints(args[++i]);
        case "--k" -> k = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Double.parseDouble(args[++i]);
        case "--backend" -> backend = args[++i];
        case "--fp16" -> fp16 = true;
        case "--verticle" -> verticle = true;
        case "--export" -> export = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.out.printf("JDK %s (%s), %d cores, backend %s, %s, k=%d%n", System.getProperty("java.version"),
        System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(), backend,
        fp16 ? "fp16" : "fp32", k);
    CpuScorer cpu = new CpuScorer();
    Scorer scorer = backend.equals("cuda") ? CudaScorer.create() : cpu;

    System.out.println();
    System.out.println("| N | dim | batch | queries/s | p50 ms | p99 ms | floor ms (stream matrix once) | "
        + "b1 p50 / floor | qps / b1 qps |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : ns) {
      for (int dim : dims) {
        VectorCollection c = randomCollection(n, dim, fp16, 42 + n + dim);
        float[][] queryPool = new float[512][];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < queryPool.length; i++) {
          queryPool[i] = unit(rnd, dim);
        }
        if (export != null) {
          export(export, c, n, dim, queryPool);
        }
        double floorMs = floorMillis(cpu, c, seconds);
        double b1Qps = 0;
        for (int batch : batches) {
          Stats s = measure(scorer, c, queryPool, batch, k, seconds);
          if (batch == 1) {
            b1Qps = s.qps;
          }
          System.out.printf(Locale.ROOT, "| %,d | %d | %d | %,.0f | %.2f | %.2f | %.2f | %s | %s |%n", n, dim, batch,
              s.qps, s.p50, s.p99, floorMs, batch == 1 ? String.format(Locale.ROOT, "%.2f×", s.p50 / floorMs) : "",
              b1Qps > 0 ? String.format(Locale.ROOT, "%.1f×", s.qps / b1Qps) : "");
        }
      }
    }
    if (verticle) {
      verticleBench(ns[0], dims[0], k, seconds, backend);
    }
    if (scorer != cpu) {
      scorer.close();
    }
    cpu.close();
  }

  private record Stats(double qps, double p50, double p99) {}

  private static Stats measure(Scorer scorer, VectorCollection c, float[][] pool, int batch, int k, double seconds) {
    float[][] q = new float[batch][];
    int next = 0;
    // Warm-up: JIT and caches; at least 3 calls and about a quarter of the measuring time.
    long warmEnd = System.nanoTime() + (long) (seconds * 0.25e9);
    for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) {
      for (int b = 0; b < batch; b++) {
        q[b] = pool[next++ & 511];
      }
      scorer.topK(c, q, k, null);
    }
    List<Long> lat = new ArrayList<>();
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    while (lat.size() < 5 || System.nanoTime() < end) {
      for (int b = 0; b < batch; b++) {
        q[b] = pool[next++ & 511];
      }
      long t0 = System.nanoTime();
      scorer.topK(c, q, k, null);
      lat.add(System.nanoTime() - t0);
    }
    double total = (System.nanoTime() - start) / 1e9;
    long[] sorted = lat.stream().mapToLong(Long::longValue).sorted().toArray();
    return new Stats(lat.size() * (double) batch / total, pct(sorted, 0.50), pct(sorted, 0.99));
  }

  private static double floorMillis(CpuScorer cpu, VectorCollection c, double seconds) {
    double sink = 0;
    long warmEnd = System.nanoTime() + (long) (seconds * 0.25e9);
    for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) {
      sink += cpu.streamSum(c);
    }
    List<Long> lat = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 0.5e9);
    while (lat.size() < 5 || System.nanoTime() < end) {
      long t0 = System.nanoTime();
      sink += cpu.streamSum(c);
      lat.add(System.nanoTime() - t0);
    }
    if (sink == 42) {
      System.out.print("");
    }
    long[] sorted = lat.stream().mapToLong(Long::longValue).sorted().toArray();
    return pct(sorted, 0.50);
  }

  /** Percentile in milliseconds. */
  private static double pct(long[] sortedNanos, double p) {
    int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(p * sortedNanos.length) - 1);
    return sortedNanos[Math.max(0, i)] / 1e6;
  }

  private static void verticleBench(int n, int dim, int k, double seconds, String backend) throws Exception {
    System.out.println();
    System.out.printf("Verticle path (RankingClient → event bus → RankingVerticle), N=%,d dim=%d k=%d, single-query "
        + "callers, each sends its next request when answered%n%n", n, dim, k);
    System.out.println("| max batch | window µs | callers | requests/s | p50 ms | p99 ms | mean batch |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
    for (int maxBatch : new int[] {256, 1}) {
      Vertx vertx = Vertx.vertx();
      try {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RankingConfig config = RankingConfig.defaults().withDim(dim).withNprobe(0).withBatching(200, maxBatch)
            .withBackend(RankingConfig.Backend.parse(backend));
        await(vertx.deployVerticle(new RankingVerticle(config, registry),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)));
        RankingClient client = new RankingClient(vertx, 60_000, 1_000);
        SplittableRandom rnd = new SplittableRandom(3);
        long[] ids = new long[n];
        float[][] vs = new float[n][];
        for (int i = 0; i < n; i++) {
          ids[i] = i;
          vs[i] = unit(rnd, dim);
        }
        await(client.load("items", ids, vs));
        float[][] pool = new float[512][];
        for (int i = 0; i < pool.length; i++) {
          pool[i] = unit(rnd, dim);
        }
        for (int callers : new int[] {1, 16, 256}) {
          run(vertx, client, pool, callers, k, seconds * 0.25); // warm-up
          var summary = registry.get("wxmp.ranking.batch.size").summary();
          long batchesBefore = summary.count();
          double queriesBefore = summary.totalAmount();
          long[] lat = run(vertx, client, pool, callers, k, seconds);
          double meanBatch = (summary.totalAmount() - queriesBefore) / Math.max(1, summary.count() - batchesBefore);
          Arrays.sort(lat);
          System.out.printf(Locale.ROOT, "| %d | 200 | %d | %,.0f | %.2f | %.2f | %.1f |%n", maxBatch, callers,
              lat.length / seconds, pct(lat, 0.5), pct(lat, 0.99), meanBatch);
        }
      } finally {
        await(vertx.close());
      }
    }
  }

  /** callers closed loops for seconds; returns every latency in nanoseconds. */
  private static long[] run(Vertx vertx, RankingClient client, float[][] pool, int callers, int k, double seconds)
      throws Exception {
    Promise<long[]> done = Promise.promise();
    vertx.runOnContext(v -> {
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long[][] lat = {new long[1 << 16]};
      int[] count = {0};
      int[] running = {callers};
      for (int c = 0; c < callers; c++) {
        int caller = c;
        new Object() {
          int i = caller;

          void next() {
            if (System.nanoTime() >= end) {
              if (--running[0] == 0) {
                done.complete(Arrays.copyOf(lat[0], count[0]));
              }
              return;
            }
            long t0 = System.nanoTime();
            client.topK("items", pool[(i += callers) & 511], k, null).onComplete(ar -> {
              if (ar.failed()) {
                done.tryFail(ar.cause());
                return;
              }
              if (count[0] == lat[0].length) {
                lat[0] = Arrays.copyOf(lat[0], count[0] * 2);
              }
              lat[0][count[0]++] = System.nanoTime() - t0;
              next();
            });
          }
        }.next();
      }
    });
    return await(done.future());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }

  static VectorCollection randomCollection(int n, int dim, boolean fp16, long seed) {
    VectorCollection c = new VectorCollection("items", dim, fp16);
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      c.upsert(i, unit(rnd, dim));
    }
    return c;
  }

  static float[] unit(SplittableRandom rnd, int dim) {
    float[] v = new float[dim];
    double s = 0;
    for (int d = 0; d < dim; d++) {
      v[d] = (float) (rnd.nextDouble() * 2 - 1);
      s += v[d] * v[d];
    }
    float inv = (float) (1 / Math.sqrt(s));
    for (int d = 0; d < dim; d++) {
      v[d] *= inv;
    }
    return v;
  }

  /** Row-major float32 matrix (row i is item id i) and the query pool, for bench/ranking_torch.py. */
  private static void export(Path dir, VectorCollection c, int n, int dim, float[][] queries) throws IOException {
    Files.createDirectories(dir);
    write(dir.resolve("matrix_" + n + "_" + dim + ".f32"), n, dim, i -> c.get(i));
    write(dir.resolve("queries_" + n + "_" + dim + ".f32"), queries.length, dim, i -> queries[i]);
  }

  private static void write(Path file, int rows, int dim, java.util.function.IntFunction<float[]> row)
      throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20))) {
      ByteBuffer b = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < rows; i++) {
        b.clear();
        for (float x : row.apply(i)) {
          b.putFloat(x);
        }
        out.write(b.array());
      }
    }
  }

  private static int[] ints(String s) {
    return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
  }
}
