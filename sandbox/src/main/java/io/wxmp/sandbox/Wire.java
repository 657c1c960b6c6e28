package io.wxmp.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Answers requests for every part of the sandbox. WeChat answers (anything outside {@code /sandbox/}) are held back by
 * the configured fault delay: the request is processed at once and only the answer comes late, as when WeChat did the
 * work but the network lost the time.
 */
final class Wire {
  static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private volatile long delayMs;

  Wire(Vertx vertx) {
    this.vertx = vertx;
  }

  void delayMs(long delayMs) {
    this.delayMs = Math.max(0, delayMs);
  }

  long delayMs() {
    return delayMs;
  }

  /** Sends the answer, after the fault delay when the path is a WeChat one. Headers are set as given, case kept. */
  void send(RoutingContext ctx, int status, Map<String, String> headers, Buffer body) {
    long delay = ctx.request().path().startsWith("/sandbox/") ? 0 : delayMs;
    if (delay <= 0) {
      write(ctx.response(), status, headers, body);
    } else {
      vertx.setTimer(delay, id -> write(ctx.response(), status, headers, body));
    }
  }

  private static void write(HttpServerResponse response, int status, Map<String, String> headers, Buffer body) {
    if (response.closed() || response.ended()) {
      return; // the client gave up waiting: nothing to answer
    }
    response.setStatusCode(status);
    headers.forEach(response::putHeader);
    if (body == null || body.length() == 0) {
      response.end();
    } else {
      response.end(body);
    }
  }

  /** A mini-program API answer: always HTTP 200, JSON. */
  void wx(RoutingContext ctx, JsonObject body) {
    send(ctx, 200, Map.of("Content-Type", "application/json; charset=utf-8"), body.toBuffer());
  }

  /** A mini-program API error: HTTP 200 with errcode and errmsg, the errmsg suffixed with a request id as WeChat does. */
  void wxError(RoutingContext ctx, int errcode, String errmsg) {
    wx(ctx, new JsonObject().put("errcode", errcode).put("errmsg", errmsg + " rid: " + rid()));
  }

  /** A control API answer. */
  void json(RoutingContext ctx, int status, Object body) {
    Buffer buffer = body instanceof JsonObject o ? o.toBuffer()
        : body instanceof io.vertx.core.json.JsonArray a ? a.toBuffer() : Buffer.buffer(String.valueOf(body));
    send(ctx, status, Map.of("Content-Type", "application/json; charset=utf-8"), buffer);
  }

  void noContent(RoutingContext ctx) {
    send(ctx, 204, Map.of(), null);
  }

  /**
   * Query parameters by name. WeChat clients build query strings in any order and often without URL-encoding, so
   * values are taken raw and only decoded when they hold a well-formed percent escape.
   */
  static Map<String, String> query(RoutingContext ctx) {
    Map<String, String> params = new HashMap<>();
    String query = ctx.request().query();
    if (query == null || query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      if (value.indexOf('%') >= 0) {
        try {
          value = URLDecoder.decode(value, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException keepRaw) {
          // not an escape after all
        }
      }
      params.putIfAbsent(name, value);
    }
    return params;
  }

  /** The JSON body, or null when there is none or it is not a JSON object. */
  static JsonObject jsonBody(RoutingContext ctx) {
    Buffer buffer = ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      return null;
    }
    try {
      return new JsonObject(buffer);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  static String rid() {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    String hex = HexFormat.of().formatHex(bytes);
    return hex.substring(0, 8) + "-" + hex.substring(8, 16) + "-" + hex.substring(16);
  }

  static String randomToken(int length) {
    return SandboxKeys.randomAlphanumeric(RANDOM, length);
  }
}
