package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BackendDetectionTest {

  @Test
  void autoUsesCudaWhereItStartsAndTheCpuWhereItDoesNot() {
    boolean cudaStarts;
    try {
      CudaScorer.create().close();
      cudaStarts = true;
    } catch (Throwable t) {
      System.out.println("CUDA absent here (" + t + "): expecting the CPU fallback");
      cudaStarts = false;
    }
    // A second attempt after a failed one throws NoClassDefFoundError: select catches it too.
    try (Scorer s = ScorerFactory.standard().select(RankingConfig.Backend.AUTO)) {
      assertThat(s.backend()).isEqualTo(cudaStarts ? "cuda" : "cpu");
    }
    try (Scorer s = ScorerFactory.standard().select(RankingConfig.Backend.CPU)) {
      assertThat(s.backend()).isEqualTo("cpu");
    }
    if (!cudaStarts) {
      assertThatThrownBy(() -> ScorerFactory.standard().select(RankingConfig.Backend.CUDA))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("cuda is configured");
    }
  }
}
