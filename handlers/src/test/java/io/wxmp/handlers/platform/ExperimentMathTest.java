package io.wxmp.handlers.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.wxmp.handlers.feed.FeedParams;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Arm assignment (stable, on shares) and the A/B arithmetic, checked against numbers worked out by hand. */
class ExperimentMathTest {
  static Experiment experiment(long id, String salt, double... shares) {
    List<Experiment.Arm> arms = new java.util.ArrayList<>();
    for (int i = 0; i < shares.length; i++) {
      arms.add(new Experiment.Arm("arm" + i, shares[i], FeedParams.defaults()));
    }
    return new Experiment(id, "e", arms, salt, "running", null, null, null, null);
  }

  @Test
  void theDifferenceOfTwoCtrsWithItsIntervalAndPValue() {
    // A: 100 clicks in 1,000 impressions (10 %), B: 130 in 1,000 (13 %).
    // diff = 0.03; unpooled SE = sqrt(.1*.9/1000 + .13*.87/1000) = sqrt(0.0002031) = 0.0142513
    // CI = 0.03 ± 1.959964 * 0.0142513 = [0.0020679, 0.0579321]
    // pooled p = 230/2000 = 0.115; SE0 = sqrt(.115*.885*(2/1000)) = 0.0142671; z = 2.10274; p = 2(1 − Φ(z)) = 0.035488
    AbTest.Delta d = AbTest.delta(100, 1000, 130, 1000);
    assertThat(d.value()).isCloseTo(0.03, within(1e-12));
    assertThat(d.lo()).isCloseTo(0.0020679, within(1e-6));
    assertThat(d.hi()).isCloseTo(0.0579321, within(1e-6));
    assertThat(d.pValue()).isCloseTo(0.035488, within(1e-5));

    AbTest.Delta same = AbTest.delta(50, 1000, 50, 1000);
    assertThat(same.value()).isZero();
    assertThat(same.pValue()).isCloseTo(1.0, within(1e-6));
    AbTest.Delta empty = AbTest.delta(0, 0, 3, 10);
    assertThat(empty.pValue()).isEqualTo(1.0);
    assertThat(AbTest.upperTail(1.959963984540054)).isCloseTo(0.025, within(1e-7));
  }

  @Test
  void armsAreStableAcrossCallsAndServersAndFollowTheShares() {
    Experiment here = experiment(42, "5a1t", 0.5, 0.3, 0.2);
    Experiment elsewhere = experiment(42, "5a1t", 0.5, 0.3, 0.2); // another server loaded the same row
    Map<String, Integer> counts = new HashMap<>();
    for (int u = 1; u <= 10_000; u++) {
      String user = Integer.toString(1_000_000 + u);
      String arm = here.armOf(user).name();
      assertThat(here.armOf(user).name()).isEqualTo(arm);
      assertThat(elsewhere.armOf(user).name()).isEqualTo(arm);
      counts.merge(arm, 1, Integer::sum);
    }
    // 3 standard deviations of a share over 10,000 users is at most 1.5 percentage points
    assertThat(counts.get("arm0") / 10_000.0).isCloseTo(0.5, within(0.015));
    assertThat(counts.get("arm1") / 10_000.0).isCloseTo(0.3, within(0.015));
    assertThat(counts.get("arm2") / 10_000.0).isCloseTo(0.2, within(0.015));

    // another experiment (other id and salt) shuffles users independently of this one
    Experiment other = experiment(43, "0ther", 0.5, 0.5);
    int both = 0;
    for (int u = 1; u <= 10_000; u++) {
      String user = Integer.toString(1_000_000 + u);
      if (here.armOf(user).name().equals("arm0") && other.armOf(user).name().equals("arm0")) {
        both++;
      }
    }
    assertThat(both / 10_000.0).isCloseTo(0.25, within(0.02));
  }
}
