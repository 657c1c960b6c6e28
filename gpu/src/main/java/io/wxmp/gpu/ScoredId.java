package io.wxmp.gpu;

import java.util.Comparator;

/** One ranked item: its id and its dot-product score against the query. */
public record ScoredId(long id, float score) {

  /** The ranking order: higher score first, then the smaller id. */
  public static final Comparator<ScoredId> RANKING =
      (a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Long.compare(a.id, b.id);
}
