package io.wxmp.recsys.eval;

/** A model under evaluation: scores for every item given a user's folded-in items (higher is better). */
@FunctionalInterface
public interface Scorer {
  float[] scores(int[] fold);
}
