package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Messages;
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
  private final SlowClients.Limits limits;
  private HttpServer server;

  HttpVerticle(String host, int port, Supplier<Router> routerFactory, SlowClients.Limits limits) {
    this.host = host;
    this.port = port;
    this.routerFactory = routerFactory;
    this.limits = limits;
  }

  @Override
  public Future<?> start() {
    // No h2c: without it Vert.x makes the HTTP/1.x connection (and calls the connection handler) when the client
    // connects, not after its first bytes, so a client that connects and says nothing meets the head deadline too.
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
        .setCompressionSupported(true).setIdleTimeout((int) (SlowClients.KEEP_ALIVE_MS / 1000))
        .setHttp2ClearTextEnabled(false)
        .setMaxInitialLineLength(MAX_INITIAL_LINE).setMaxHeaderSize(MAX_HEADER_SIZE));
    Router router = routerFactory.get();
    return server.connectionHandler(connection -> SlowClients.admit(connection, limits))
        .requestHandler(request -> {
          bodyDeadline(request);
          router.handle(request);
        })
        .invalidRequestHandler(HttpVerticle::invalid).listen();
  }

  /**
   * A body that is not all there {@code bodyMs} after its head answers 408 {@code request_timeout} (when nothing was
   * answered yet) and loses its connection: no route ran, since every route that takes a body waits for all of it.
   */
  private void bodyDeadline(HttpServerRequest request) {
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean body = (length != null && !length.equals("0"))
        || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    if (!body || request.isEnded()) {
      return;
    }
    long timer = vertx.setTimer(limits.bodyMs(), t -> {
      if (request.isEnded() || request.response().ended() || request.response().closed()) {
        return;
      }
      if (request.response().headWritten()) {
        request.connection().close();
      } else {
        error(request, 408, "request_timeout", "The request body did not arrive within " + limits.bodyMs() + " ms.");
      }
    });
    request.end().onComplete(done -> vertx.cancelTimer(timer));
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
    error(request, status, code, message);
  }

  /** API.md's error body (in the language the request asks for), then the connection is closed. */
  private static void error(HttpServerRequest request, int status, String code, String message) {
    ApiException error = new ApiException(status, code, message);
    String body = error.body(Messages.of(error, request.getHeader("Accept-Language"))).encode();
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
