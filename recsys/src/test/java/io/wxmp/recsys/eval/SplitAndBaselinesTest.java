package io.wxmp.recsys.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.wxmp.recsys.Interactions;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SplitAndBaselinesTest {

  /** 200 users, 60 items in 3 blocks; ratings 1..5 with timestamps. */
  static Ratings ratings() {
    SplittableRandom r = new SplittableRandom(4);
    int n = 200 * 12;
    int[] u = new int[n];
    int[] i = new int[n];
    float[] s = new float[n];
    long[] t = new long[n];
    for (int e = 0; e < n; e++) {
      u[e] = e / 12;
      i[e] = (u[e] % 3) * 20 + r.nextInt(20);
      s[e] = 1 + r.nextInt(5);
      t[e] = 1000 + e;
    }
    return new Ratings(200, 60, u, i, s, t);
  }

  @Test
  void strongSplitKeepsHeldOutUsersOutOfTraining() {
    Ratings r = ratings();
    Split a = Split.strong(r, 3, 0);
    Split b = Split.strong(r, 3, 0);
    assertThat(a.test()).hasSameSizeAs(b.test());
    assertThat(a.test().get(0).target()).containsExactly(b.test().get(0).target());
    int eligible = (int) Arrays.stream(Split.positives(r, 3)).filter(p -> p.length >= 5).count();
    assertThat(a.train().users()).isEqualTo(eligible - 2 * Math.round(eligible * 0.15));
    for (Split.HeldOut h : a.test()) {
      Set<Integer> fold = new HashSet<>();
      Arrays.stream(h.fold()).forEach(fold::add);
      assertThat(Arrays.stream(h.target()).noneMatch(fold::contains)).isTrue();
      int n = h.fold().length + h.target().length;
      assertThat(h.target().length).isEqualTo(Math.max(1, (int) Math.round(n * 0.2)));
    }
    assertThat(Split.strong(r, 3, 1).test().get(0).target()).isNotEqualTo(a.test().get(0).target());
  }

  @Test
  void temporalSplitHidesEachUsersLastPositives() {
    Ratings r = ratings();
    Split s = Split.temporal(r, 0);
    assertThat(s.test()).isNotEmpty();
    assertThat(s.train().users()).isEqualTo(200);
    // Every row is a positive here; the targets are the user's last ~20 % distinct items by time.
    Split.HeldOut first = s.test().get(0);
    assertThat(first.fold().length).isEqualTo(s.train().countOf(0));
  }

  @Test
  void easeInUserSpaceEqualsEaseInItemSpace() {
    SplittableRandom r = new SplittableRandom(2);
    // 30 users × 40 items: Woodbury path; its transpose-free twin with 50 users × 40 items: the direct path.
    Interactions few = random(30, 40, r);
    float[] direct = new DirectEase(few, 5).scores(new int[] {1, 4, 9});
    float[] woodbury = new Ease(few, 5).scores(new int[] {1, 4, 9});
    for (int j = 0; j < 40; j++) {
      assertThat((double) woodbury[j]).isCloseTo(direct[j], within(1e-4));
    }
    Interactions many = random(50, 40, r);
    float[] d2 = new DirectEase(many, 5).scores(new int[] {0, 2});
    float[] e2 = new Ease(many, 5).scores(new int[] {0, 2});
    for (int j = 0; j < 40; j++) {
      assertThat((double) e2[j]).isCloseTo(d2[j], within(1e-4));
    }
  }

  @Test
  void popularityRanksByTrainingUsers() {
    Interactions m = Interactions.of(3, 3, new int[] {0, 1, 2, 0}, new int[] {2, 2, 2, 1}, new float[] {1, 1, 1, 1});
    assertThat(Evaluator.byScore(new Popularity(m)).rank(new int[0])).containsExactly(2, 1, 0);
    assertThat(Evaluator.byScore(new Popularity(m)).rank(new int[] {2})).containsExactly(1, 0);
  }

  private static Interactions random(int users, int items, SplittableRandom r) {
    int n = users * 8;
    int[] u = new int[n];
    int[] i = new int[n];
    float[] s = new float[n];
    for (int e = 0; e < n; e++) {
      u[e] = e / 8;
      i[e] = r.nextInt(items);
      s[e] = 1;
    }
    return Interactions.of(users, items, u, i, s);
  }

  /** EASE by the textbook formula with a Gauss-Jordan inverse, for comparison. */
  static final class DirectEase implements Scorer {
    final double[][] b;
    final int n;

    DirectEase(Interactions x, double lambda) {
      n = x.items();
      double[][] g = new double[n][2 * n];
      for (int u = 0; u < x.users(); u++) {
        for (int a : x.itemsOf(u)) {
          for (int c : x.itemsOf(u)) {
            g[a][c] += 1;
          }
        }
      }
      for (int a = 0; a < n; a++) {
        g[a][a] += lambda;
        g[a][n + a] = 1;
      }
      for (int p = 0; p < n; p++) {
        double piv = g[p][p];
        for (int c = 0; c < 2 * n; c++) {
          g[p][c] /= piv;
        }
        for (int row = 0; row < n; row++) {
          if (row != p) {
            double f = g[row][p];
            for (int c = 0; c < 2 * n; c++) {
              g[row][c] -= f * g[p][c];
            }
          }
        }
      }
      b = new double[n][n];
      for (int a = 0; a < n; a++) {
        for (int c = 0; c < n; c++) {
          b[a][c] = a == c ? 0 : -g[a][n + c] / g[c][n + c];
        }
      }
    }

    @Override
    public float[] scores(int[] fold) {
      float[] s = new float[n];
      for (int i : fold) {
        for (int j = 0; j < n; j++) {
          s[j] += (float) b[i][j];
        }
      }
      return s;
    }
  }
}
