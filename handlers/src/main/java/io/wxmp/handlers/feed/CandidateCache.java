package io.wxmp.handlers.feed;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.wxmp.gpu.ScoredId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Per user, the last top-K the ranking verticle returned for them, with what it was ranked from: the model version,
 * the catalogue snapshot's generation, the user vector (its exact floats) and the excluded ids of the request.
 *
 * <p>A later page whose version, generation and vector are the same and whose excluded set contains the cached one
 * reuses it: the cached top-K minus the newly excluded ids is <b>exactly</b> the top-(K − removed) of a fresh ranking
 * with the larger exclusion. (Proof: an item x not in the new exclusion and not among the cached K was beaten by all
 * K cached items; at most {@code removed} of them left, so K − removed items still rank above x, and x is not in the
 * fresh top-(K − removed); the tie order is the verticle's, (score, id), either way.) That holds for a full scan and,
 * on an IVF index, while the query's probe set is the same: its {@code nprobe} best lists, which are extended only
 * when they hold fewer rows than K plus the excluded ids (≈ 5,000 rows at 100,000 items and nprobe 16, so for any
 * user short of thousands of exclusions). A cached list shorter than K held every candidate there was (the
 * ranking ran out of rows), so its filtered copy is a fresh ranking's whole answer too.
 *
 * <p>The page needs its MMR window and the page itself with its spares ahead of whatever the merchant cap holds back;
 * when fewer than {@link #NEEDED} candidates would remain of a full top-K, the page ranks again (a miss). A click
 * folds into the user's vector ({@link FoldInListener}), so the next page misses and reflects it; a model swap changes
 * the version; a catalogue refresh that changed anything (an item added to the collection) changes the generation.
 * Entries also expire {@link #MAX_AGE} after they were ranked: a page that ranked in the moment between a refresh's
 * new snapshot and the collection's update from it is not kept for longer than that.
 *
 * <p>Thread-safe (pages of one user may run on different event loops); entries are immutable.
 */
public final class CandidateCache {
  /** Candidates a page reads at most with the largest page (50): the MMR window, the page and its spares. */
  static final int NEEDED = FeedService.MMR_WINDOW + 50 + FeedService.SPARE;
  static final Duration MAX_AGE = Duration.ofSeconds(60);

  /** One user's ranking: ids and scores best first, exclusion sorted. */
  private record Entry(String version, long generation, float[] vector, int k, long[] excluded, long[] ids,
      float[] scores) {}

  private final Cache<String, Entry> entries;
  private final Counter hits;
  private final Counter missNone;
  private final Counter missVector;
  private final Counter missModel;
  private final Counter missExcluded;
  private final Counter missShort;

  /** @param maxUsers users kept (least recently used go first); 0: no caching, every page ranks */
  public CandidateCache(int maxUsers, MeterRegistry metrics) {
    this.entries = maxUsers <= 0 ? null
        : Caffeine.newBuilder().maximumSize(maxUsers).expireAfterWrite(MAX_AGE).build();
    this.hits = Counter.builder("wxmp.feed.candidate.cache.hits")
        .description("personal feed pages whose candidates came from the user's cached ranking").register(metrics);
    this.missNone = miss(metrics, "none");
    this.missVector = miss(metrics, "vector");
    this.missModel = miss(metrics, "model");
    this.missExcluded = miss(metrics, "excluded");
    this.missShort = miss(metrics, "short");
  }

  private static Counter miss(MeterRegistry metrics, String reason) {
    return Counter.builder("wxmp.feed.candidate.cache.misses").tag("reason", reason)
        .description("personal feed pages that asked the ranking verticle: no entry, another vector, another model "
            + "version or catalogue, an exclusion the cached one is not part of, or too few candidates left")
        .register(metrics);
  }

  /**
   * The cached candidates of {@code userId} without the ids of {@code excluded}, best first, if they are the ranking a
   * fresh request would answer (see the class comment); else null, and the page ranks.
   */
  List<ScoredId> get(String userId, String version, long generation, float[] vector, int k, Set<Long> excluded) {
    Entry e = entries == null ? null : entries.getIfPresent(userId);
    if (e == null) {
      missNone.increment();
      return null;
    }
    if (!e.version().equals(version) || e.generation() != generation || e.k() != k) {
      missModel.increment();
      return null;
    }
    if (!Arrays.equals(e.vector(), vector)) { // the floats themselves (a fold-in changes some), not a hash
      missVector.increment();
      return null;
    }
    for (long id : e.excluded()) {
      if (!excluded.contains(id)) {
        missExcluded.increment();
        return null;
      }
    }
    List<ScoredId> out = new ArrayList<>(e.ids().length);
    for (int i = 0; i < e.ids().length; i++) {
      if (!excluded.contains(e.ids()[i])) {
        out.add(new ScoredId(e.ids()[i], e.scores()[i]));
      }
    }
    if (e.ids().length >= k && out.size() < NEEDED) {
      missShort.increment();
      return null;
    }
    hits.increment();
    return out;
  }

  /** Keeps what a ranking request answered: {@code exclude} is the request's (any order; copied). */
  void put(String userId, String version, long generation, float[] vector, int k, long[] exclude,
      List<ScoredId> scored) {
    if (entries == null) {
      return;
    }
    long[] ids = new long[scored.size()];
    float[] scores = new float[scored.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = scored.get(i).id();
      scores[i] = scored.get(i).score();
    }
    long[] ex = exclude.clone();
    Arrays.sort(ex);
    entries.put(userId, new Entry(version, generation, vector.clone(), k, ex, ids, scores));
  }

  /** Forgets one user's ranking (DELETE /me). */
  public void forget(String userId) {
    if (entries != null) {
      entries.invalidate(userId);
    }
  }

  /** Forgets every user's ranking (tests; an operator's reset). */
  public void clear() {
    if (entries != null) {
      entries.invalidateAll();
    }
  }
}
