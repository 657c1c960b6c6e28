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

  /** Adds FᵀF over rows [from, to) of the row-major n × d matrix into the upper triangle of acc (d × d). */
  static void gramRows(float[] f, int d, int from, int to, double[] acc) {
    double[] t = new double[d];
    for (int r = from; r < to; r++) {
      int off = r * d;
      for (int x = 0; x < d; x++) {
        t[x] = f[off + x];
      }
      for (int x = 0; x < d; x++) {
        double fx = t[x];
        int row = x * d;
        for (int y = x; y < d; y++) {
          acc[row + y] += fx * t[y];
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
      for (int b = a; b < d; b++) {
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
    final double[] rows;
    /** Conjugate-gradient vectors (x, r, p, Ap), allocated on first use. */
    double[] cg;

    Scratch(int d) {
      a = new double[d * d];
      rhs = new double[d];
      rows = new double[4 * d];
    }
  }

  /**
   * The iALS row step: solves (G + Σ c·f fᵀ + λ(Σc + α₀·n)·I) x = Σ c·f over the entries cols[from..to) with strengths
   * vals, c = 1 + scale·strength, and writes x into out[outOff..outOff+d). A row without entries gets the zero vector.
   * Only the upper triangle of the system is formed; every inner loop runs over contiguous memory (so the JIT can
   * vectorise it) in a fixed order.
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
    double[] t = s.rows;
    System.arraycopy(gram, 0, a, 0, d * d);
    java.util.Arrays.fill(rhs, 0);
    double weight = 0;
    // Entries in blocks of 4: each pass over the triangle of a adds four rank-1 terms, a quarter of the memory traffic.
    int k = from;
    for (; k + 4 <= to; k += 4) {
      double c0 = 1 + scale * vals[k];
      double c1 = 1 + scale * vals[k + 1];
      double c2 = 1 + scale * vals[k + 2];
      double c3 = 1 + scale * vals[k + 3];
      weight += c0 + c1 + c2 + c3;
      int o0 = cols[k] * d;
      int o1 = cols[k + 1] * d;
      int o2 = cols[k + 2] * d;
      int o3 = cols[k + 3] * d;
      for (int x = 0; x < d; x++) {
        t[x] = f[o0 + x];
        t[d + x] = f[o1 + x];
        t[2 * d + x] = f[o2 + x];
        t[3 * d + x] = f[o3 + x];
      }
      for (int x = 0; x < d; x++) {
        double f0 = c0 * t[x];
        double f1 = c1 * t[d + x];
        double f2 = c2 * t[2 * d + x];
        double f3 = c3 * t[3 * d + x];
        rhs[x] += f0 + f1 + f2 + f3;
        int row = x * d;
        for (int y = x; y < d; y++) {
          a[row + y] += f0 * t[y] + f1 * t[d + y] + f2 * t[2 * d + y] + f3 * t[3 * d + y];
        }
      }
    }
    for (; k < to; k++) {
      double c = 1 + scale * vals[k];
      weight += c;
      int off = cols[k] * d;
      for (int x = 0; x < d; x++) {
        t[x] = f[off + x];
      }
      for (int x = 0; x < d; x++) {
        double cf = c * t[x];
        rhs[x] += cf;
        int row = x * d;
        for (int y = x; y < d; y++) {
          a[row + y] += cf * t[y];
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

  /**
   * In-place Cholesky of the upper triangle of a (d × d, row-major): a = UᵀU, U left in the upper triangle (the lower
   * triangle is not read). Right-looking, so the update of each trailing row is a contiguous axpy.
   */
  static void cholesky(double[] a, int d) {
    for (int k = 0; k < d; k++) {
      int rk = k * d;
      double pivot = a[rk + k];
      if (!(pivot > 0)) {
        throw new ArithmeticException("matrix not positive definite at column " + k);
      }
      double ukk = Math.sqrt(pivot);
      a[rk + k] = ukk;
      double inv = 1 / ukk;
      for (int j = k + 1; j < d; j++) {
        a[rk + j] *= inv;
      }
      for (int i = k + 1; i < d; i++) {
        double uki = a[rk + i];
        if (uki == 0) {
          continue;
        }
        int ri = i * d;
        for (int j = i; j < d; j++) {
          a[ri + j] -= uki * a[rk + j];
        }
      }
    }
  }

  /** Solves UᵀU x = b in place (b becomes x), with U from {@link #cholesky}. */
  static void solveCholesky(double[] u, int d, double[] b) {
    for (int k = 0; k < d; k++) { // Uᵀ y = b, column-oriented: row k of U is contiguous
      int rk = k * d;
      double yk = b[k] / u[rk + k];
      b[k] = yk;
      for (int j = k + 1; j < d; j++) {
        b[j] -= u[rk + j] * yk;
      }
    }
    for (int i = d - 1; i >= 0; i--) { // U x = y
      int ri = i * d;
      double v = b[i];
      for (int j = i + 1; j < d; j++) {
        v -= u[ri + j] * b[j];
      }
      b[i] = v / u[ri + i];
    }
  }

  /**
   * The same row step as {@link #solveRow}, solved approximately by {@code steps} conjugate-gradient iterations started
   * from the row's current vector in out (warm start; implicit's {@code least_squares_cg}): the d × d system is never
   * formed, each iteration costs one product with the Gramian (d²) and two passes over the row's entries (2·n·d), so
   * a row costs O(steps·(d² + n·d)) instead of O(n·d² + d³). Stops early when the residual vanishes. A row without
   * entries gets the zero vector.
   */
  static void solveRowCg(double[] gram, float[] f, int d, int[] cols, float[] vals, int from, int to,
      double unobservedN, double lambda, double scale, int steps, Scratch s, float[] out, int outOff) {
    if (from == to) {
      java.util.Arrays.fill(out, outOff, outOff + d, 0f);
      return;
    }
    if (s.cg == null) {
      s.cg = new double[4 * d];
    }
    double[] v = s.cg; // x at 0, r at d, p at 2d, Ap at 3d
    double weight = 0;
    for (int k = from; k < to; k++) {
      weight += 1 + scale * vals[k];
    }
    double reg = lambda * (weight + unobservedN);
    for (int x = 0; x < d; x++) {
      v[x] = out[outOff + x];
    }
    // r = b - A x, with b = Σ c·f
    applyCg(gram, f, d, cols, vals, from, to, reg, scale, v, 0, v, 3 * d);
    for (int k = from; k < to; k++) {
      double c = 1 + scale * vals[k];
      int off = cols[k] * d;
      for (int x = 0; x < d; x++) {
        v[3 * d + x] -= c * f[off + x];
      }
    }
    double rr = 0;
    for (int x = 0; x < d; x++) {
      double r = -v[3 * d + x];
      v[d + x] = r;
      v[2 * d + x] = r;
      rr += r * r;
    }
    for (int it = 0; it < steps && rr > 1e-30; it++) {
      applyCg(gram, f, d, cols, vals, from, to, reg, scale, v, 2 * d, v, 3 * d);
      double pap = 0;
      for (int x = 0; x < d; x++) {
        pap += v[2 * d + x] * v[3 * d + x];
      }
      if (!(pap > 0)) {
        break;
      }
      double alpha = rr / pap;
      double next = 0;
      for (int x = 0; x < d; x++) {
        v[x] += alpha * v[2 * d + x];
        double r = v[d + x] - alpha * v[3 * d + x];
        v[d + x] = r;
        next += r * r;
      }
      double beta = next / rr;
      for (int x = 0; x < d; x++) {
        v[2 * d + x] = v[d + x] + beta * v[2 * d + x];
      }
      rr = next;
    }
    for (int x = 0; x < d; x++) {
      out[outOff + x] = (float) v[x];
    }
  }

  /** y[yOff..] = (G + Σ c·f fᵀ + reg·I) · v[vOff..], over the entries cols[from..to). */
  private static void applyCg(double[] gram, float[] f, int d, int[] cols, float[] vals, int from, int to,
      double reg, double scale, double[] v, int vOff, double[] y, int yOff) {
    for (int x = 0; x < d; x++) {
      int row = x * d;
      double sum = 0;
      for (int z = 0; z < d; z++) {
        sum += gram[row + z] * v[vOff + z];
      }
      y[yOff + x] = sum + reg * v[vOff + x];
    }
    for (int k = from; k < to; k++) {
      double c = 1 + scale * vals[k];
      int off = cols[k] * d;
      double dot = 0;
      for (int x = 0; x < d; x++) {
        dot += f[off + x] * v[vOff + x];
      }
      double cd = c * dot;
      for (int x = 0; x < d; x++) {
        y[yOff + x] += cd * f[off + x];
      }
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
