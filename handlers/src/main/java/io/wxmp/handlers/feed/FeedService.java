package io.wxmp.handlers.feed;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.wxmp.gpu.RankingClient;
import io.wxmp.gpu.ScoredId;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.feed.FeedItems.Reason;
import io.wxmp.recsys.Mmr;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds feed pages. With a model and a user vector: candidates from the ranking verticle (owned, served and fatigued
 * items excluded in the request), re-ranked by MMR with a freshness boost and a soft per-merchant cap, with an
 * exploration share of items outside the trending set; without (no model, a cold user, personalisation off, or the
 * ranking verticle slow or overloaded): trending items, mixed with popular items of the user's interest tags, then the
 * rest of the catalogue newest first. Sponsored entries come from {@link SponsoredSlots}. The page is claimed in the
 * feed's served set in one Redis script, so pages of one feed never repeat an item.
 */
public final class FeedService {
  private static final Logger log = LoggerFactory.getLogger(FeedService.class);
  /** Candidates re-ranked by MMR (the rest keep their score order behind them). */
  static final int MMR_WINDOW = 100;
  /**
   * MMR's relevance: a softmax of the window's scores at temperature 2 score sd's (the offline choice that meets ILD@10
   * +4 % at NDCG@10 −1.3 %, docs/BENCHMARKS.md "Recommender offline evaluation" (b); min-max gave +2.9 % there).
   */
  static final Mmr.Options MMR_OPTIONS = new Mmr.Options(Mmr.Scaling.SOFTMAX, 2, false);
  /** Items younger than this get the freshness boost and the reason "new". */
  static final Duration FRESH = Duration.ofDays(7);
  static final double FRESHNESS_WEIGHT = 0.15;
  static final double FRESHNESS_TAU_HOURS = 72;
  static final int TRENDING_POOL = 500;
  /** Interest tags read for a cold page. */
  static final int COLD_TAGS = 5;
  /** Spare entries sent to the claim script beyond the page, to refill what a concurrent page took first. */
  static final int SPARE = 20;

  /**
   * @param candidates         how many items the ranking verticle returns per page (top-K), 50..1000
   * @param rankingTimeoutMs   after this the page is answered from trending instead
   * @param sponsoredTimeoutMs how long a page waits for sponsored entries
   * @param cachedUsers        users whose last ranking is kept for their next pages ({@link CandidateCache}); 0: none
   */
  public record Config(int candidates, long rankingTimeoutMs, long sponsoredTimeoutMs, int cachedUsers) {}

  private final Config config;
  private final Catalogue catalogue;
  private final ModelServing serving;
  private final RankingClient ranking;
  private final OnlineState online;
  private final UserVectors userVectors;
  private final ModelStore models;
  private final FeedRepository repo;
  private final FeedUsers users;
  private final Runnable refreshCatalogue;
  /** The generation a page last asked a catalogue refresh for (one refresh per generation seen). */
  private volatile String refreshAskedFor;
  private final FeedCursor cursors;
  private final byte[] tokenKey;
  private volatile SponsoredSlots sponsored;
  private volatile FeedExperiments experiments;
  private final Counter fallbacks;
  private final CandidateCache cache;
  private volatile Future<List<String>> trending;
  private volatile long trendingAt;
  /** The ids of the cached trending list, parsed once for all pages that read it. */
  private volatile TrendingIds trendingIds;

  public FeedService(Config config, Catalogue catalogue, ModelServing serving, RankingClient ranking,
      OnlineState online, UserVectors userVectors, ModelStore models, FeedRepository repo, FeedUsers users,
      Runnable refreshCatalogue, FeedCursor cursors, byte[] tokenKey, SponsoredSlots sponsored,
      FeedExperiments experiments, MeterRegistry metrics) {
    this.config = config;
    this.catalogue = catalogue;
    this.serving = serving;
    this.ranking = ranking;
    this.online = online;
    this.userVectors = userVectors;
    this.models = models;
    this.repo = repo;
    this.users = users;
    this.refreshCatalogue = refreshCatalogue;
    this.cursors = cursors;
    this.tokenKey = tokenKey;
    this.sponsored = sponsored;
    this.experiments = experiments;
    this.fallbacks = Counter.builder("wxmp.feed.ranking.fallbacks")
        .description("feed pages answered from trending because ranking failed or was slow").register(metrics);
    this.cache = new CandidateCache(config.cachedUsers(), metrics);
  }

  /** The users' cached rankings (tests clear it to make the next pages rank). */
  public CandidateCache candidateCache() {
    return cache;
  }

  /** Drops this server's copy of the trending list (kept a second): the next page reads it again (tests). */
  public void forgetTrending() {
    trending = null;
  }

  /** Where sponsored entries and experiment arms come from (the campaigns feature; tests). */
  void use(SponsoredSlots slots, FeedExperiments arms) {
    this.sponsored = slots;
    this.experiments = arms;
  }

  SponsoredSlots sponsored() {
    return sponsored;
  }

  FeedExperiments experiments() {
    return experiments;
  }

  /**
   * One entry of a page being built: its reason fixed, or (a ranked entry) worked out from {@code because} only when
   * the entry is rendered, so the few hundred candidates behind the page cost no similarity computations.
   */
  private record Entry(CatalogueItem item, Reason fixed, Because because) {
    Entry(CatalogueItem item, Reason reason) {
      this(item, reason, null);
    }

    Reason reason() {
      return fixed != null ? fixed : because.reasonFor(item);
    }
  }

  /**
   * The user's own items a "similar" reason may name, with their vectors in the page's model and their norms. The
   * vectors are kept by component, eight items side by side, so one pass over an item's vector computes eight dot
   * products in eight independent sums (each the same sum, in the same order, as {@link Vectors#dot}: the same reason
   * as one cosine at a time, in about half the time of one dot product after another).
   */
  static final class Because {
    private static final int LANES = 8;
    private final ServingModel model;
    private final CatalogueItem[] items;
    private final float[] norms;
    /** Items per component, {@link #LANES} at a time (the last lanes zero). */
    private final int width;
    /** {@code byComponent[d * width + i]}: component d of item i's vector. */
    private final float[] byComponent;

    Because(ServingModel model, List<CatalogueItem> items, List<float[]> vectors, float[] norms) {
      this.model = model;
      this.items = items.toArray(new CatalogueItem[0]);
      this.norms = norms;
      int n = this.items.length;
      int dim = n == 0 ? 0 : vectors.get(0).length;
      this.width = (n + LANES - 1) / LANES * LANES;
      this.byComponent = new float[dim * width];
      for (int i = 0; i < n; i++) {
        float[] v = vectors.get(i);
        for (int d = 0; d < dim; d++) {
          byComponent[d * width + i] = v[d];
        }
      }
    }

    /** Item i's dot product with v, for every item, as {@link Vectors#dot} sums it. */
    private float[] dots(float[] v) {
      float[] dots = new float[width];
      float[] b = byComponent;
      for (int i = 0; i < width; i += LANES) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (int d = 0, at = i; d < v.length; d++, at += width) {
          float x = v[d];
          s0 += x * b[at];
          s1 += x * b[at + 1];
          s2 += x * b[at + 2];
          s3 += x * b[at + 3];
          s4 += x * b[at + 4];
          s5 += x * b[at + 5];
          s6 += x * b[at + 6];
          s7 += x * b[at + 7];
        }
        dots[i] = s0;
        dots[i + 1] = s1;
        dots[i + 2] = s2;
        dots[i + 3] = s3;
        dots[i + 4] = s4;
        dots[i + 5] = s5;
        dots[i + 6] = s6;
        dots[i + 7] = s7;
      }
      return dots;
    }

    Reason reasonFor(CatalogueItem item) {
      return reasonFor(item, model == null ? null : model.vector(item.id()));
    }

    /** Similar, because of the user's own item most like this one; "new" or "explore" when nothing is alike. */
    Reason reasonFor(CatalogueItem item, float[] v) {
      int n = items.length;
      CatalogueItem best = null;
      if (v != null && n > 0) {
        float[] dots = dots(v);
        float norm = Vectors.norm(v);
        float bestCos = 0;
        for (int i = 0; i < n; i++) {
          if (items[i].id() == item.id()) {
            continue;
          }
          // Vectors.cosine with both norms computed once (the same values)
          float nn = norm * norms[i];
          float c = nn == 0 ? 0 : dots[i] / nn;
          if (best == null || c > bestCos) {
            best = items[i];
            bestCos = c;
          }
        }
        if (best != null && bestCos > 0) {
          return new Reason("similar", best, null);
        }
      }
      return isFresh(item, Instant.now()) ? Reason.NEW : Reason.EXPLORE;
    }
  }

  /**
   * What one page request knows once its reads are back; {@code storedVector} and {@code recentTags} were asked for
   * with the first reads (one round trip fewer on the way to ranking), and are used only where the page needs them.
   */
  private record Context(String userId, String feedId, boolean newFeed, FeedRepository.UserState user,
      Set<Long> excluded, List<String> trending, FeedParams params, FeedExperiments.Arm arm, ServingModel model,
      Catalogue.Snapshot snap, Future<UserVectors.Stored> storedVector, Future<Set<String>> recentTags,
      String catalogueAt, List<io.vertx.redis.client.Response> sponsoredAnswers) {}

  /** A page with no cached reads: the user's state from PostgreSQL, every item checked there. */
  public Future<String> page(long userIdLong, int limit, String cursorPosition) {
    return page(userIdLong, limit, cursorPosition, Future.succeededFuture(new ProfileCache.Lookup(null, null)),
        Future.succeededFuture());
  }

  /**
   * @param cachedUser the user's {@link ProfileCache#feedRead} (read with the session)
   * @param catalogueAt the {@link CatalogueGeneration} read with the session (null: none); a page whose catalogue
   *                    copy was read at it serves without checking its items in PostgreSQL
   */
  public Future<String> page(long userIdLong, int limit, String cursorPosition,
      Future<ProfileCache.Lookup> cachedUser, Future<String> catalogueAt) {
    return page(userIdLong, limit, cursorPosition, cachedUser, catalogueAt, null);
  }

  /**
   * @param sponsoredAnswers the replies to the sponsored slots' {@link SponsoredSlots#firstReads}, read with the
   *                         session (null: not sent)
   */
  public Future<String> page(long userIdLong, int limit, String cursorPosition,
      Future<ProfileCache.Lookup> cachedUser, Future<String> catalogueAt,
      List<io.vertx.redis.client.Response> sponsoredAnswers) {
    String userId = Long.toString(userIdLong);
    boolean newFeed = cursorPosition == null;
    String feedId = newFeed ? FeedToken.newTokenId() : FeedCursor.feedId(cursorPosition);
    ServingModel model = serving.current();
    Catalogue.Snapshot snap = catalogue.snapshot();
    Future<FeedRepository.UserState> user = users.user(userIdLong, cachedUser);
    Future<String> at = catalogueAt.otherwise((String) null);
    // the user's reads (impressions, recent tags, the stored vector, the feed's served set) in one script: their keys
    // share the user's hash tag, so it is one round trip on a single Redis and in Redis Cluster alike
    Future<OnlineState.PageState> state = online.pageState(userId, model == null ? null : UserVectors.key(userId),
        newFeed ? null : FeedCursor.key(userId, feedId));
    Future<Set<String>> served = newFeed ? Future.succeededFuture(Set.of())
        : state.compose(s -> FeedCursor.served(s.members()));
    Future<Map<String, Integer>> unclicked = state.map(OnlineState.PageState::unclicked);
    Future<FeedExperiments.Arm> arm = experiments.armFor(userId).timeout(config.sponsoredTimeoutMs(),
        TimeUnit.MILLISECONDS).recover(e -> Future.succeededFuture(null));
    Future<List<String>> popular = trending();
    Future<UserVectors.Stored> storedVector = model == null ? Future.succeededFuture()
        : state.map(s -> s.got() == null ? null : UserVectors.parse(s.got()));
    Future<Set<String>> recentTags = state.<Set<String>>map(OnlineState.PageState::recentTags)
        .recover(e -> Future.succeededFuture(Set.of()));
    return Future.all(List.of(user, served, unclicked, arm, popular, at)).compose(all -> {
      FeedExperiments.Arm a = arm.result();
      FeedParams params = a == null || a.params() == null ? FeedParams.defaults() : a.params();
      Set<Long> excluded = new HashSet<>(user.result().owned());
      for (String s : served.result()) {
        excluded.add(Long.parseLong(s));
      }
      unclicked.result().forEach((item, n) -> {
        if (n >= params.fatigueImpressions()) {
          try {
            excluded.add(Long.parseLong(item));
          } catch (NumberFormatException ignored) {
            // not an item id of ours
          }
        }
      });
      // Only the current version is loaded: an arm that names another version is served the current one.
      Context ctx = new Context(userId, feedId, newFeed, user.result(), excluded, popular.result(), params, a, model,
          snap, storedVector, recentTags, at.result(), sponsoredAnswers);
      return candidates(ctx).compose(c -> assemble(ctx, c, limit));
    });
  }

  /** The ordered organic entries of a page (more than a page: spares follow), and the vector behind them if any. */
  private record Candidates(List<Entry> entries, UserVectors.Stored vector, Set<String> tags) {}

  private Future<Candidates> candidates(Context ctx) {
    if (!ctx.user().personalised()) {
      return Future.succeededFuture(new Candidates(coldEntries(ctx, Set.of(), ctx.excluded()), null, Set.of()));
    }
    return userVector(ctx).compose(vec -> {
      if (vec == null || ctx.model() == null) {
        return coldTags(ctx).map(tags -> new Candidates(coldEntries(ctx, tags, ctx.excluded()), null, tags));
      }
      ServingModel m = ctx.model();
      long generation = ctx.snap().generation();
      int k = config.candidates();
      // the user's ranking depends only on the version, the catalogue, the vector and the exclusion: a page of the
      // same ones, excluding more, filters the cached top-K (exactly the fresh top-(K - removed); CandidateCache)
      List<ScoredId> cached = cache.get(ctx.userId(), m.version(), generation, vec.vector(), k, ctx.excluded());
      if (cached != null) {
        return Future.succeededFuture(new Candidates(personalEntries(ctx, vec, cached), vec, Set.of()));
      }
      long[] exclude = ctx.excluded().stream().mapToLong(Long::longValue).toArray();
      return ranking.topK(m.collection(), vec.vector(), k, exclude)
          .timeout(config.rankingTimeoutMs(), TimeUnit.MILLISECONDS)
          .map(scored -> {
            cache.put(ctx.userId(), m.version(), generation, vec.vector(), k, exclude, scored);
            return new Candidates(personalEntries(ctx, vec, scored), vec, Set.of());
          })
          .recover(e -> {
            fallbacks.increment();
            log.warn("feed ranking failed or slow ({}); answering from trending", e.toString());
            return Future.succeededFuture(new Candidates(coldEntries(ctx, Set.of(), ctx.excluded()), vec, Set.of()));
          });
    });
  }

  /**
   * A cold user's interest tags: the online state's recent ones (their events' items and quiz answers), else the quiz
   * answers kept in PostgreSQL (the online state expired or lost them).
   */
  private Future<Set<String>> coldTags(Context ctx) {
    return ctx.recentTags().compose(tags ->
        !tags.isEmpty() ? Future.succeededFuture(tags)
            : repo.interestTags(Long.parseLong(ctx.userId()), COLD_TAGS).recover(e -> Future.succeededFuture(Set.of())));
  }

  /** The user's vector in the page's model: folded in after their events, else now from history, else trained. */
  private Future<UserVectors.Stored> userVector(Context ctx) {
    ServingModel m = ctx.model();
    if (m == null) {
      return Future.succeededFuture(null);
    }
    return ctx.storedVector().compose(stored -> {
      if (stored != null && m.version().equals(stored.version())) {
        return Future.succeededFuture(stored);
      }
      return online.history(ctx.userId()).compose(h -> {
        float[] v = h.itemIds().isEmpty() ? null : m.foldIn(h.itemIds(), h.strengths());
        if (v != null) {
          UserVectors.Stored s = new UserVectors.Stored(m.version(), v, FoldInListener.strongest(h));
          userVectors.put(ctx.userId(), s).onFailure(e -> log.debug("storing a folded-in vector failed", e));
          return Future.succeededFuture(s);
        }
        return models.userVector(m.modelId(), Long.parseLong(ctx.userId())).map(trained -> {
          if (trained == null) {
            return null;
          }
          // kept in Redis with the version, so the user's next pages need no PostgreSQL read for it
          UserVectors.Stored s = new UserVectors.Stored(m.version(), trained.vector(), trained.becauseOf());
          userVectors.put(ctx.userId(), s).onFailure(e -> log.debug("storing a trained vector failed", e));
          return s;
        });
      });
    });
  }

  private List<Entry> personalEntries(Context ctx, UserVectors.Stored vec, List<ScoredId> scored) {
    ServingModel m = ctx.model();
    Catalogue.Snapshot snap = ctx.snap();
    List<CatalogueItem> items = new ArrayList<>(scored.size());
    // the window's scores (unboxed): only those are read
    float[] scores = new float[Math.min(MMR_WINDOW, scored.size())];
    for (ScoredId s : scored) {
      CatalogueItem item = snap.get(s.id());
      if (item != null && !ctx.excluded().contains(s.id())) {
        if (items.size() < scores.length) {
          scores[items.size()] = s.score();
        }
        items.add(item);
      }
    }
    int n = items.size();
    int window = Math.min(MMR_WINDOW, n);
    long nowMs = System.currentTimeMillis();
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < window; i++) {
      min = Math.min(min, scores[i]);
      max = Math.max(max, scores[i]);
    }
    float[] relevance = new float[window];
    float[][] vectors = new float[window][];
    for (int i = 0; i < window; i++) {
      double scaled = max > min ? (scores[i] - min) / (max - min) : 1;
      // whole minutes of age, as Duration.between(createdAt, now).toMinutes() (0 for an item dated in the future)
      long ageMinutes = Math.max(0, nowMs - items.get(i).createdAt().toEpochMilli()) / 60_000;
      double ageHours = ageMinutes / 60.0;
      relevance[i] = (float) (scaled + FRESHNESS_WEIGHT * Math.exp(-ageHours / FRESHNESS_TAU_HOURS));
      float[] v = m.vector(items.get(i).id());
      vectors[i] = v == null ? new float[m.dim()] : v;
    }
    Mmr.Picks order = Mmr.picks(relevance, vectors, ctx.params().mmrLambda(), MMR_OPTIONS);
    List<CatalogueItem> because = new ArrayList<>();
    List<float[]> becauseVectors = new ArrayList<>();
    float[] norms = new float[vec.becauseOf().size()];
    for (String id : vec.becauseOf()) {
      long itemId = Long.parseLong(id);
      CatalogueItem b = snap.get(itemId);
      float[] bv = b == null ? null : m.vector(itemId);
      float norm = bv == null ? 0 : Vectors.norm(bv); // once per item (it was worked out twice)
      if (norm > 0) {
        norms[because.size()] = norm;
        because.add(b);
        becauseVectors.add(bv);
      }
    }
    float[] becauseNorms = java.util.Arrays.copyOf(norms, because.size());
    return new Ranked(items, order, new Because(m, because, becauseVectors, becauseNorms));
  }

  /**
   * The personal candidates in page order: the MMR window in the order of its picks, each picked only when the page
   * reads that far (a page reads its own entries, its spares and what the merchant cap holds back: a fraction of the
   * window), then the rest of the candidates in score order.
   */
  private static final class Ranked extends AbstractList<Entry> implements RandomAccess {
    private final List<CatalogueItem> items;
    private final Mmr.Picks picks;
    private final Because because;
    private final Entry[] entries;

    Ranked(List<CatalogueItem> items, Mmr.Picks picks, Because because) {
      this.items = items;
      this.picks = picks;
      this.because = because;
      this.entries = new Entry[items.size()];
    }

    @Override
    public Entry get(int index) {
      Objects.checkIndex(index, entries.length);
      while (index >= picks.picked() && index < picks.size()) {
        int at = picks.picked();
        entries[at] = new Entry(items.get(picks.next()), null, because);
      }
      if (entries[index] == null) {
        entries[index] = new Entry(items.get(index), null, because); // behind the window: score order
      }
      return entries[index];
    }

    @Override
    public int size() {
      return entries.length;
    }
  }

  /**
   * Without a model or a vector: trending (alternating with popular items of the user's tags, if any), then every
   * other eligible item newest first. Only as many as a page and its spares need are built.
   */
  private List<Entry> coldEntries(Context ctx, Set<String> tags, Set<Long> excluded) {
    Catalogue.Snapshot snap = ctx.snap();
    int want = 50 + 2 * SPARE;
    Set<Long> used = new HashSet<>();
    List<Entry> trendingEntries = new ArrayList<>();
    Map<Long, Integer> trendRank = new HashMap<>();
    for (String id : ctx.trending()) {
      Long itemId = parse(id);
      if (itemId == null) {
        continue;
      }
      trendRank.putIfAbsent(itemId, trendRank.size());
      CatalogueItem item = snap.get(itemId);
      if (item != null && !excluded.contains(itemId) && trendingEntries.size() < want) {
        trendingEntries.add(new Entry(item, Reason.TRENDING));
      }
    }
    List<Entry> tagEntries = new ArrayList<>();
    for (String tag : tags) {
      List<CatalogueItem> withTag = new ArrayList<>(snap.byTag().getOrDefault(tag, List.of()));
      withTag.sort((a, b) -> Integer.compare(trendRank.getOrDefault(a.id(), Integer.MAX_VALUE),
          trendRank.getOrDefault(b.id(), Integer.MAX_VALUE))); // stable: newest first among equals
      int taken = 0;
      for (CatalogueItem item : withTag) {
        if (taken >= want / Math.max(1, tags.size()) + 2) {
          break;
        }
        if (!excluded.contains(item.id())) {
          tagEntries.add(new Entry(item, new Reason("popular_with_tag", null, tag)));
          taken++;
        }
      }
    }
    List<Entry> out = new ArrayList<>();
    int ti = 0;
    int gi = 0;
    while ((ti < tagEntries.size() || gi < trendingEntries.size()) && out.size() < want) {
      if (ti < tagEntries.size()) {
        addOnce(out, used, tagEntries.get(ti++));
      }
      if (gi < trendingEntries.size()) {
        addOnce(out, used, trendingEntries.get(gi++));
      }
    }
    Instant now = Instant.now();
    for (CatalogueItem item : snap.newestFirst()) {
      if (out.size() >= want) {
        break;
      }
      if (!excluded.contains(item.id()) && !used.contains(item.id())) {
        out.add(new Entry(item, isFresh(item, now) ? Reason.NEW : Reason.EXPLORE));
        used.add(item.id());
      }
    }
    return out;
  }

  private static void addOnce(List<Entry> out, Set<Long> used, Entry e) {
    if (used.add(e.item().id())) {
      out.add(e);
    }
  }

  /** Mixes exploration in, asks for sponsored entries, checks eligibility, claims the page and renders it. */
  private Future<String> assemble(Context ctx, Candidates candidates, int limit) {
    List<Entry> organic = candidates.entries();
    FeedParams params = ctx.params();
    List<Entry> ordered = withExploration(ctx, capMerchants(organic, limit, params.perMerchantCap()), limit,
        limit + SPARE);
    // the page and its spares, read here (with the MMR picks they need) and not on whatever thread answers the ads
    List<Entry> head = new ArrayList<>(ordered.subList(0, Math.min(ordered.size(), limit + SPARE)));
    Future<List<SponsoredSlots.Entry>> ads = params.sponsoredSlots()
        ? sponsoredFor(ctx, candidates, limit) : Future.succeededFuture(List.of());
    return ads.compose(adEntries -> {
      List<SponsoredSlots.Entry> validAds = new ArrayList<>();
      Set<Long> adItems = new HashSet<>();
      for (SponsoredSlots.Entry ad : adEntries) {
        Long id = parse(ad.itemId());
        if (id != null && ctx.snap().eligible(id) && !ctx.excluded().contains(id) && adItems.add(id)
            && validAds.size() < Math.max(1, limit / 10)) {
          validAds.add(ad);
        }
      }
      long[] check = new long[head.size() + validAds.size()];
      int c = 0;
      for (Entry e : head) {
        check[c++] = e.item().id();
      }
      for (SponsoredSlots.Entry ad : validAds) {
        check[c++] = Long.parseLong(ad.itemId());
      }
      return eligible(ctx, check).compose(eligible -> {
        List<Entry> organicOk = new ArrayList<>();
        for (Entry e : head) {
          if (eligible.contains(e.item().id()) && !adItems.contains(e.item().id())) {
            organicOk.add(e);
          }
        }
        List<SponsoredSlots.Entry> adsOk = validAds.stream()
            .filter(ad -> eligible.contains(Long.parseLong(ad.itemId()))).toList();
        return cursors.claim(ctx.userId(), ctx.feedId(), limit,
                adsOk.stream().map(SponsoredSlots.Entry::itemId).toList(),
                organicOk.stream().map(e -> Long.toString(e.item().id())).toList())
            .map(claimed -> {
              releaseUnshown(ctx, adEntries, adsOk, claimed);
              return render(ctx, organicOk, adsOk, claimed);
            });
      });
    });
  }

  /**
   * Which of the page's items may be served: all of them (they come from the snapshot) while the snapshot is current
   * at the page's catalogue generation; otherwise those PostgreSQL says are eligible now, and the catalogue is
   * refreshed (once per generation a page sees).
   */
  private Future<Set<Long>> eligible(Context ctx, long[] check) {
    if (ctx.snap().currentAt(ctx.catalogueAt())) {
      Set<Long> all = new HashSet<>(check.length * 2);
      for (long id : check) {
        all.add(id);
      }
      return Future.succeededFuture(all);
    }
    String at = ctx.catalogueAt();
    if (at != null && !at.equals(refreshAskedFor)) {
      refreshAskedFor = at;
      refreshCatalogue.run();
    }
    return catalogue.eligibleNow(check);
  }

  /** Gives back what the sponsored entries that this page does not show hold (not awaited: they lapse anyway). */
  private void releaseUnshown(Context ctx, List<SponsoredSlots.Entry> all, List<SponsoredSlots.Entry> claimable,
      FeedCursor.Claimed claimed) {
    Set<SponsoredSlots.Entry> shown = new HashSet<>();
    for (int i = 0; i < claimable.size(); i++) {
      if (claimed.sponsored().get(i)) {
        shown.add(claimable.get(i));
      }
    }
    List<SponsoredSlots.Entry> unused = all.stream().filter(e -> !shown.contains(e)).toList();
    if (!unused.isEmpty()) {
      sponsored.release(ctx.userId(), unused);
    }
  }

  private Future<List<SponsoredSlots.Entry>> sponsoredFor(Context ctx, Candidates candidates, int limit) {
    Set<String> exclude = new HashSet<>();
    ctx.excluded().forEach(id -> exclude.add(Long.toString(id)));
    boolean personal = ctx.user().personalised();
    // tags for targeting: those the cold path read, else the user's recent ones (none without personalisation)
    // (on the page's context, so that the timeout below is set and cancelled on its event loop: a future of no
    // context has it done on Netty's global executor thread)
    ContextInternal here = ContextInternal.current();
    Future<Set<String>> tags = personal && candidates.tags().isEmpty() && candidates.vector() != null
        ? ctx.recentTags()
        : here == null ? Future.succeededFuture(personal ? candidates.tags() : Set.of())
        : here.succeededFuture(personal ? candidates.tags() : Set.of());
    SponsoredSlots slots = sponsored;
    Future<List<SponsoredSlots.Entry>> filled = tags.compose(t -> {
      float[] v = personal && candidates.vector() != null ? candidates.vector().vector() : null;
      SponsoredSlots.Request r = new SponsoredSlots.Request(ctx.userId(), personal, t, ctx.user().joinedAt(), v,
          exclude, limit, ctx.params(), strings(ctx.user().owned()), strings(ctx.user().memberOf()),
          ctx.sponsoredAnswers());
      return slots.fill(r);
    });
    return filled.timeout(config.sponsoredTimeoutMs(), TimeUnit.MILLISECONDS)
        .recover(e -> {
          log.debug("sponsored slots failed: {}", e.toString());
          // entries that come after the page stopped waiting are never shown: what they hold goes back
          filled.onSuccess(late -> slots.release(ctx.userId(), late));
          return Future.succeededFuture(List.of());
        });
  }

  /**
   * At most {@code cap} items of one merchant among the first {@code limit} entries; the ones held back follow the
   * page (soft: they fill it when nothing else can).
   */
  static List<Entry> capMerchants(List<Entry> entries, int limit, int cap) {
    List<Entry> page = new ArrayList<>();
    List<Entry> held = new ArrayList<>();
    Map<Long, Integer> perMerchant = new HashMap<>();
    int next = 0;
    while (page.size() < limit && next < entries.size()) {
      Entry e = entries.get(next++);
      int n = perMerchant.merge(e.item().merchantId(), 1, Integer::sum);
      if (n > cap) {
        held.add(e);
      } else {
        page.add(e);
      }
    }
    // held-back items go right after the page, before the rest, so a short catalogue still fills the page
    page.addAll(held);
    // the rest as a view, read only as far as the page reads it (ranked entries are picked when read)
    return concat(page, entries.subList(next, entries.size()));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    if (b.isEmpty()) {
      return a;
    }
    return new AbstractList<>() {
      @Override
      public T get(int index) {
        return index < a.size() ? a.get(index) : b.get(index - a.size());
      }

      @Override
      public int size() {
        return a.size() + b.size();
      }
    };
  }

  /**
   * Puts {@code round(limit × explorationShare)} items outside the trending set and outside the ranked head at
   * evenly spaced positions (new items first, then a seeded random pick of the rest of the newest), labelled new or
   * explore.
   */
  private List<Entry> withExploration(Context ctx, List<Entry> ordered, int limit, int want) {
    int slots = (int) Math.round(limit * ctx.params().explorationShare());
    if (slots == 0 || ordered.size() <= limit) {
      return ordered;
    }
    Set<Long> inHead = new HashSet<>();
    for (int i = 0; i < Math.min(limit, ordered.size()); i++) {
      inHead.add(ordered.get(i).item().id());
    }
    Set<Long> trendingIds = trendingIds(ctx.trending());
    List<CatalogueItem> pool = new ArrayList<>();
    for (CatalogueItem item : ctx.snap().newestFirst()) {
      if (pool.size() >= 10 * slots) {
        break;
      }
      if (!inHead.contains(item.id()) && !trendingIds.contains(item.id()) && !ctx.excluded().contains(item.id())) {
        pool.add(item);
      }
    }
    if (pool.isEmpty()) {
      return ordered;
    }
    SplittableRandom random = new SplittableRandom(ctx.feedId().hashCode() * 31L + ctx.excluded().size());
    Instant now = Instant.now();
    List<Entry> explore = new ArrayList<>();
    List<CatalogueItem> fresh = pool.stream().filter(i -> isFresh(i, now)).toList();
    List<CatalogueItem> rest = new ArrayList<>(pool.stream().filter(i -> !isFresh(i, now)).toList());
    for (CatalogueItem i : fresh) {
      if (explore.size() < slots) {
        explore.add(new Entry(i, Reason.NEW));
      }
    }
    while (explore.size() < slots && !rest.isEmpty()) {
      explore.add(new Entry(rest.remove(random.nextInt(rest.size())), Reason.EXPLORE));
    }
    Set<Long> exploreIds = new HashSet<>();
    explore.forEach(e -> exploreIds.add(e.item().id()));
    // Only the first `want` entries of the result are read: as many of the rest as fill them with the explore items
    // (the ranked ones are picked only when read).
    List<Entry> base = new ArrayList<>();
    for (int i = 0; i < ordered.size() && base.size() < want - explore.size(); i++) {
      Entry e = ordered.get(i);
      if (!exploreIds.contains(e.item().id())) {
        base.add(e);
      }
    }
    List<Entry> out = new ArrayList<>(base.size() + explore.size());
    int next = 0;
    for (int j = 0; j < explore.size(); j++) {
      int position = (j + 1) * limit / (explore.size() + 1);
      while (out.size() < position && next < base.size()) {
        out.add(base.get(next++));
      }
      out.add(explore.get(j));
    }
    out.addAll(base.subList(next, base.size()));
    return out;
  }

  /**
   * The page's answer, written as JSON text: the same characters as the JsonObject of {@link FeedItems#json} items
   * and {@code nextCursor} encoded, without building and encoding one.
   */
  private String render(Context ctx, List<Entry> organic, List<SponsoredSlots.Entry> ads,
      FeedCursor.Claimed claimed) {
    Map<String, Entry> byId = new HashMap<>(organic.size() * 2);
    organic.forEach(e -> byId.put(Long.toString(e.item().id()), e));
    List<Object> page = new ArrayList<>();
    for (String id : claimed.organic()) {
      page.add(byId.get(id));
    }
    List<SponsoredSlots.Entry> placed = new ArrayList<>();
    for (int i = 0; i < ads.size(); i++) {
      if (claimed.sponsored().get(i)) {
        placed.add(ads.get(i));
      }
    }
    placed.sort((a, b) -> Integer.compare(a.position(), b.position()));
    for (SponsoredSlots.Entry ad : placed) {
      page.add(Math.max(0, Math.min(ad.position(), page.size())), ad);
    }
    long now = System.currentTimeMillis();
    String version = ctx.model() == null ? null : ctx.model().version();
    String experimentId = ctx.arm() == null ? null : ctx.arm().experimentId();
    String armName = ctx.arm() == null ? null : ctx.arm().arm();
    String[] tokenIds = FeedToken.newTokenIds(page.size());
    long[] shown = new long[page.size()];
    StringBuilder out = new StringBuilder(1024 * page.size() + 64).append("{\"items\":[");
    for (int position = 0; position < page.size(); position++) {
      Object o = page.get(position);
      CatalogueItem item;
      Reason reason;
      String campaignId = null;
      if (o instanceof SponsoredSlots.Entry ad) {
        item = ctx.snap().get(Long.parseLong(ad.itemId()));
        reason = Reason.SPONSORED;
        campaignId = ad.campaignId();
      } else {
        Entry e = (Entry) o;
        item = e.item();
        reason = e.reason();
      }
      shown[position] = item.id();
      FeedToken token = new FeedToken(tokenIds[position], ctx.userId(), Long.toString(item.id()), position,
          reason.kind(), campaignId, experimentId, armName, version, now);
      FeedItems.write(position == 0 ? out : out.append(','), item,
          FeedItems.locked(item, ctx.user().owned(), ctx.user().memberOf()), campaignId, reason, token.sign(tokenKey));
    }
    boolean more = !page.isEmpty() && anotherPage(ctx.snap(), ctx.excluded(), shown);
    JsonText.string(JsonText.name(out.append("],"), "nextCursor"), more ? FeedCursor.cursor(ctx.feedId()) : null);
    return out.append('}').toString();
  }

  /**
   * Whether some eligible item is neither excluded nor shown now. Counted only when the excluded and shown items
   * together are as many as the catalogue's (else some eligible item is surely left): a page no longer walks every
   * excluded id.
   */
  static boolean anotherPage(Catalogue.Snapshot snap, Set<Long> excluded, long[] shown) {
    long eligible = snap.items().size();
    if (eligible > (long) excluded.size() + shown.length) {
      return true;
    }
    long gone = 0;
    for (Long id : excluded) {
      if (snap.eligible(id)) {
        gone++;
      }
    }
    Set<Long> counted = new HashSet<>();
    for (long id : shown) {
      if (!excluded.contains(id) && counted.add(id) && snap.eligible(id)) {
        gone++;
      }
    }
    return eligible - gone > 0;
  }

  /** A trending list's item ids, parsed once per list: every page of the second that list is cached shares it. */
  private record TrendingIds(List<String> of, Set<Long> ids) {}

  private Set<Long> trendingIds(List<String> trending) {
    TrendingIds t = trendingIds;
    if (t == null || t.of() != trending) {
      Set<Long> ids = new HashSet<>();
      for (String s : trending) {
        Long id = parse(s);
        if (id != null) {
          ids.add(id);
        }
      }
      t = new TrendingIds(trending, java.util.Collections.unmodifiableSet(ids));
      trendingIds = t;
    }
    return t.ids();
  }

  private Future<List<String>> trending() {
    long now = System.currentTimeMillis();
    Future<List<String>> before = trending;
    if (before != null && now - trendingAt <= 1_000) {
      return before;
    }
    trendingAt = now;
    Future<List<String>> next = online.trending(TRENDING_POOL).recover(e -> Future.succeededFuture(
        before == null || !before.succeeded() ? List.of() : before.result()));
    trending = next;
    return next;
  }

  static boolean isFresh(CatalogueItem item, Instant now) {
    return item.createdAt().isAfter(now.minus(FRESH));
  }

  private static Long parse(String id) {
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Set<String> strings(Set<Long> ids) {
    Set<String> out = new HashSet<>(ids.size() * 2);
    ids.forEach(id -> out.add(Long.toString(id)));
    return out;
  }
}
