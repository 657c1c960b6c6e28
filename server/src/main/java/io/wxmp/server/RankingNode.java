package io.wxmp.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.sqlclient.Pool;
import io.wxmp.gpu.RankingClient;
import io.wxmp.gpu.RankingConfig;
import io.wxmp.gpu.RankingVerticle;
import io.wxmp.gpu.ScorerFactory;
import io.wxmp.handlers.feed.FeedRanking;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ranking node ({@code WXMP_ROLE=ranking}): the ranking verticle on the clustered event bus, filled from PostgreSQL
 * with the newest serving model version and the catalogue, and reloaded when a training run announces a new one. It
 * takes queries only once its first load is done, so a replacement node serves as soon as it has the model. HTTP on
 * {@code WXMP_HTTP_PORT} has {@code /health/live}, {@code /health/ready} (the loaded version) and {@code /metrics}.
 */
public final class RankingNode {
  private static final Logger log = LoggerFactory.getLogger(RankingNode.class);

  private final Vertx vertx;
  private final Pool pg;
  private final FeedRanking feed;
  private final HttpServer http;
  private final String rankingDeployment;

  private RankingNode(Vertx vertx, Pool pg, FeedRanking feed, HttpServer http, String rankingDeployment) {
    this.vertx = vertx;
    this.pg = pg;
    this.feed = feed;
    this.http = http;
    this.rankingDeployment = rankingDeployment;
  }

  public static Future<RankingNode> start(Settings settings) {
    Settings.Check check = settings.check();
    Cluster.Role role = check.get(() -> Cluster.Role.of(settings));
    check.run(() -> {
      if (role != null && role != Cluster.Role.RANKING) {
        throw new Settings.ConfigException("RankingNode runs WXMP_ROLE=ranking, not " + role.name().toLowerCase());
      }
    });
    if (role != null) {
      check.run(() -> Cluster.enabled(settings, role)); // a ranking node without a cluster is a configuration error
    }
    check.run(() -> Cluster.hazelcast(settings));
    Database database = check.get(() -> Database.from(settings));
    String host = check.get(() -> settings.required("WXMP_HTTP_HOST"));
    Integer port = check.get(() -> settings.integer("WXMP_HTTP_PORT", 0, 65535));
    Integer pgPoolSize = check.get(() -> Math.min(4, settings.integer("WXMP_PG_POOL_SIZE", 1, 1024)));
    Integer refreshMs = check.get(() -> settings.integer("WXMP_FEED_REFRESH_MS", 100, 600_000));
    RankingConfig rankingConfig = check.get(() -> WxmpServer.rankingConfig(settings));
    check.done();

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setRegistryName("wxmp-ranking-" + java.util.UUID.randomUUID()).setEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(true));
    return Cluster.build(new VertxOptions().setMetricsOptions(metrics), new MicrometerMetricsFactory(registry),
        settings, role).compose(vertx -> {
          Pool pg = database.pool(vertx, pgPoolSize, settings.integer("WXMP_PG_QUERY_TIMEOUT_MS", 100, 600_000));
          RankingVerticle verticle = new RankingVerticle(rankingConfig, registry, ScorerFactory.standard(), false);
          FeedRanking feed = new FeedRanking(vertx, pg, new RankingClient(vertx), refreshMs);
          return vertx.executeBlocking(() -> {
                database.migrate(); // Flyway's lock lets nodes of any role start in any order
                return null;
              }, false)
              .compose(v -> vertx.deployVerticle(verticle,
                  new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)))
              .compose(id -> feed.start()
                  .compose(v -> verticle.serveQueries())
                  .compose(v -> {
                    log.info("ranking node serving on the clustered event bus: backend {}, feed model {}",
                        verticle.backend(), feed.version());
                    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
                        .requestHandler(router(vertx, pg, feed, verticle, registry)).listen();
                  })
                  .map(http -> new RankingNode(vertx, pg, feed, http, id)))
              .recover(e -> vertx.close().transform(x -> Future.failedFuture(e)));
        });
  }

  private static Router router(Vertx vertx, Pool pg, FeedRanking feed, RankingVerticle verticle,
      PrometheusMeterRegistry registry) {
    Router root = Router.router(vertx);
    root.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "up")));
    // ready: PostgreSQL answers (new versions load from it) and the verticle takes queries, which it does only after
    // its first load
    root.get("/health/ready").handler(ctx -> pg.query("SELECT 1").execute().timeout(1, TimeUnit.SECONDS)
        .onComplete(db -> {
          boolean up = db.succeeded();
          JsonObject body = new JsonObject().put("status", up ? "up" : "down").put("role", "ranking")
              .put("backend", verticle.backend()).put("model", feed.version())
              .put("checks", new JsonObject().put("postgres", up ? "up" : "down").put("ranking", "up"));
          if (!up) {
            body.put("error", new JsonObject().put("code", "upstream_unavailable")
                .put("message", "Not ready: postgres did not answer."));
          }
          ctx.response().setStatusCode(up ? 200 : 503)
              .putHeader("Content-Type", "application/json; charset=utf-8").end(body.encode());
        }));
    root.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    return root;
  }

  public int port() {
    return http.actualPort();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The model version this node ranks with; null before the first model. */
  public String modelVersion() {
    return feed.version();
  }

  /** Stops taking HTTP, leaves the cluster (the event bus stops picking this node), then closes the pool. */
  public Future<Void> close() {
    feed.stop();
    return http.close()
        .eventually(() -> vertx.undeploy(rankingDeployment))
        .eventually(() -> pg.close())
        .eventually(() -> vertx.close());
  }
}
