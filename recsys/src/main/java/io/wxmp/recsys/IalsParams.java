package io.wxmp.recsys;

/**
 * Hyper-parameters of iALS in the formulation of Rendle, Krichene, Zhang and Koren (RecSys 2022): loss
 * Σ_observed c·(ŷ − 1)² + α₀·Σ_all ŷ² + λ·Σ_rows (w_row + α₀·n_other)·‖v_row‖², where c = 1 + confidenceScale ·
 * strength and w_row is the row's summed confidence (= its number of entries when every c is 1; ν = 1).
 *
 * @param dim               embedding dimension (1..1024; rows are solved exactly by Cholesky)
 * @param epochs            full passes, each an item step then a user step (so user vectors fit the final items)
 * @param unobservedWeight  α₀, the weight of every (user, item) pair towards 0
 * @param regularization    λ, scaled per row by its weight (ν = 1); must be &gt; 0
 * @param confidenceScale   c = 1 + confidenceScale · strength on observed entries
 * @param seed              the initial vectors come from it; same seed and data give bit-identical vectors
 * @param threads           worker threads for training (results do not depend on it)
 */
public record IalsParams(int dim, int epochs, double unobservedWeight, double regularization,
    double confidenceScale, long seed, int threads) {

  public IalsParams {
    if (dim < 1 || dim > 1024) {
      throw new IllegalArgumentException("dim must be in 1..1024, got " + dim);
    }
    if (epochs < 0) {
      throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
    }
    if (!(unobservedWeight >= 0) || Double.isInfinite(unobservedWeight)) {
      throw new IllegalArgumentException("unobservedWeight must be finite and >= 0, got " + unobservedWeight);
    }
    if (!(regularization > 0) || Double.isInfinite(regularization)) {
      throw new IllegalArgumentException("regularization must be finite and > 0, got " + regularization);
    }
    if (!(confidenceScale >= 0) || Double.isInfinite(confidenceScale)) {
      throw new IllegalArgumentException("confidenceScale must be finite and >= 0, got " + confidenceScale);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
  }

  /** dim 64, 16 epochs, α₀ 0.1, λ 0.01, c = 1 + strength, seed 42, one thread per available core. */
  public static IalsParams defaults() {
    return new IalsParams(64, 16, 0.1, 0.01, 1.0, 42L, Runtime.getRuntime().availableProcessors());
  }

  public IalsParams withDim(int d) {
    return new IalsParams(d, epochs, unobservedWeight, regularization, confidenceScale, seed, threads);
  }

  public IalsParams withEpochs(int e) {
    return new IalsParams(dim, e, unobservedWeight, regularization, confidenceScale, seed, threads);
  }

  public IalsParams withUnobservedWeight(double a) {
    return new IalsParams(dim, epochs, a, regularization, confidenceScale, seed, threads);
  }

  public IalsParams withRegularization(double l) {
    return new IalsParams(dim, epochs, unobservedWeight, l, confidenceScale, seed, threads);
  }

  public IalsParams withConfidenceScale(double s) {
    return new IalsParams(dim, epochs, unobservedWeight, regularization, s, seed, threads);
  }

  public IalsParams withSeed(long s) {
    return new IalsParams(dim, epochs, unobservedWeight, regularization, confidenceScale, s, threads);
  }

  public IalsParams withThreads(int t) {
    return new IalsParams(dim, epochs, unobservedWeight, regularization, confidenceScale, seed, t);
  }
}
