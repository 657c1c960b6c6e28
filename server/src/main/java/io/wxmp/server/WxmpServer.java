package io.wxmp.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.WorkerExecutor;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.wxmp.gpu.RankingClient;
import io.wxmp.gpu.RankingConfig;
import io.wxmp.gpu.RankingVerticle;
import io.wxmp.handlers.auth.AuthConfig;
import io.wxmp.handlers.campaigns.Campaigns;
import io.wxmp.handlers.campaigns.Conversions;
import io.wxmp.handlers.admin.LoginGuard;
import io.wxmp.handlers.admin.PasswordWork;
import io.wxmp.handlers.common.ClientAddresses;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Limits;
import io.wxmp.handlers.platform.ExperimentRepository;
import io.wxmp.handlers.platform.Experiments;
import io.wxmp.handlers.common.FieldCipher;
import io.wxmp.handlers.common.RateLimiter;
import io.wxmp.handlers.events.EventListeners;
import io.wxmp.handlers.events.EventRepository;
import io.wxmp.handlers.events.EventService;
import io.wxmp.handlers.events.PurchaseEvents;
import io.wxmp.handlers.events.EventWeights;
import io.wxmp.handlers.events.EventsMaintenance;
import io.wxmp.handlers.events.OnlineState;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.Sessions;
import io.wxmp.handlers.common.Upstream;
import io.wxmp.handlers.feed.Feed;
import io.wxmp.handlers.feed.FeedService;
import io.wxmp.handlers.feed.FeedTrainer;
import io.wxmp.recsys.IalsParams;
import io.wxmp.handlers.pay.ReconciliationJob;
import io.wxmp.handlers.pay.WeChatPay;
import io.wxmp.handlers.platform.NotificationRelay;
import io.wxmp.handlers.quiz.QuizRoutes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running wxmp server: a Vert.x instance, migrations, the pools and clients, and one HTTP verticle per core.
 * {@link #close()} stops taking requests, lets in-flight ones finish, then closes the pools.
 */
public final class WxmpServer {
  private static final Logger log = LoggerFactory.getLogger(WxmpServer.class);
  private static final long EVENTS_MAINTENANCE_MS = 3_600_000;
  /** How long POST /events waits for the event listeners (fold-in, billing) before answering anyway. */
  private static final long EVENT_LISTENER_BUDGET_MS = 1_000;

  private final Vertx vertx;
  private final Pool pg;
  private final Redis redis;
  private final int port;
  private final List<String> deployments;
  private final ReconciliationJob reconciliation;
  private final long reconcileTimer;
  private NotificationRelay relay;
  private Conversions conversions;
  private Experiments experiments;
  private PurchaseEvents purchases;
  private final Events events;
  private final long eventsTimer;
  private final Feed feed;
  private final int managementPort;
  private final Metrics.Registry meters;
  private final io.wxmp.handlers.quiz.LeaderboardRepair boardRepair;
  private long boardRepairTimer = -1;

  /** The events feature's parts that other features and tests reach: listeners, online state, maintenance. */
  public record Events(EventService service, OnlineState online, EventListeners listeners,
      EventsMaintenance maintenance) {}

  private WxmpServer(Vertx vertx, Pool pg, Redis redis, int port, List<String> deployments,
      ReconciliationJob reconciliation, long reconcileTimer, Events events, long eventsTimer, Feed feed,
      int managementPort, Metrics.Registry meters, io.wxmp.handlers.quiz.LeaderboardRepair boardRepair) {
    this.managementPort = managementPort;
    this.meters = meters;
    this.boardRepair = boardRepair;
    this.events = events;
    this.eventsTimer = eventsTimer;
    this.feed = feed;
    this.reconciliation = reconciliation;
    this.reconcileTimer = reconcileTimer;
    this.vertx = vertx;
    this.pg = pg;
    this.redis = redis;
    this.port = port;
    this.deployments = deployments;
  }

  /** Starts a server on fully resolved settings (prod settings, or dev settings filled in by {@link DevStack}). */
  public static Future<WxmpServer> start(Settings settings) {
    // Every setting is read here, through one check, before anything starts: an operator sees all problems at once.
    Settings.Check check = settings.check();
    Database database = check.get(() -> Database.from(settings));
    String host = check.get(() -> settings.required("WXMP_HTTP_HOST"));
    Integer port = check.get(() -> settings.integer("WXMP_HTTP_PORT", 0, 65535));
    Integer instances = check.get(() -> settings.integer("WXMP_HTTP_INSTANCES", 1, 256));
    Integer headTimeoutMs = check.get(() -> settings.integer("WXMP_HTTP_HEADER_TIMEOUT_MS", 100, 600_000));
    Integer bodyTimeoutMs = check.get(() -> settings.integer("WXMP_HTTP_BODY_TIMEOUT_MS", 100, 3_600_000));
    Integer maxConnections = check.get(() -> settings.integer("WXMP_HTTP_MAX_CONNECTIONS", 1, 1_000_000));
    Integer pgPoolSize = check.get(() -> settings.integer("WXMP_PG_POOL_SIZE", 1, 1024));
    Integer pgQueryTimeoutMs = check.get(() -> settings.integer("WXMP_PG_QUERY_TIMEOUT_MS", 100, 600_000));
    Integer repairEverySec = check.get(() -> settings.integer("WXMP_REDIS_REPAIR_INTERVAL_SEC", 1, 86_400));
    Integer workers = check.get(() -> settings.integer("WXMP_WECHAT_WORKERS", 1, 512));
    Integer upstreamTimeoutMs = check.get(() -> settings.integer("WXMP_UPSTREAM_TIMEOUT_MS", 100, 60_000));
    Integer userTtl = check.get(() -> settings.integer("WXMP_USER_TOKEN_TTL_SEC", 60, 90 * 86_400));
    Integer adminTtl = check.get(() -> settings.integer("WXMP_ADMIN_TOKEN_TTL_SEC", 60, 30 * 86_400));
    Integer operatorTtl = check.get(() -> settings.integer("WXMP_OPERATOR_TOKEN_TTL_SEC", 60, 30 * 86_400));
    QuizRoutes.Config quiz = check.get(() -> new QuizRoutes.Config(
        settings.integer("WXMP_QUIZ_SUBMIT_GRACE_MS", 0, 60_000), settings.bool("WXMP_QUIZ_SHUFFLE")));
    check.run(() -> WeChatClients.check(settings));
    check.run(() -> RedisClients.options(settings));
    byte[] feedTokenKey = check.get(() -> feedTokenKey(settings)); // the feed signs, events verifies
    WeChatPay pay = check.get(() -> PayClients.create(settings));
    Integer reconcileEverySec = check.get(() -> settings.integer("WXMP_PAY_RECONCILE_INTERVAL_SEC", 1, 86_400));
    RankingConfig rankingConfig = check.get(() -> rankingConfig(settings));
    Feed.Config feedConfig = check.get(() -> feedConfig(settings, rankingConfig == null ? 64 : rankingConfig.dim()));
    AuthConfig auth = check.get(() -> authConfig(settings));
    NotificationRelay.Config relayConfig = check.get(() -> relayConfig(settings));
    EventsConfig eventsConfig = check.get(() -> eventsConfig(settings));
    LimitSettings limitSettings = check.get(() -> limitSettings(settings));
    Cluster.Role role = check.get(() -> Cluster.Role.of(settings));
    check.run(() -> {
      if (role == Cluster.Role.RANKING) {
        throw new Settings.ConfigException("WXMP_ROLE=ranking runs a ranking node (RankingNode), not the HTTP server");
      }
    });
    Boolean clustered = role == null ? null : check.get(() -> Cluster.enabled(settings, role));
    if (Boolean.TRUE.equals(clustered)) {
      check.run(() -> Cluster.hazelcast(settings));
    }
    check.run(() -> {
      String format = settings.string("WXMP_LOG_FORMAT");
      if (format != null && !format.equals("text") && !format.equals("json")) {
        throw new Settings.ConfigException("WXMP_LOG_FORMAT: '" + format + "' is not text or json");
      }
    });
    String managementHost = check.get(() -> settings.required("WXMP_MANAGEMENT_HOST"));
    Integer managementPort = check.get(() -> settings.integer("WXMP_MANAGEMENT_PORT", 0, 65535));
    check.done();

    Metrics.Registry meters = Metrics.create();
    PrometheusMeterRegistry registry = meters.prometheus();
    // vertx-micrometer keeps backends in a JVM-wide map by registry name: a name of its own per server, or a second
    // server in the same JVM (tests) would record into the first one's registry and scrape an empty one.
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setRegistryName("wxmp-" + java.util.UUID.randomUUID())
        .setEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(false))
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_TYPE, Label.POOL_NAME));
    VertxOptions options = new VertxOptions().setMetricsOptions(metrics);
    MicrometerMetricsFactory metricsFactory = new MicrometerMetricsFactory(registry);
    // Role api deploys no ranking verticle: its pages rank on the cluster's ranking nodes.
    Function<Vertx, Future<WxmpServer>> serve = vertx -> {
      BoundedPool pg = database.pool(vertx, pgPoolSize, pgQueryTimeoutMs);
      Redis redisClient = RedisClients.create(vertx, settings);
      RedisAPI redis = RedisAPI.api(redisClient);
      WorkerExecutor wechatPool = vertx.createSharedWorkerExecutor("wechat", workers, 30, TimeUnit.SECONDS);
      long reconcileEveryMs = reconcileEverySec * 1000L;
      long repairEveryMs = repairEverySec * 1000L;
      Upstream upstream = new Upstream(wechatPool, upstreamTimeoutMs);
      // A ping that a ranking node which just died would have answered is tried once more (the event bus picks another
      // node), so readiness means "at least one ranking node answers".
      RankingClient ranking = role.ranking() ? new RankingClient(vertx) : new RankingClient(vertx, 5_000, 450);
      ProfileCache profiles = new ProfileCache(redis);
      Deps deps = new Deps(vertx, pg, redis, new Sessions(redis,
          // a session and a user's cached data live in different slots: no pipelined batch in Redis Cluster
          "cluster".equals(settings.string("WXMP_REDIS_MODE")) ? null : redisClient, userTtl, adminTtl, operatorTtl),
          profiles,
          WeChatClients.miniApp(settings, redis), upstream, registry, ranking, pay,
          limits(limitSettings, vertx, redis));
      // The lease outlives a slow pass (each upstream call is bounded) but not a crashed instance for long.
      ReconciliationJob reconciliation = new ReconciliationJob(pg, redis, profiles, pay, upstream,
          Math.max(reconcileEveryMs, 60_000));
      Events events = events(eventsConfig, vertx, pg, redis, feedTokenKey);
      Health health = new Health(pg::ping, redis, role.ranking() ? ranking::ping : () -> ranking.ping()
          .recover(e -> ranking.ping()));
      Campaigns campaigns = new Campaigns(pg, redis, java.time.Clock.systemUTC(), Campaigns.Config.DEFAULTS);
      events.listeners().add(campaigns.listener()); // billing of sponsored impressions and clicks
      Experiments experiments = new Experiments(new ExperimentRepository(pg), java.time.Clock.systemUTC());
      events.listeners().add(experiments); // impressions and clicks per experiment arm
      Feed feed = new Feed(vertx, pg, redis, ranking, events.online(), events.online().weights(), feedTokenKey,
          campaigns.slots(), experiments, registry, feedConfig, role.ranking());
      events.listeners().add(feed.foldInListener()); // the next page ranks with the user's re-solved vector
      // a batch's published items are known from the feed's catalogue copy, without a lookup in PostgreSQL
      events.service().usePublishedItems(id -> {
        io.wxmp.handlers.feed.CatalogueItem item = feed.catalogue().snapshot().get(id);
        return item == null ? null : item.tags();
      });
      auth.forgetters().add(userId -> events.online().forget(Long.toString(userId)));
      auth.forgetters().add(feed::forget);
      NotificationRelay relay = new NotificationRelay(vertx, pg, deps.wechat(), upstream, relayConfig);
      // paid orders and full refunds as feed events, read from the outbox at a position of their own
      PurchaseEvents purchases = new PurchaseEvents(vertx, pg, events.service(), relayConfig.pollMs());
      // campaign conversions: paid orders after a click, undone by a full refund, from the outbox
      Conversions conversions = campaigns.conversions(vertx, relayConfig.pollMs());
      String openApi = resource("/openapi.yaml");
      // what Redis holds that PostgreSQL committed (the leaderboards) converges again after Redis failed or lost writes
      io.wxmp.handlers.quiz.LeaderboardRepair boardRepair = new io.wxmp.handlers.quiz.LeaderboardRepair(pg, redis);

      List<String> deployments = new ArrayList<>();
      HttpVerticle management = new HttpVerticle(managementHost, managementPort,
          () -> ApiRouter.management(vertx, health, registry),
          new SlowClients.Limits(headTimeoutMs, bodyTimeoutMs, maxConnections));
      SlowClients.Limits apiLimits = new SlowClients.Limits(headTimeoutMs, bodyTimeoutMs, maxConnections);
      return vertx.executeBlocking(() -> {
            database.migrate();
            return null;
          }, false)
          .compose(v -> !role.ranking() ? Future.succeededFuture() : vertx.deployVerticle(
                  new RankingVerticle(rankingConfig, registry), new DeploymentOptions()
                      .setThreadingModel(ThreadingModel.WORKER))
              .compose(rankingId -> {
                deployments.add(rankingId);
                return ranking.ping();
              }))
          .compose(backend -> feed.start())
          .compose(v -> vertx.deployVerticle(
              () -> new HttpVerticle(host, port,
                  () -> ApiRouter.create(deps, health, openApi, quiz, events.service(), campaigns, auth,
                      feed, experiments), apiLimits),
              new DeploymentOptions().setInstances(instances)))
          .compose(id -> {
            deployments.add(0, id);
            log.info("HTTP listening on {}:{} with {} event-loop verticles (role {}{})", host, port, instances,
                role.name().toLowerCase(), vertx.isClustered() ? ", clustered event bus" : "");
            return vertx.deployVerticle(management);
          })
          .map(managementId -> {
            deployments.add(1, managementId); // after the API has drained: a scrape still answers meanwhile
            log.info("management (/metrics, /health) listening on {}:{}", managementHost, management.actualPort());
            long timer = vertx.setPeriodic(reconcileEveryMs, reconcileEveryMs, t -> reconciliation.runOnce()
                .onFailure(e -> log.warn("reconciliation run failed: {}", e.toString())));
            // the migration made this month's partitions and its neighbours, so the first run can wait a minute
            long eventsTimer = vertx.setPeriodic(60_000, EVENTS_MAINTENANCE_MS, t -> events.maintenance().runOnce()
                .onFailure(e -> log.warn("events maintenance failed: {}", e.toString())));
            WxmpServer server = new WxmpServer(vertx, pg, redisClient, port, deployments, reconciliation, timer, events,
                eventsTimer, feed, management.actualPort(), meters, boardRepair);
            server.boardRepairTimer = vertx.setPeriodic(repairEveryMs, repairEveryMs, t -> boardRepair.runOnce()
                .onFailure(e -> io.wxmp.handlers.common.FailureLog.once("board repair " + e.getClass().getName(),
                    left -> log.warn("leaderboard repair pass failed (retried every {} s): {}", repairEveryMs / 1000,
                        e.toString()))));
            server.relay = relay.start();
            server.conversions = conversions.start();
            server.experiments = experiments;
            server.purchases = purchases.start();
            return server;
          })
          // Fail first, then close: a listener on vertx.close() would be called on an event loop that the close has
          // just stopped, so the failure would never reach the caller (start-up then hung until Main's 120 s timeout).
          .recover(failure -> {
            meters.close();
            vertx.close().onFailure(e -> log.warn("closing after a failed start: {}", e.toString()));
            return Future.failedFuture(failure);
          });
    };
    if (!clustered) {
      return serve.apply(Vertx.builder().with(options).withMetrics(metricsFactory).build());
    }
    return Cluster.build(options, metricsFactory, settings, role).compose(serve);
  }

  public int port() {
    return port;
  }

  /** The management port ({@code /metrics}, {@code /health/*}): the bound one, also when the setting was 0. */
  public int managementPort() {
    return managementPort;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Pool pool() {
    return pg;
  }

  static RankingConfig rankingConfig(Settings settings) {
    Settings.Check check = new Settings.Check();
    RankingConfig.Backend backend = check.get(() -> {
      try {
        return RankingConfig.Backend.parse(settings.required("WXMP_RANKING_BACKEND"));
      } catch (IllegalArgumentException e) {
        throw new Settings.ConfigException("WXMP_RANKING_BACKEND: must be auto, cpu or cuda");
      }
    });
    Integer dim = check.get(() -> settings.integer("WXMP_RANKING_DIM", 32, 512));
    Integer window = check.get(() -> settings.integer("WXMP_RANKING_BATCH_WINDOW_US", 0, 100_000));
    Integer maxBatch = check.get(() -> settings.integer("WXMP_RANKING_MAX_BATCH", 1, 4096));
    Integer queue = check.get(() -> settings.integer("WXMP_RANKING_QUEUE_BOUND", 1, 1_000_000));
    Boolean fp16 = check.get(() -> settings.bool("WXMP_RANKING_FP16"));
    Integer nprobe = check.get(() -> settings.integer("WXMP_RANKING_NPROBE", 0, 4096));
    check.done();
    return new RankingConfig(dim, backend, window, maxBatch, queue, fp16, nprobe);
  }

  /**
   * {@code WXMP_FEED_TOKEN_KEY}: base64 (standard or url-safe) of at least 32 random bytes. Required; dev mode and tests
   * make one per start (see {@link DevStack#settings()}).
   */
  public static byte[] feedTokenKey(Settings settings) {
    String value = settings.required("WXMP_FEED_TOKEN_KEY");
    byte[] key;
    try {
      key = value.indexOf('-') >= 0 || value.indexOf('_') >= 0
          ? java.util.Base64.getUrlDecoder().decode(value) : java.util.Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new Settings.ConfigException("WXMP_FEED_TOKEN_KEY: not base64 (make one with: openssl rand -base64 32)");
    }
    if (key.length < 32) {
      throw new Settings.ConfigException("WXMP_FEED_TOKEN_KEY: must decode to at least 32 bytes (it has " + key.length
          + "; make one with: openssl rand -base64 32)");
    }
    return key;
  }

  private static Feed.Config feedConfig(Settings settings, int dim) {
    Settings.Check check = new Settings.Check();
    Integer epochs = check.get(() -> settings.integer("WXMP_FEED_TRAIN_EPOCHS", 1, 100));
    Integer seed = check.get(() -> settings.integer("WXMP_FEED_TRAIN_SEED", 0, Integer.MAX_VALUE));
    Integer threads = check.get(() -> settings.integer("WXMP_FEED_TRAIN_THREADS", 1, 256));
    Integer candidates = check.get(() -> settings.integer("WXMP_FEED_CANDIDATES", 50, 1000));
    Integer cachedUsers = check.get(() -> settings.integer("WXMP_FEED_CANDIDATE_CACHE_USERS", 0, 10_000_000));
    Integer rankingTimeout = check.get(() -> settings.integer("WXMP_FEED_RANKING_TIMEOUT_MS", 10, 10_000));
    Integer sponsoredTimeout = check.get(() -> settings.integer("WXMP_FEED_SPONSORED_TIMEOUT_MS", 5, 5_000));
    Integer lease = check.get(() -> settings.integer("WXMP_FEED_TRAIN_LEASE_SEC", 60, 86_400));
    Integer interval = check.get(() -> settings.integer("WXMP_FEED_TRAIN_INTERVAL_SEC", 0, 30 * 86_400));
    Integer refresh = check.get(() -> settings.integer("WXMP_FEED_REFRESH_MS", 100, 600_000));
    Integer cursorTtl = check.get(() -> settings.integer("WXMP_FEED_CURSOR_TTL_SEC", 60, 30 * 86_400));
    check.done();
    IalsParams p = IalsParams.defaults().withDim(dim).withEpochs(epochs).withSeed(seed).withThreads(threads);
    return new Feed.Config(new FeedService.Config(candidates, rankingTimeout, sponsoredTimeout, cachedUsers),
        new FeedTrainer.Config(p, lease), interval, refresh, cursorTtl);
  }

  /** The feed: catalogue copy, serving model, training job, page assembly. */
  public Feed feed() {
    return feed;
  }

  /** The subscribe message relay (also run by its timers); tests call its passes directly. */
  public NotificationRelay relay() {
    return relay;
  }

  /** The feed experiments (what the feed asks for each user's arm, and the operators' routes use). */
  public Experiments experiments() {
    return experiments;
  }

  /** The campaign conversions consumer of the payment outbox (also run by its timer); tests poll it directly. */
  public Conversions conversions() {
    return conversions;
  }

  /** Purchases and full refunds from the payment outbox as feed events (also run by its timer); tests poll it. */
  public PurchaseEvents purchases() {
    return purchases;
  }

  /**
   * Abuse limits: {@code WXMP_HTTP_TRUSTED_PROXIES} (peers whose {@code X-Forwarded-For} names the client),
   * {@code WXMP_PASSWORD_WORKERS}/{@code _QUEUE} (Argon2 hashes at once, and waiting), {@code WXMP_LOGIN_*} (password
   * tries per window, see {@link LoginGuard}) and {@code WXMP_RATE_*_PER_MIN} (the routes that call WeChat or WeChat
   * Pay, refilled smoothly over a minute).
   */
  static Limits limits(LimitSettings limits, Vertx vertx, RedisAPI redis) {
    return new Limits(new ClientAddresses(limits.trustedProxies()),
        new PasswordWork(vertx, limits.passwordWorkers(), limits.passwordQueue()), limits.logins(),
        perMinute(vertx, redis, "wx-login", limits.wxLoginPerMin()),
        perMinute(vertx, redis, "orders", limits.ordersPerMin()),
        perMinute(vertx, redis, "profile", limits.profilePerMin()));
  }

  /** The abuse limits' settings, read with every other setting before anything starts (see {@link #limits}). */
  record LimitSettings(java.util.Set<String> trustedProxies, LoginGuard.Config logins, int passwordWorkers,
      int passwordQueue, int wxLoginPerMin, int ordersPerMin, int profilePerMin) {}

  private static LimitSettings limitSettings(Settings settings) {
    String proxies = settings.string("WXMP_HTTP_TRUSTED_PROXIES");
    java.util.Set<String> trusted = new java.util.HashSet<>();
    if (proxies != null) {
      for (String proxy : proxies.split(",")) {
        if (!proxy.isBlank()) {
          trusted.add(proxy.strip());
        }
      }
    }
    LoginGuard.Config logins = new LoginGuard.Config(
        settings.integer("WXMP_LOGIN_TRIES_PER_ACCOUNT_ADDRESS", 1, 1_000_000),
        settings.integer("WXMP_LOGIN_TRIES_PER_ADDRESS", 1, 1_000_000),
        settings.integer("WXMP_LOGIN_TRIES_PER_ACCOUNT", 1, 1_000_000),
        java.time.Duration.ofSeconds(settings.integer("WXMP_LOGIN_WINDOW_SEC", 1, 86_400)));
    return new LimitSettings(trusted, logins, settings.integer("WXMP_PASSWORD_WORKERS", 1, 256),
        settings.integer("WXMP_PASSWORD_QUEUE", 0, 100_000),
        settings.integer("WXMP_RATE_WX_LOGIN_PER_MIN", 1, 1_000_000),
        settings.integer("WXMP_RATE_ORDERS_PER_MIN", 1, 1_000_000),
        settings.integer("WXMP_RATE_PROFILE_PER_MIN", 1, 1_000_000));
  }

  private static RateLimiter perMinute(Vertx vertx, RedisAPI redis, String name, int perMinute) {
    return new RateLimiter(vertx, redis, name, new RateLimiter.Limit(perMinute, java.time.Duration.ofMinutes(1)));
  }

  /** The phone number key, templates, public URL: what the users' routes need beyond Deps. */
  private static AuthConfig authConfig(Settings settings) {
    FieldCipher phone;
    try {
      phone = FieldCipher.fromBase64(settings.required("WXMP_PHONE_KEY"));
    } catch (IllegalArgumentException e) {
      throw new Settings.ConfigException("WXMP_PHONE_KEY: " + e.getMessage());
    }
    Map<String, String> templates = new LinkedHashMap<>();
    if (settings.string("WXMP_WX_TEMPLATE_PAYMENT") != null) {
      templates.put("payment", settings.string("WXMP_WX_TEMPLATE_PAYMENT"));
    }
    if (settings.string("WXMP_WX_TEMPLATE_REFUND") != null) {
      templates.put("refund", settings.string("WXMP_WX_TEMPLATE_REFUND"));
    }
    return new AuthConfig(phone, settings.string("WXMP_PUBLIC_URL"), templates, new ArrayList<>());
  }

  private static NotificationRelay.Config relayConfig(Settings settings) {
    Settings.Check check = new Settings.Check();
    Integer retryBase = check.get(() -> settings.integer("WXMP_NOTIFY_RETRY_BASE_MS", 10, 3_600_000));
    Integer attempts = check.get(() -> settings.integer("WXMP_NOTIFY_MAX_ATTEMPTS", 1, 50));
    Integer poll = check.get(() -> settings.integer("WXMP_OUTBOX_POLL_MS", 10, 60_000));
    check.done();
    return new NotificationRelay.Config(settings.string("WXMP_WX_TEMPLATE_PAYMENT"),
        settings.string("WXMP_WX_TEMPLATE_REFUND"), settings.string("WXMP_WX_MESSAGE_PAGE"), retryBase, attempts, poll);
  }

  /**
   * Event ingestion: {@code WXMP_FEED_EVENT_WEIGHTS}, {@code WXMP_EVENTS_RATE_PER_MIN} (batches per user, refilled
   * smoothly over a minute), {@code WXMP_EVENTS_RETENTION_DAYS}.
   */
  private record EventsConfig(EventWeights weights, int perMinute, int retentionDays) {}

  private static EventsConfig eventsConfig(Settings settings) {
    Settings.Check check = new Settings.Check();
    EventWeights weights = check.get(() -> {
      try {
        return EventWeights.parse(settings.required("WXMP_FEED_EVENT_WEIGHTS"));
      } catch (IllegalArgumentException e) {
        throw new Settings.ConfigException("WXMP_FEED_EVENT_WEIGHTS: " + e.getMessage());
      }
    });
    Integer perMinute = check.get(() -> settings.integer("WXMP_EVENTS_RATE_PER_MIN", 1, 1_000_000));
    Integer retentionDays = check.get(() -> settings.integer("WXMP_EVENTS_RETENTION_DAYS",
        EventsMaintenance.DEDUP_WINDOW_DAYS, 36_500));
    check.done();
    return new EventsConfig(weights, perMinute, retentionDays);
  }

  private static Events events(EventsConfig config, Vertx vertx, Pool pg, RedisAPI redis, byte[] feedTokenKey) {
    EventRepository repository = new EventRepository(pg);
    OnlineState online = new OnlineState(redis, config.weights());
    EventListeners listeners = new EventListeners(EVENT_LISTENER_BUDGET_MS);
    RateLimiter limiter = new RateLimiter(vertx, redis, "events",
        new RateLimiter.Limit(config.perMinute(), java.time.Duration.ofMinutes(1)));
    EventService service = new EventService(vertx, repository, online, listeners, limiter, feedTokenKey);
    return new Events(service, online, listeners,
        new EventsMaintenance(repository, redis, config.retentionDays()));
  }

  /** Event ingestion's parts: register an {@link io.wxmp.handlers.events.EventListener} here, read the online state. */
  public Events events() {
    return events;
  }

  /** The WeChat Pay reconciliation job (also run by a timer); tests call {@code runOnce()} directly. */
  public ReconciliationJob reconciliation() {
    return reconciliation;
  }

  /** The pass that merges committed quiz attempts back into the Redis leaderboards (also run by a timer). */
  public io.wxmp.handlers.quiz.LeaderboardRepair boardRepair() {
    return boardRepair;
  }

  /** Graceful: HTTP servers stop accepting and drain (HTTP first), then the ranking worker, pools and Vert.x close. */
  public Future<Void> close() {
    vertx.cancelTimer(reconcileTimer);
    vertx.cancelTimer(boardRepairTimer);
    feed.stop();
    if (relay != null) {
      relay.stop();
    }
    if (conversions != null) {
      conversions.stop();
    }
    if (purchases != null) {
      purchases.stop();
    }
    vertx.cancelTimer(eventsTimer);
    Future<Void> undeployed = Future.succeededFuture();
    for (String id : deployments) {
      undeployed = undeployed.compose(v -> vertx.undeploy(id));
    }
    return undeployed
        .eventually(() -> pg.close())
        .eventually(() -> redis.close())
        .eventually(() -> {
          meters.close();
          return vertx.close();
        });
  }

  private static String resource(String name) {
    try (InputStream in = WxmpServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
