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
 */
public record RankingConfig(int dim, Backend backend, int batchWindowMicros, int maxBatch, int queueBound, boolean fp16) {

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
    if (batchWindowMicros < 0 || maxBatch < 1 || maxBatch > 4096 || queueBound < 1 || backend == null) {
      throw new IllegalArgumentException("invalid ranking config: " + batchWindowMicros + "us window, max batch "
          + maxBatch + ", queue bound " + queueBound + ", backend " + backend);
    }
  }

  /** dim 64, auto backend, 200 µs window, batches of at most 256, at most 10,000 waiting, fp32. */
  public static RankingConfig defaults() {
    return new RankingConfig(64, Backend.AUTO, 200, 256, 10_000, false);
  }

  public RankingConfig withDim(int d) {
    return new RankingConfig(d, backend, batchWindowMicros, maxBatch, queueBound, fp16);
  }

  public RankingConfig withBackend(Backend b) {
    return new RankingConfig(dim, b, batchWindowMicros, maxBatch, queueBound, fp16);
  }

  public RankingConfig withBatching(int windowMicros, int max) {
    return new RankingConfig(dim, backend, windowMicros, max, queueBound, fp16);
  }

  public RankingConfig withQueueBound(int bound) {
    return new RankingConfig(dim, backend, batchWindowMicros, maxBatch, bound, fp16);
  }

  public RankingConfig withFp16(boolean half) {
    return new RankingConfig(dim, backend, batchWindowMicros, maxBatch, queueBound, half);
  }
}
