package io.wxmp.recsys.eval;

import java.util.stream.IntStream;

/** Dense symmetric positive definite inverse for the EASE baseline (row-major doubles). */
final class Dense {
  private Dense() {
  }

  /** The inverse of the SPD matrix a (n × n, overwritten) via Cholesky; rows of the result are solved in parallel. */
  static double[] inverseSpd(double[] a, int n) {
    // Cholesky, row-oriented (L in the lower triangle of a).
    for (int j = 0; j < n; j++) {
      int rj = j * n;
      double s = a[rj + j];
      for (int k = 0; k < j; k++) {
        s -= a[rj + k] * a[rj + k];
      }
      if (!(s > 0)) {
        throw new ArithmeticException("not positive definite at " + j);
      }
      double ljj = Math.sqrt(s);
      a[rj + j] = ljj;
      int jj = j;
      IntStream.range(j + 1, n).parallel().forEach(i -> {
        int ri = i * n;
        double v = a[ri + jj];
        for (int k = 0; k < jj; k++) {
          v -= a[ri + k] * a[rj + k];
        }
        a[ri + jj] = v / ljj;
      });
    }
    double[] inv = new double[n * n];
    IntStream.range(0, n).parallel().forEach(c -> {
      double[] x = new double[n];
      x[c] = 1;
      for (int i = c; i < n; i++) { // L y = e_c (zeros before c)
        int ri = i * n;
        double v = x[i];
        for (int k = c; k < i; k++) {
          v -= a[ri + k] * x[k];
        }
        x[i] = v / a[ri + i];
      }
      for (int i = n - 1; i >= 0; i--) { // Lᵀ z = y
        double v = x[i];
        for (int k = i + 1; k < n; k++) {
          v -= a[k * n + i] * x[k];
        }
        x[i] = v / a[i * n + i];
      }
      System.arraycopy(x, 0, inv, c * n, n); // symmetric: column c = row c
    });
    return inv;
  }
}
