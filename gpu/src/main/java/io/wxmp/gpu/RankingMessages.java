package io.wxmp.gpu;

import java.util.List;

/** The records that travel on the ranking addresses (each with a registered codec, see {@link RankingCodecs}). */
public final class RankingMessages {
  private RankingMessages() {}

  /** Asks for the k best items of collection for one query; exclude may be empty. */
  public record TopKRequest(String collection, float[] query, int k, long[] exclude) {}

  /** The answer to a {@link TopKRequest}, best first. */
  public record TopKReply(List<ScoredId> items) {}

  public record UpsertRequest(String collection, long id, float[] vector) {}

  public record RemoveRequest(String collection, long id) {}

  /** Replaces a whole collection. */
  public record LoadRequest(String collection, long[] ids, float[][] vectors) {}
}
