package io.wxmp.handlers.common;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.context.storage.ContextLocal;
import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Gives every request an id (or keeps a sane incoming {@code X-Request-Id}). The id is also kept in the request's own
 * Vert.x context (Vert.x makes a duplicated context per request, and everything the request starts, on the event
 * loop, in {@code executeBlocking} or on a worker executor, and every future's callbacks run on it): the server's
 * logging puts it into the MDC of every line logged while that context is current, so no log call passes it.
 */
public final class RequestIds {
  public static final String HEADER = "X-Request-Id";
  private static final String KEY = "requestId";

  private RequestIds() {}

  public static void assign(RoutingContext ctx) {
    String id = ctx.get(KEY); // a rerouted request (the method override) keeps its id
    if (id == null) {
      String incoming = ctx.request().getHeader(HEADER);
      id = incoming != null && incoming.matches("[A-Za-z0-9._-]{8,64}") ? incoming : fresh();
      ctx.put(KEY, id);
      ctx.response().putHeader(HEADER, id);
    }
    Context context = Vertx.currentContext();
    // only a request's own context: the event loop's is shared by every request it serves
    if (context instanceof ContextInternal internal && internal.isDuplicate()) {
      context.putLocal(Local.REQUEST_ID, id);
    }
    ctx.next();
  }

  public static String of(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id == null ? "-" : id;
  }

  /** The id of the request whose context is current on this thread, or null outside of a request. */
  public static String current() {
    Context context = Vertx.currentContext();
    return context == null ? null : context.getLocal(Local.REQUEST_ID);
  }

  /**
   * 64 random bits, to tell requests apart in the logs, not a secret: the event loop's own generator, not a
   * SecureRandom (whose reads of the system's entropy are serialised under one lock for every event loop).
   */
  private static String fresh() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  /**
   * The context-local slot, registered as a Vert.x service provider (META-INF/services) so that it exists before any
   * Vert.x instance is built, as ContextLocal requires. Duplicating a request's context keeps the id.
   */
  public static final class Local implements VertxServiceProvider {
    static final ContextLocal<String> REQUEST_ID = ContextLocal.registerLocal(String.class);

    @Override
    public void init(VertxBootstrap builder) {
      // nothing to configure: loading this class registered the slot
    }
  }
}
