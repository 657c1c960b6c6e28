package io.wxmp.recsys;

/**
 * Maximal marginal relevance (Carbonell and Goldstein 1998) over cosine similarity of item vectors: greedily picks
 * argmax λ·rel(i) − (1 − λ)·max_{s picked} cos(i, s). Relevance is min-max scaled to [0, 1] over the candidates first,
 * so λ means the same whatever the score scale; λ = 1 is the plain ranking by relevance. Ties go to the lower index.
 * {@link Options} choose other relevance scalings (rank, softmax) and the mean instead of the max similarity.
 */
public final class Mmr {
  private Mmr() {
  }

  /** How the candidates' scores become relevance in [0, 1] before λ weighs them. */
  public enum Scaling {
    /** (s − min) / (max − min) over the candidates: the classic, and the default. */
    MIN_MAX,
    /** 1 − rank / n by descending score (ties by index): only the order of the scores counts. */
    RANK,
    /** exp((s − max) / (T · sd)) with sd the standard deviation of the candidates' scores: 1 for the best. */
    SOFTMAX
  }

  /**
   * @param scaling        relevance scaling
   * @param temperature    T of {@link Scaling#SOFTMAX} (&gt; 0; ignored otherwise)
   * @param meanSimilarity penalise the mean cosine to the items picked so far instead of the largest (what ILD, the
   *                       mean pairwise distance, measures)
   */
  public record Options(Scaling scaling, double temperature, boolean meanSimilarity) {
    /** Min-max relevance, max similarity: {@link #select(float[], float[][], double, int)}. */
    public static final Options CLASSIC = new Options(Scaling.MIN_MAX, 1, false);

    public Options {
      if (scaling == null) {
        throw new IllegalArgumentException("scaling is null");
      }
      if (!(temperature > 0) || Double.isInfinite(temperature)) {
        throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
      }
    }

    /** Parses minmax | rank | softmax:T, optionally followed by /mean (e.g. "softmax:0.5/mean"). */
    public static Options parse(String s) {
      boolean mean = s.endsWith("/mean");
      String head = mean ? s.substring(0, s.length() - 5) : s;
      if (head.equals("minmax")) {
        return new Options(Scaling.MIN_MAX, 1, mean);
      }
      if (head.equals("rank")) {
        return new Options(Scaling.RANK, 1, mean);
      }
      if (head.startsWith("softmax:")) {
        return new Options(Scaling.SOFTMAX, Double.parseDouble(head.substring(8)), mean);
      }
      throw new IllegalArgumentException("unknown MMR options " + s + " (minmax | rank | softmax:T [/mean])");
    }

    @Override
    public String toString() {
      String h = switch (scaling) {
        case MIN_MAX -> "minmax";
        case RANK -> "rank";
        case SOFTMAX -> "softmax:" + temperature;
      };
      return meanSimilarity ? h + "/mean" : h;
    }
  }

  /**
   * @param relevance per candidate its score (higher is better)
   * @param vectors   per candidate its item vector (same length for all; a zero vector is similar to nothing)
   * @param lambda    0..1
   * @param k         how many to pick (fewer when there are fewer candidates)
   * @return indices into the inputs, in picking order
   */
  public static int[] select(float[] relevance, float[][] vectors, double lambda, int k) {
    return select(relevance, vectors, lambda, k, Options.CLASSIC);
  }

  /** As {@link #select(float[], float[][], double, int)}, with the relevance scaling and similarity of o. */
  public static int[] select(float[] relevance, float[][] vectors, double lambda, int k, Options o) {
    if (k < 0) {
      throw new IllegalArgumentException("k must be >= 0, got " + k);
    }
    Picks p = new Picks(relevance, vectors, lambda, o);
    int[] out = new int[Math.min(k, p.size())];
    for (int i = 0; i < out.length; i++) {
      out[i] = p.next();
    }
    return out;
  }

  /**
   * The picks of {@link #select(float[], float[][], double, int, Options)} one at a time, each worked out when asked
   * for: greedy MMR is prefix-consistent, so the first m picks are those of {@code select(..., m, o)} (bit for bit:
   * the same arithmetic in the same order), and a caller that needs only a few pays only for those.
   */
  public static Picks picks(float[] relevance, float[][] vectors, double lambda, Options o) {
    return new Picks(relevance, vectors, lambda, o);
  }

  /**
   * A cursor over the MMR order: {@link #next()} picks the best of the rest against the max (or summed) similarity
   * kept from the picks before. Not thread-safe. The inputs must not change while it is in use.
   */
  public static final class Picks {
    private final float[] relevance;
    private final float[][] vectors;
    private final double lambda;
    private final Options o;
    private final int n;
    private int d;
    private double[] norm;
    private double[] rel;
    // max similarity so far, or with mean the sum (divided by the picks when compared)
    private double[] maxSim;
    // The candidates not picked yet, in index order (so the first best wins a tie, as with a scan of all n).
    private int[] rest;
    private int left;
    private int picked;
    // the last pick, whose similarities to the rest are added before the next scan (none are after the last pick)
    private int pending = -1;

    private Picks(float[] relevance, float[][] vectors, double lambda, Options o) {
      int n = relevance.length;
      if (vectors.length != n) {
        throw new IllegalArgumentException("relevance has " + n + " entries, vectors " + vectors.length);
      }
      if (!(lambda >= 0 && lambda <= 1)) {
        throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
      }
      this.relevance = relevance;
      this.vectors = vectors;
      this.lambda = lambda;
      this.o = o;
      this.n = n;
    }

    /** How many picks there are in all: one per candidate. */
    public int size() {
      return n;
    }

    /** How many {@link #next()} has made. */
    public int picked() {
      return picked;
    }

    public boolean hasNext() {
      return picked < n;
    }

    /**
     * The next pick, an index into the inputs.
     *
     * @throws java.util.NoSuchElementException when every candidate is picked
     * @throws IllegalArgumentException         (on the first call) for vectors of unequal length or a NaN relevance
     */
    public int next() {
      if (picked >= n) {
        throw new java.util.NoSuchElementException("all " + n + " candidates are picked");
      }
      if (picked == 0) {
        prepare();
      } else {
        addSimilarities(pending);
      }
      boolean mean = o.meanSimilarity();
      int pick = picked;
      int at = -1;
      double bestValue = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < left; j++) {
        int i = rest[j];
        double sim = mean ? maxSim[i] / pick : maxSim[i];
        double value = pick == 0 ? rel[i] : lambda * rel[i] - (1 - lambda) * sim;
        if (value > bestValue) {
          bestValue = value;
          at = j;
        }
      }
      int best = rest[at];
      System.arraycopy(rest, at + 1, rest, at, left - at - 1);
      left--;
      picked++;
      pending = best;
      return best;
    }

    private void prepare() {
      d = vectors[0].length;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      norm = new double[n];
      for (int i = 0; i < n; i++) {
        if (vectors[i].length != d) {
          throw new IllegalArgumentException("vector " + i + " has length " + vectors[i].length + ", expected " + d);
        }
        if (Float.isNaN(relevance[i])) {
          throw new IllegalArgumentException("relevance " + i + " is NaN");
        }
        min = Math.min(min, relevance[i]);
        max = Math.max(max, relevance[i]);
        double s = 0;
        for (float v : vectors[i]) {
          s += (double) v * v;
        }
        norm[i] = Math.sqrt(s);
      }
      rel = scale(relevance, min, max, o);
      maxSim = new double[n];
      java.util.Arrays.fill(maxSim, o.meanSimilarity() ? 0 : Double.NEGATIVE_INFINITY);
      rest = new int[n];
      for (int i = 0; i < n; i++) {
        rest[i] = i;
      }
      left = n;
    }

    /** Raises (or with mean adds to) the similarity state of the rest by their cosine to the pick best. */
    private void addSimilarities(int best) {
      boolean mean = o.meanSimilarity();
      float[] b = vectors[best];
      double nb = norm[best];
      // Four dot products at a time: four independent sums (each in the same order as one at a time, so the same
      // values), which the CPU overlaps instead of waiting on one chain of additions.
      int j = 0;
      for (; j + 4 <= left; j += 4) {
        int i0 = rest[j];
        int i1 = rest[j + 1];
        int i2 = rest[j + 2];
        int i3 = rest[j + 3];
        float[] a0 = vectors[i0];
        float[] a1 = vectors[i1];
        float[] a2 = vectors[i2];
        float[] a3 = vectors[i3];
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int x = 0; x < d; x++) {
          double bx = b[x];
          s0 += (double) a0[x] * bx;
          s1 += (double) a1[x] * bx;
          s2 += (double) a2[x] * bx;
          s3 += (double) a3[x] * bx;
        }
        similar(maxSim, norm, i0, nb, s0, mean);
        similar(maxSim, norm, i1, nb, s1, mean);
        similar(maxSim, norm, i2, nb, s2, mean);
        similar(maxSim, norm, i3, nb, s3, mean);
      }
      for (; j < left; j++) {
        int i = rest[j];
        float[] a = vectors[i];
        double dot = 0;
        for (int x = 0; x < d; x++) {
          dot += (double) a[x] * b[x];
        }
        similar(maxSim, norm, i, nb, dot, mean);
      }
    }
  }

  /**
   * Raises maxSim[i] to the cosine of i with the item just picked (norm nb, dot product dot; 0 for a zero vector), or
   * with sum adds it.
   */
  private static void similar(double[] maxSim, double[] norm, int i, double nb, double dot, boolean sum) {
    double sim = norm[i] > 0 && nb > 0 ? dot / (norm[i] * nb) : 0;
    if (sum) {
      maxSim[i] += sim;
    } else if (sim > maxSim[i]) {
      maxSim[i] = sim;
    }
  }

  /** Relevance in [0, 1] per candidate; all 1 when the scores are all equal (or their range is not finite). */
  static double[] scale(float[] relevance, double min, double max, Options o) {
    int n = relevance.length;
    double[] rel = new double[n];
    double range = max - min;
    if (!(range > 0 && Double.isFinite(range))) {
      java.util.Arrays.fill(rel, 1);
      return rel;
    }
    switch (o.scaling()) {
      case MIN_MAX -> {
        for (int i = 0; i < n; i++) {
          rel[i] = (relevance[i] - min) / range;
        }
      }
      case RANK -> {
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
          int bits = Float.floatToIntBits(relevance[i] == 0 ? 0f : relevance[i]);
          int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff;
          keys[i] = ((long) -(long) ordered << 32) + i; // ascending = descending score, ties by index
        }
        java.util.Arrays.sort(keys);
        for (int r = 0; r < n; r++) {
          rel[(int) (keys[r] & 0xffffffffL)] = (double) (n - r) / n;
        }
      }
      case SOFTMAX -> {
        double mu = 0;
        for (float v : relevance) {
          mu += v;
        }
        mu /= n;
        double var = 0;
        for (float v : relevance) {
          var += (v - mu) * (v - mu);
        }
        double sd = Math.sqrt(var / n);
        for (int i = 0; i < n; i++) {
          rel[i] = Math.exp((relevance[i] - max) / (o.temperature() * sd));
        }
      }
      default -> throw new IllegalStateException();
    }
    return rel;
  }
}
