package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Runs where a GPU is lent (the device machine); elsewhere every test skips with the reason printed. */
class CudaScorerTest {
  private static CudaScorer cuda;
  private static CpuScorer cpu;
  private static String unavailable;

  @BeforeAll
  static void start() {
    try {
      cuda = CudaScorer.create();
      System.out.println("CUDA tests on " + cuda.deviceName());
    } catch (Throwable t) {
      unavailable = "CUDA unavailable, skipping CUDA tests: " + t;
      System.out.println(unavailable);
    }
    cpu = new CpuScorer(2);
  }

  @AfterAll
  static void stop() {
    if (cuda != null) {
      cuda.close();
    }
    cpu.close();
  }

  /** Skips without a GPU, except under {@code -Dwxmp.requireCuda=true} (gpu/device-check.sh), where it fails. */
  private static void requireCuda() {
    if (cuda == null && Boolean.getBoolean("wxmp.requireCuda")) {
      throw new AssertionError(unavailable);
    }
    Assumptions.assumeTrue(cuda != null, () -> unavailable);
  }

  @ParameterizedTest(name = "n={0} dim={1} k={2} batch={3} fp16={4}")
  @CsvSource({
      "1, 32, 10, 1, false",
      "100, 64, 50, 3, false",
      "5000, 64, 50, 9, false",
      "10000, 128, 1000, 4, false",
      "60000, 64, 50, 33, false",
      "20000, 512, 7, 2, false",
      "20000, 96, 100, 5, true",
  })
  void sameIdsInTheSameOrderAsTheCpu(int n, int dim, int k, int batch, boolean fp16) {
    requireCuda();
    Random rnd = new Random(n + dim + k + batch);
    VectorCollection c = new VectorCollection("items", dim, fp16);
    long[] ids = Reference.fill(c, rnd, n);
    float[][] queries = new float[batch][];
    long[][] excludes = new long[batch][];
    for (int b = 0; b < batch; b++) {
      queries[b] = b % 2 == 1 ? c.get(ids[rnd.nextInt(n)]) : Reference.unitVector(rnd, dim);
      excludes[b] = b % 3 == 0 ? null : Reference.randomExclude(rnd, ids, 1 + rnd.nextInt(30));
    }
    List<List<ScoredId>> onGpu = cuda.topK(c, queries, k, excludes);
    List<List<ScoredId>> onCpu = cpu.topK(c, queries, k, excludes);
    for (int b = 0; b < batch; b++) {
      Reference.assertSameRanking(onGpu.get(b), onCpu.get(b), 1e-5f);
    }
  }

  @Test
  void upsertRemoveAndGrowthReachTheDevice() {
    requireCuda();
    Random rnd = new Random(12);
    VectorCollection c = new VectorCollection("items", 64, false);
    long[] ids = Reference.fill(c, rnd, 5000);
    float[] q = Reference.unitVector(rnd, 64);
    cuda.topK(c, new float[][] {q}, 10, null); // uploads everything
    c.upsert(777_777L, q);
    assertThat(cuda.topK(c, new float[][] {q}, 1, null).get(0)).extracting(ScoredId::id).containsExactly(777_777L);
    c.remove(777_777L);
    c.remove(ids[0]);
    for (int i = 0; i < 10_000; i++) { // grows the capacity: a full upload
      c.upsert(10_000_000L + i, Reference.unitVector(rnd, 64));
    }
    Reference.assertSameRanking(cuda.topK(c, new float[][] {q}, 100, null).get(0),
        cpu.topK(c, new float[][] {q}, 100, null).get(0), 1e-5f);
    assertThat(cuda.topK(c, new float[][] {q}, 1000, null).get(0)).extracting(ScoredId::id)
        .doesNotContain(777_777L, ids[0]);
  }

  @Test
  void anEmptyCollectionGivesEmptyResults() {
    requireCuda();
    VectorCollection c = new VectorCollection("ads", 32, false);
    assertThat(cuda.topK(c, new float[][] {new float[32]}, 5, null).get(0)).isEmpty();
  }

  @Test
  void scoreKeysRoundTrip() {
    // Host-side inverse of orderKey in ranking.cu; runs everywhere.
    for (float s : new float[] {-1f, -0.5f, -1e-30f, 0f, 1e-30f, 0.25f, 1f}) {
      int bits = Float.floatToRawIntBits(s + 0.0f);
      int key = bits < 0 ? ~bits : bits | 0x80000000;
      assertThat(CudaScorer.scoreOf(key)).isEqualTo(s);
    }
  }
}
