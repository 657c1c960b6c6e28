package io.wxmp.handlers.common;

import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Gives every request an id (or keeps a sane incoming {@code X-Request-Id}); log lines about a request carry it. */
public final class RequestIds {
  public static final String HEADER = "X-Request-Id";
  private static final String KEY = "requestId";
  private static final SecureRandom RANDOM = new SecureRandom();

  private RequestIds() {}

  public static void assign(RoutingContext ctx) {
    String incoming = ctx.request().getHeader(HEADER);
    String id = incoming != null && incoming.matches("[A-Za-z0-9._-]{8,64}") ? incoming : fresh();
    ctx.put(KEY, id);
    ctx.response().putHeader(HEADER, id);
    ctx.next();
  }

  public static String of(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id == null ? "-" : id;
  }

  private static String fresh() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
