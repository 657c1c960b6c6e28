package io.wxmp.recsys;

/**
 * The numerical kernels shared by training and fold-in: the Gramian, the per-row iALS solve (exact Cholesky) and dot
 * products. Everything runs in a fixed order of operations so results are bit-identical across runs and threads.
 */
final class Linalg {
  private Linalg() {
  }

  /** Rows per block of the Gramian: fixed by the row count only, so the summation order never depends on threads. */
  static int gramBlock(int rows) {
    return Math.max(1024, (rows + 63) / 64);
  }

  /** Adds FᵀF over rows [from, to) of the row-major n × d matrix into the lower triangle of acc (d × d). */
  static void gramRows(float[] f, int d, int from, int to, double[] acc) {
    for (int r = from; r < to; r++) {
      int off = r * d;
      for (int a = 0; a < d; a++) {
        double fa = f[off + a];
        if (fa == 0) {
          continue;
        }
        int row = a * d;
        for (int b = 0; b <= a; b++) {
          acc[row + b] += fa * f[off + b];
        }
      }
    }
  }

  /** α·FᵀF as a full symmetric d × d matrix, computed in blocks (in parallel when a pool is given). */
  static double[] gramian(float[] f, int rows, int d, double alpha, Parallel pool) {
    int block = gramBlock(rows);
    int blocks = (rows + block - 1) / block;
    double[][] partial = new double[blocks][];
    Parallel.Body body = (b, scratch) -> {
      double[] acc = new double[d * d];
      gramRows(f, d, b * block, Math.min(rows, (b + 1) * block), acc);
      partial[b] = acc;
    };
    if (pool == null) {
      for (int b = 0; b < blocks; b++) {
        body.run(b, null);
      }
    } else {
      pool.forEach(blocks, body);
    }
    double[] g = new double[d * d];
    for (int b = 0; b < blocks; b++) { // fixed order
      double[] acc = partial[b];
      for (int k = 0; k < g.length; k++) {
        g[k] += acc[k];
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b <= a; b++) {
        double v = g[a * d + b] * alpha;
        g[a * d + b] = v;
        g[b * d + a] = v;
      }
    }
    return g;
  }

  /** Scratch space of one solving thread. */
  static final class Scratch {
    final double[] a;
    final double[] rhs;

    Scratch(int d) {
      a = new double[d * d];
      rhs = new double[d];
    }
  }

  /**
   * The iALS row step: solves (G + Σ c·f fᵀ + λ(Σc + α₀·n)·I) x = Σ c·f over the entries cols[from..to) with strengths
   * vals, c = 1 + scale·strength, and writes x into out[outOff..outOff+d). A row without entries gets the zero vector.
   *
   * @param gram         α₀·FᵀF (full d × d)
   * @param unobservedN  α₀ · (number of rows of F)
   */
  static void solveRow(double[] gram, float[] f, int d, int[] cols, float[] vals, int from, int to,
      double unobservedN, double lambda, double scale, Scratch s, float[] out, int outOff) {
    if (from == to) {
      java.util.Arrays.fill(out, outOff, outOff + d, 0f);
      return;
    }
    double[] a = s.a;
    double[] rhs = s.rhs;
    System.arraycopy(gram, 0, a, 0, d * d);
    java.util.Arrays.fill(rhs, 0);
    double weight = 0;
    for (int k = from; k < to; k++) {
      double c = 1 + scale * vals[k];
      weight += c;
      int off = cols[k] * d;
      for (int x = 0; x < d; x++) {
        double cf = c * f[off + x];
        rhs[x] += cf;
        if (cf == 0) {
          continue;
        }
        int row = x * d;
        for (int y = 0; y <= x; y++) {
          a[row + y] += cf * f[off + y];
        }
      }
    }
    double reg = lambda * (weight + unobservedN);
    for (int x = 0; x < d; x++) {
      a[x * d + x] += reg;
    }
    cholesky(a, d);
    solveCholesky(a, d, rhs);
    for (int x = 0; x < d; x++) {
      out[outOff + x] = (float) rhs[x];
    }
  }

  /** In-place Cholesky of the lower triangle of a (d × d, row-major): a = L Lᵀ, L left in the lower triangle. */
  static void cholesky(double[] a, int d) {
    for (int j = 0; j < d; j++) {
      int rj = j * d;
      double sum = a[rj + j];
      for (int k = 0; k < j; k++) {
        sum -= a[rj + k] * a[rj + k];
      }
      if (!(sum > 0)) {
        throw new ArithmeticException("matrix not positive definite at column " + j);
      }
      double ljj = Math.sqrt(sum);
      a[rj + j] = ljj;
      double inv = 1 / ljj;
      for (int i = j + 1; i < d; i++) {
        int ri = i * d;
        double v = a[ri + j];
        for (int k = 0; k < j; k++) {
          v -= a[ri + k] * a[rj + k];
        }
        a[ri + j] = v * inv;
      }
    }
  }

  /** Solves L Lᵀ x = b in place (b becomes x), with L from {@link #cholesky}. */
  static void solveCholesky(double[] l, int d, double[] b) {
    for (int i = 0; i < d; i++) {
      int ri = i * d;
      double v = b[i];
      for (int k = 0; k < i; k++) {
        v -= l[ri + k] * b[k];
      }
      b[i] = v / l[ri + i];
    }
    for (int i = d - 1; i >= 0; i--) {
      double v = b[i];
      for (int k = i + 1; k < d; k++) {
        v -= l[k * d + i] * b[k];
      }
      b[i] = v / l[i * d + i];
    }
  }

  static float[] scores(float[] q, float[] f, int rows, int d) {
    if (q.length != d) {
      throw new IllegalArgumentException("vector of length " + q.length + ", expected " + d);
    }
    float[] out = new float[rows];
    for (int r = 0; r < rows; r++) {
      out[r] = dot(q, 0, f, r * d, d);
    }
    return out;
  }

  static float dot(float[] a, int ao, float[] b, int bo, int d) {
    float s = 0;
    for (int k = 0; k < d; k++) {
      s += a[ao + k] * b[bo + k];
    }
    return s;
  }
}
