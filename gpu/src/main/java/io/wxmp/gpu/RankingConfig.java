package io.wxmp.gpu;

import java.util.Locale;

/**
 * Settings of the ranking engine.
 *
 * @param dim               vector dimension of every collection, 32..512
 * @param backend           auto (CUDA when it starts, else CPU), or force cpu / cuda
 * @param batchWindowMicros how long the first request of a batch may wait for others
 * @param maxBatch          most queries scored in one call
 * @param queueBound        most requests waiting; beyond it new ones fail fast with {@code ranking_overloaded}
 * @param fp16              store vectors as fp16 (half the bytes to read; scores within ~5e-4 of fp32)
 * @param nprobe            on the CPU backend, collections of at least {@value IvfIndex#MIN_ROWS} rows get an IVF index
 *                          (about √n k-means lists) and a query scans its nprobe best lists only; 0: every query scans
 *                          the whole collection (exact). A server that starts on CUDA always scans in full, and so does
 *                          its CPU fallback (the same ranking either way).
 */
public record RankingConfig(int dim, Backend backend, int batchWindowMicros, int maxBatch, int queueBound, boolean fp16,
    int nprobe) {

  public enum Backend {
    AUTO, CPU, CUDA;

    public static Backend parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
  }

  public RankingConfig {
    if (dim < 32 || dim > 512) {
      throw new IllegalArgumentException("ranking dim must be in 32..512, got " + dim);
    }
    if (batchWindowMicros < 0 || maxBatch < 1 || maxBatch > 4096 || queueBound < 1 || backend == null || nprobe < 0
        || nprobe > 4096) {
      throw new IllegalArgumentException("invalid ranking config: " + batchWindowMicros + "us window, max batch "
          + maxBatch + ", queue bound " + queueBound + ", backend " + backend + ", nprobe " + nprobe);
    }
  }

  /** Without the nprobe: exact full scans. */
  public RankingConfig(int dim, Backend backend, int batchWindowMicros, int maxBatch, int queueBound, boolean fp16) {
    this(dim, backend, batchWindowMicros, maxBatch, queueBound, fp16, 0);
  }

  /** The nprobe of {@link #defaults()}. */
  public static final int DEFAULT_NPROBE = 16;

  /** dim 64, auto backend, 200 µs window, batches of at most 256, at most 10,000 waiting, fp32, nprobe 16. */
  public static RankingConfig defaults() {
    return new RankingConfig(64, Backend.AUTO, 200, 256, 10_000, false, DEFAULT_NPROBE);
  }

  public RankingConfig withNprobe(int n) {
    return new RankingConfig(dim, backend, batchWindowMicros, maxBatch, queueBound, fp16, n);
  }

  public RankingConfig withDim(int d) {
    return new RankingConfig(d, backend, batchWindowMicros, maxBatch, queueBound, fp16, nprobe);
  }

  public RankingConfig withBackend(Backend b) {
    return new RankingConfig(dim, b, batchWindowMicros, maxBatch, queueBound, fp16, nprobe);
  }

  public RankingConfig withBatching(int windowMicros, int max) {
    return new RankingConfig(dim, backend, windowMicros, max, queueBound, fp16, nprobe);
  }

  public RankingConfig withQueueBound(int bound) {
    return new RankingConfig(dim, backend, batchWindowMicros, maxBatch, bound, fp16, nprobe);
  }

  public RankingConfig withFp16(boolean half) {
    return new RankingConfig(dim, backend, batchWindowMicros, maxBatch, queueBound, half, nprobe);
  }
}
