package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** One per core: serves the API router on the shared port (one more serves the management router). Stopping lets in-flight requests finish first. */
final class HttpVerticle extends VerticleBase {
  private static final long SHUTDOWN_GRACE_SECONDS = 10;
  private final String host;
  private final int port;
  private final Supplier<Router> routerFactory;
  private HttpServer server;

  HttpVerticle(String host, int port, Supplier<Router> routerFactory) {
    this.host = host;
    this.port = port;
    this.routerFactory = routerFactory;
  }

  @Override
  public Future<?> start() {
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
        .setCompressionSupported(true).setIdleTimeout(60));
    return server.requestHandler(routerFactory.get()).listen();
  }

  /** The port it listens on (the given one, or the one the system chose for 0); valid once started. */
  int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
  }
}
