package io.wxmp.handlers.platform;

/**
 * The arithmetic of an A/B result on click-through rates: the difference of two proportions with its 95 % interval
 * (unpooled standard error) and the two-sided p-value of the two-proportion z-test (pooled standard error).
 */
public final class AbTest {
  static final double Z95 = 1.959963984540054;

  private AbTest() {}

  /** {@code value} = ctrB − ctrA; with no data on either side the interval is the point and p is 1. */
  public record Delta(double value, double lo, double hi, double pValue) {}

  public static double rate(long successes, long trials) {
    return trials == 0 ? 0 : (double) successes / trials;
  }

  public static Delta delta(long clicksA, long impressionsA, long clicksB, long impressionsB) {
    double a = rate(clicksA, impressionsA);
    double b = rate(clicksB, impressionsB);
    double diff = b - a;
    if (impressionsA == 0 || impressionsB == 0) {
      return new Delta(diff, diff, diff, 1.0);
    }
    double se = Math.sqrt(a * (1 - a) / impressionsA + b * (1 - b) / impressionsB);
    double pooled = (double) (clicksA + clicksB) / (impressionsA + impressionsB);
    double se0 = Math.sqrt(pooled * (1 - pooled) * (1.0 / impressionsA + 1.0 / impressionsB));
    double p = se0 == 0 ? 1.0 : 2 * upperTail(Math.abs(diff) / se0);
    return new Delta(diff, diff - Z95 * se, diff + Z95 * se, Math.min(1.0, p));
  }

  /** P(Z > z) for a standard normal Z. */
  public static double upperTail(double z) {
    return 0.5 * erfc(z / Math.sqrt(2));
  }

  /**
   * The complementary error function by its Chebyshev fit (Numerical Recipes' {@code erfcc}), fractional error below
   * 1.2e-7 everywhere: plenty for a p-value.
   */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
