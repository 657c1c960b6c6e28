package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** One per core: serves the API router on the shared port (one more serves the management router). Stopping lets in-flight requests finish first. */
final class HttpVerticle extends VerticleBase {
  private static final long SHUTDOWN_GRACE_SECONDS = 10;
  /** Vert.x's defaults, named here because the error messages quote them. */
  static final int MAX_INITIAL_LINE = HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH;
  static final int MAX_HEADER_SIZE = HttpServerOptions.DEFAULT_MAX_HEADER_SIZE;
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
        .setCompressionSupported(true).setIdleTimeout(60)
        .setMaxInitialLineLength(MAX_INITIAL_LINE).setMaxHeaderSize(MAX_HEADER_SIZE));
    return server.requestHandler(routerFactory.get()).invalidRequestHandler(HttpVerticle::invalid).listen();
  }

  /**
   * A request the HTTP decoder refused before any route saw it (a request line or headers over the limits, a
   * malformed head): the same status Vert.x would send, with API.md's error body; the connection is closed after.
   */
  static void invalid(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status;
    String code;
    String message;
    if (cause instanceof TooLongHttpLineException) {
      status = 414;
      code = "uri_too_long";
      message = "The request line is over the " + MAX_INITIAL_LINE + "-byte limit.";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
      code = "headers_too_large";
      message = "The request headers are over the " + MAX_HEADER_SIZE + "-byte limit.";
    } else {
      status = 400;
      code = "bad_request";
      message = "The request is not valid HTTP.";
    }
    String body = new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode();
    request.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Cache-Control", "no-store")
        .putHeader("Connection", "close")
        .end(body)
        .onComplete(done -> request.connection().close());
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
