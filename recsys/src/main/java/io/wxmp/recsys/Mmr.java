package io.wxmp.recsys;

/**
 * Maximal marginal relevance (Carbonell and Goldstein 1998) over cosine similarity of item vectors (in float, see
 * {@link Picks}): greedily picks argmax λ·rel(i) − (1 − λ)·max_{s picked} cos(i, s). Relevance is min-max scaled to
 * [0, 1] over the candidates first, so λ means the same whatever the score scale; λ = 1 is the plain ranking by
 * relevance. Ties go to the lower index.
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
   * A cursor over the MMR order. Not thread-safe. The inputs must not change while it is in use.
   *
   * <p>A cosine is the float dot product times the two vectors' inverse lengths (each worked out once, on the first
   * pick; a zero vector, or one with a non-finite component or a squared length beyond float's range, has inverse
   * length 0: similar to nothing). After the first pick every candidate is compared with it; from then on, with the
   * max similarity, the picks are lazy greedy (Minoux's accelerated greedy, "CELF"): a candidate's max cosine over
   * the picks it has been compared with is a lower bound of its max over all picks, so its value then is an upper
   * bound of its value now. The candidates sit in a max-heap by that bound (ties to the lower index) and only the top
   * is compared with the picks it has not seen, until the top is up to date: that is the pick, the same one (and the
   * same value) as a scan of every candidate against every pick, while most candidates are never compared with most
   * picks (on a feed's window of 100, about 900 cosines for 40 picks instead of 3,100). With the mean similarity
   * (whose value can rise again) every remaining candidate is compared with every pick.
   */
  public static final class Picks {
    private final float[] relevance;
    private final float[][] vectors;
    private final double lambda;
    private final Options o;
    private final int n;
    // 1 / |v| per candidate, 0 for a zero or non-finite vector
    private float[] inverse;
    private double[] rel;
    // max similarity over the picks [0, seen[i]) (lazy), or with mean the sum over all picks so far
    private double[] sim;
    private int[] seen;
    // the picks so far, in order
    private int[] order;
    private int picked;
    // lazy (max): a binary max-heap of the candidates left, by (key desc, index asc); key = value at seen[i] picks
    private int[] heap;
    private double[] key;
    private int size;
    // eager (mean): the candidates not picked yet, in index order (so the first best wins a tie)
    private int[] rest;
    private int left;

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
      int best;
      if (picked == 0) {
        prepare();
        best = 0;
        for (int i = 1; i < n; i++) {
          if (rel[i] > rel[best]) {
            best = i;
          }
        }
      } else if (o.meanSimilarity()) {
        best = nextMean();
      } else {
        best = nextMax();
      }
      order[picked++] = best;
      return best;
    }

    private int nextMax() {
      if (picked == 1) {
        // every candidate against the first pick, then the heap by exact values
        int first = order[0];
        heap = new int[n - 1];
        key = new double[n];
        for (int i = 0; i < n; i++) {
          if (i != first) {
            sim[i] = cos(i, first);
            seen[i] = 1;
            key[i] = value(i, sim[i]);
            heap[size++] = i;
          }
        }
        for (int h = size / 2 - 1; h >= 0; h--) {
          down(h);
        }
      }
      while (true) {
        int top = heap[0];
        if (seen[top] == picked) {
          heap[0] = heap[--size];
          if (size > 0) {
            down(0);
          }
          return top;
        }
        // compared with the picks it has not seen, in order, until its value falls below the next candidate's bound
        int next = size < 2 ? -1 : size < 3 || above(heap[1], heap[2]) ? heap[1] : heap[2];
        double s = sim[top];
        int p = seen[top];
        while (p < picked) {
          float c = cos(top, order[p++]);
          if (c > s) {
            s = c;
            key[top] = value(top, s);
            if (next >= 0 && above(next, top)) {
              break;
            }
          }
        }
        sim[top] = s;
        seen[top] = p;
        key[top] = value(top, s);
        down(0);
      }
    }

    private int nextMean() {
      if (picked == 1) {
        rest = new int[n - 1];
        for (int i = 0; i < n; i++) {
          if (i != order[0]) {
            rest[left++] = i;
          }
        }
      }
      int last = order[picked - 1];
      int at = -1;
      double bestValue = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < left; j++) {
        int i = rest[j];
        sim[i] += cos(i, last);
        double v = value(i, sim[i] / picked);
        if (v > bestValue) {
          bestValue = v;
          at = j;
        }
      }
      int best = rest[at];
      System.arraycopy(rest, at + 1, rest, at, left - at - 1);
      left--;
      return best;
    }

    private float cos(int a, int b) {
      return dot(vectors[a], vectors[b]) * (inverse[a] * inverse[b]);
    }

    private double value(int i, double s) {
      return lambda * rel[i] - (1 - lambda) * s;
    }

    /** Whether heap entry a goes above b: the larger key, on a tie the lower index. */
    private boolean above(int a, int b) {
      return key[a] > key[b] || (key[a] == key[b] && a < b);
    }

    private void down(int h) {
      int e = heap[h];
      while (true) {
        int c = 2 * h + 1;
        if (c >= size) {
          break;
        }
        if (c + 1 < size && above(heap[c + 1], heap[c])) {
          c++;
        }
        if (!above(heap[c], e)) {
          break;
        }
        heap[h] = heap[c];
        h = c;
      }
      heap[h] = e;
    }

    private void prepare() {
      int d = vectors[0].length;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      inverse = new float[n];
      for (int i = 0; i < n; i++) {
        if (vectors[i].length != d) {
          throw new IllegalArgumentException("vector " + i + " has length " + vectors[i].length + ", expected " + d);
        }
        if (Float.isNaN(relevance[i])) {
          throw new IllegalArgumentException("relevance " + i + " is NaN");
        }
        min = Math.min(min, relevance[i]);
        max = Math.max(max, relevance[i]);
        inverse[i] = inverseLength(vectors[i]);
      }
      rel = scale(relevance, min, max, o);
      sim = new double[n];
      seen = new int[n];
      order = new int[n];
    }
  }

  /**
   * 1 / |v| in float (the length summed in double), or 0 for a zero vector or one whose float dot product with itself
   * is not finite (so the float dot product of any two vectors with a non-zero inverse length is finite).
   */
  static float inverseLength(float[] v) {
    double norm = Math.sqrt(squares(v));
    float inverse = (float) (1 / norm);
    return norm > 0 && Float.isFinite(inverse) && Float.isFinite(dot(v, v)) ? inverse : 0;
  }

  /** The sum of squares, in double: four sums over every fourth component, then (s0 + s1) + (s2 + s3). */
  static double squares(float[] v) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int x = 0;
    for (; x + 4 <= v.length; x += 4) {
      s0 += (double) v[x] * v[x];
      s1 += (double) v[x + 1] * v[x + 1];
      s2 += (double) v[x + 2] * v[x + 2];
      s3 += (double) v[x + 3] * v[x + 3];
    }
    for (; x < v.length; x++) {
      s0 += (double) v[x] * v[x];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * The dot product in float: four sums over every fourth component, then (s0 + s1) + (s2 + s3); the same value
   * whichever way round a pair comes.
   */
  static float dot(float[] a, float[] b) {
    int d = a.length;
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int x = 0;
    for (; x + 4 <= d; x += 4) {
      s0 += a[x] * b[x];
      s1 += a[x + 1] * b[x + 1];
      s2 += a[x + 2] * b[x + 2];
      s3 += a[x + 3] * b[x + 3];
    }
    for (; x < d; x++) {
      s0 += a[x] * b[x];
    }
    return (s0 + s1) + (s2 + s3);
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
