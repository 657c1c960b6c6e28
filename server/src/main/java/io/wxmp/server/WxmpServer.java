package io.wxmp.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Sessions;
import io.wxmp.handlers.common.Upstream;
import io.wxmp.handlers.quiz.QuizRoutes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running wxmp server: a Vert.x instance, migrations, the pools and clients, and one HTTP verticle per core.
 * {@link #close()} stops taking requests, lets in-flight ones finish, then closes the pools.
 */
public final class WxmpServer {
  private static final Logger log = LoggerFactory.getLogger(WxmpServer.class);

  private final Vertx vertx;
  private final Pool pg;
  private final Redis redis;
  private final int port;
  private final List<String> httpDeployments;

  private WxmpServer(Vertx vertx, Pool pg, Redis redis, int port, List<String> httpDeployments) {
    this.vertx = vertx;
    this.pg = pg;
    this.redis = redis;
    this.port = port;
    this.httpDeployments = httpDeployments;
  }

  /** Starts a server on fully resolved settings (prod settings, or dev settings filled in by {@link DevStack}). */
  public static Future<WxmpServer> start(Settings settings) {
    Database database = Database.from(settings);
    String host = settings.required("WXMP_HTTP_HOST");
    int port = settings.integer("WXMP_HTTP_PORT", 0, 65535);
    int instances = settings.integer("WXMP_HTTP_INSTANCES", 1, 256);
    int pgPoolSize = settings.integer("WXMP_PG_POOL_SIZE", 1, 1024);
    int workers = settings.integer("WXMP_WECHAT_WORKERS", 1, 512);
    long upstreamTimeoutMs = settings.integer("WXMP_UPSTREAM_TIMEOUT_MS", 100, 60_000);
    long userTtl = settings.integer("WXMP_USER_TOKEN_TTL_SEC", 60, 90 * 86_400);
    long adminTtl = settings.integer("WXMP_ADMIN_TOKEN_TTL_SEC", 60, 30 * 86_400);
    QuizRoutes.Config quiz = new QuizRoutes.Config(settings.integer("WXMP_QUIZ_SUBMIT_GRACE_MS", 0, 60_000),
        settings.bool("WXMP_QUIZ_SHUFFLE"));
    settings.required("WXMP_WX_APPID");
    settings.required("WXMP_WX_SECRET");

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        // one registry name per server: under the default name a second server in the same JVM (tests) would
        // reuse the first one's registry and its /metrics would stay empty
        .setRegistryName("wxmp-" + java.util.UUID.randomUUID())
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(true))
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE));
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();

    Pool pg = database.pool(vertx, pgPoolSize);
    Redis redisClient = RedisClients.create(vertx, settings);
    RedisAPI redis = RedisAPI.api(redisClient);
    WorkerExecutor wechatPool = vertx.createSharedWorkerExecutor("wechat", workers, 30, TimeUnit.SECONDS);
    Deps deps = new Deps(vertx, pg, redis, new Sessions(redis, userTtl, adminTtl),
        WeChatClients.miniApp(settings, redis), new Upstream(wechatPool, upstreamTimeoutMs), registry);
    Health health = new Health(pg, redis, () -> Future.succeededFuture("none"));
    String openApi = resource("/openapi.yaml");

    List<String> deployments = new ArrayList<>();
    return vertx.executeBlocking(() -> {
          database.migrate();
          return null;
        }, false)
        .compose(v -> vertx.deployVerticle(
            () -> new HttpVerticle(host, port, () -> ApiRouter.create(deps, health, registry, openApi, quiz)),
            new DeploymentOptions().setInstances(instances)))
        .map(id -> {
          deployments.add(id);
          log.info("HTTP listening on {}:{} with {} event-loop verticles", host, port, instances);
          return new WxmpServer(vertx, pg, redisClient, port, deployments);
        })
        .recover(failure -> vertx.close().transform(x -> Future.failedFuture(failure)));
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Pool pool() {
    return pg;
  }

  /** Graceful: HTTP servers stop accepting and drain, then pools and Vert.x close. */
  public Future<Void> close() {
    Future<Void> undeployed = Future.succeededFuture();
    for (String id : httpDeployments) {
      undeployed = undeployed.compose(v -> vertx.undeploy(id));
    }
    return undeployed
        .eventually(() -> pg.close())
        .eventually(() -> redis.close())
        .eventually(() -> vertx.close());
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
