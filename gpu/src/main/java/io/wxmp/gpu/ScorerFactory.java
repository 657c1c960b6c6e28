package io.wxmp.gpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the scorers; the verticle picks one at start-up with {@link #select}. Tests hand in their own. */
public interface ScorerFactory {

  Scorer cpu();

  /** Starts a CUDA scorer; may throw anything. */
  @FunctionalInterface
  interface CudaStarter {
    Scorer start() throws Throwable;
  }

  /** May throw anything: no libcuda gives UnsatisfiedLinkError, then NoClassDefFoundError on a second try. */
  Scorer cuda() throws Throwable;

  /** CUDA through JCuda when a device answers, else the Vector API on every core. */
  static ScorerFactory standard() {
    return new ScorerFactory() {
      @Override
      public Scorer cpu() {
        return new CpuScorer();
      }

      @Override
      public Scorer cuda() {
        return CudaScorer.create();
      }
    };
  }

  /** Tries CUDA once (unless cpu is forced) and falls back to the CPU with one log line; forced cuda must start. */
  default Scorer select(RankingConfig.Backend backend) {
    Logger log = LoggerFactory.getLogger(ScorerFactory.class);
    if (backend == RankingConfig.Backend.CPU) {
      log.info("Ranking on the CPU (configured)");
      return cpu();
    }
    try {
      Scorer s = cuda();
      log.info("Ranking on CUDA");
      return s;
    } catch (Throwable t) {
      if (backend == RankingConfig.Backend.CUDA) {
        throw new IllegalStateException("ranking backend cuda is configured but CUDA did not start: " + t, t);
      }
      // JCuda's link errors carry the whole library search as a multi-line message: keep the first line.
      log.info("CUDA unavailable ({}); ranking on the CPU", t.toString().lines().findFirst().orElse(""));
      return cpu();
    }
  }
}
