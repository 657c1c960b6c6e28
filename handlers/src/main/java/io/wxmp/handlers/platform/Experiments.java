package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.feed.FeedExperiments;
import io.wxmp.handlers.feed.FeedParams;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Feed experiments: the rules of {@code /platform/experiments*} (status draft → running → stopped, arms frozen once
 * running, one running at a time), the feed's {@link FeedExperiments} (the running experiment, cached for a second,
 * and the user's stable arm) and an {@link EventListener} that counts each token's impression and click once per arm.
 */
public final class Experiments implements FeedExperiments, EventListener {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Map<String, Set<String>> MOVES = Map.of(
      "draft", Set.of("running", "stopped"),
      "running", Set.of("stopped"),
      "stopped", Set.of());
  /** How long a server keeps the running experiment before asking PostgreSQL again. */
  static final long CACHE_MS = 1_000;
  /** The oldest cached answer given while a reload is under way. */
  static final long STALE_MS = 30_000;

  private final ExperimentRepository repository;
  private final Clock clock;
  private volatile Cached cached;
  private volatile Future<Experiment> loading;
  private final java.util.concurrent.atomic.AtomicLong generations = new java.util.concurrent.atomic.AtomicLong();

  private record Cached(Experiment running, long atMs) {}

  public Experiments(ExperimentRepository repository, Clock clock) {
    this.repository = repository;
    this.clock = clock;
  }

  public ExperimentRepository repository() {
    return repository;
  }

  // ---- FeedExperiments ----

  @Override
  public Future<Arm> armFor(String userId) {
    return running().map(e -> {
      if (e == null || userId == null) {
        return null;
      }
      Experiment.Arm arm = e.armOf(userId);
      return new Arm(Long.toString(e.id()), arm.name(), arm.params());
    });
  }

  /**
   * The running experiment, from a cache at most {@link #CACHE_MS} old; one reload at a time. While a reload is under
   * way a cached answer up to {@link #STALE_MS} old is given instead of waiting, so a slow database delays a start or
   * a stop by a moment rather than sending pages out without their arm (the feed does not wait long for it).
   */
  Future<Experiment> running() {
    long now = clock.millis();
    Cached c = cached;
    if (c != null && now - c.atMs() < CACHE_MS) {
      return Future.succeededFuture(c.running());
    }
    Future<Experiment> inFlight = loading;
    if (inFlight == null) {
      long generation = generations.get();
      Future<Experiment> load = repository.running().onSuccess(e -> {
            if (generations.get() == generation) { // not read before a change this server made meanwhile
              cached = new Cached(e, clock.millis());
            }
          })
          .eventually(() -> {
            loading = null;
            return Future.succeededFuture();
          });
      loading = load;
      inFlight = load;
    }
    if (c != null && now - c.atMs() < STALE_MS && !inFlight.isComplete()) {
      return Future.succeededFuture(c.running());
    }
    return inFlight;
  }

  /** Forgets the cached running experiment (this server changed it). */
  void invalidate() {
    generations.incrementAndGet();
    cached = null;
    loading = null;
  }

  // ---- EventListener ----

  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events) {
    Long user = Ids.parseOrNull(userId);
    if (user == null) {
      return Future.succeededFuture();
    }
    List<Future<Void>> writes = new ArrayList<>();
    for (Accepted e : events) {
      var t = e.token();
      if (t == null || t.experimentId() == null || t.arm() == null
          || !("impression".equals(e.type()) || "click".equals(e.type()))
          || !userId.equals(t.userId()) || !e.itemId().equals(t.itemId())) {
        continue;
      }
      Long experiment = Ids.parseOrNull(t.experimentId());
      Long item = Ids.parseOrNull(e.itemId());
      if (experiment == null || item == null) {
        continue;
      }
      writes.add(repository.record(experiment, t.arm(), t.tokenId(), e.type(), user, item,
          OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)).recover(failure -> Future.succeededFuture()));
    }
    return Future.join(writes).mapEmpty();
  }

  // ---- rules ----

  public Future<Experiment> create(String name, List<Experiment.Arm> arms, String status) {
    return create(null, name, arms, status);
  }

  /** {@code who} null writes no audit entry (a caller that is not an operator's request). */
  public Future<Experiment> create(Audit.Who who, String name, List<Experiment.Arm> arms, String status) {
    if (!status.equals("draft") && !status.equals("running")) {
      throw ApiException.invalid(new JsonObject().put("status", "a new experiment is draft or running"));
    }
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return repository.pool().withTransaction(tx -> repository.insert(tx, name, Experiment.armsJson(arms),
            HexFormat.of().formatHex(salt), status)
        .compose(e -> who == null ? Future.succeededFuture(e)
            : Audit.record(tx, who, "experiment.create", "experiment", e.id(), Audit.diff(null, view(e))).map(e)))
        .onSuccess(e -> invalidate());
  }

  /** What an audit entry shows of an experiment (not its salt). */
  private static JsonObject view(Experiment e) {
    return new JsonObject().put("name", e.name()).put("arms", Experiment.armsJson(e.arms())).put("status", e.status());
  }

  public Future<Experiment> get(long id) {
    return repository.byId(id).map(Experiments::found);
  }

  public Future<List<Experiment>> list(Long beforeId, int limit) {
    return repository.list(beforeId, limit);
  }

  /** A change read against the current experiment: its new name, arms and status. */
  public record Change(String name, List<Experiment.Arm> arms, String status) {}

  public Future<Experiment> update(long id, Function<Experiment, Change> read) {
    return update(null, id, read);
  }

  public Future<Experiment> update(Audit.Who who, long id, Function<Experiment, Change> read) {
    return repository.byId(id).map(Experiments::found).compose(current -> {
      Change change = read.apply(current);
      if (!change.status().equals(current.status()) && !MOVES.get(current.status()).contains(change.status())) {
        throw ApiException.conflict("conflict",
            "An experiment cannot go from " + current.status() + " to " + change.status() + ".");
      }
      if (change.arms() != current.arms() && !current.status().equals("draft")) {
        throw ApiException.conflict("conflict", "Arms and shares are fixed once the experiment has started.");
      }
      if (current.status().equals("stopped") && !change.name().equals(current.name())) {
        throw ApiException.conflict("conflict", "A stopped experiment cannot change.");
      }
      return repository.pool().withTransaction(tx -> repository.update(tx, id, current.status(), change.name(),
              Experiment.armsJson(change.arms()), change.status()).compose(stored -> {
                if (stored == null) {
                  throw ApiException.conflict("conflict",
                      "The experiment changed meanwhile; read it again and retry.");
                }
                JsonObject changes = Audit.diff(view(current), view(stored));
                return who == null || changes.isEmpty() ? Future.succeededFuture(stored)
                    : Audit.record(tx, who, "experiment.update", "experiment", id, changes).map(stored);
              }))
          .onSuccess(stored -> invalidate());
    });
  }

  /** Per arm: users, impressions, clicks, CTR, conversions, and the CTR difference to the first arm. */
  public Future<JsonObject> results(long id) {
    return get(id).compose(e -> repository.counts(id).map(counts -> {
      ExperimentRepository.ArmCounts zero = new ExperimentRepository.ArmCounts(0, 0, 0, 0);
      ExperimentRepository.ArmCounts first = counts.getOrDefault(e.arms().get(0).name(), zero);
      JsonArray arms = new JsonArray();
      for (Experiment.Arm arm : e.arms()) {
        ExperimentRepository.ArmCounts c = counts.getOrDefault(arm.name(), zero);
        AbTest.Delta d = AbTest.delta(first.clicks(), first.impressions(), c.clicks(), c.impressions());
        arms.add(new JsonObject()
            .put("name", arm.name())
            .put("share", arm.share())
            .put("users", c.users())
            .put("impressions", c.impressions())
            .put("clicks", c.clicks())
            .put("ctr", AbTest.rate(c.clicks(), c.impressions()))
            .put("conversions", c.conversions())
            .put("ctrDelta", new JsonObject().put("value", d.value())
                .put("ci95", new JsonArray().add(d.lo()).add(d.hi())).put("pValue", d.pValue())));
      }
      return new JsonObject().put("experimentId", Long.toString(e.id())).put("status", e.status())
          .put("arms", arms);
    }));
  }

  static Experiment found(Experiment e) {
    if (e == null) {
      throw ApiException.notFound();
    }
    return e;
  }

  /** The defaults with the arm's given parameters; an unknown or out-of-range one is a 400 naming it. */
  static FeedParams params(JsonObject json, String path, io.wxmp.handlers.common.Input in) {
    try {
      return FeedParams.fromJson(json);
    } catch (IllegalArgumentException e) {
      String message = e.getMessage() == null ? "invalid" : e.getMessage();
      int space = message.indexOf(' ');
      String field = space < 0 ? message : message.substring(0, space);
      in.error(path + "." + field, space < 0 ? "is invalid" : message.substring(space + 1));
      return null;
    }
  }
}
