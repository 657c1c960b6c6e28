package io.wxmp.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a slow or greedy client may hold: a cap on open connections, and a deadline for each request head. Vert.x's
 * idle timeout starts again with every byte, so a client that trickles a header byte every few seconds would hold its
 * connection (and a file descriptor and a decoder buffer) for ever; 2,000 of them did. The head deadline is a Netty
 * handler on the connection's own event loop: the head must be complete within {@code headMs} of the connection
 * opening, or of the first byte of the next request on a kept-alive connection (a kept-alive connection that says
 * nothing is closed after {@link #KEEP_ALIVE_MS} by Vert.x's idle timeout, so no timer runs between requests). The
 * body's deadline is {@link HttpVerticle}'s, because it answers 408 through the request.
 */
final class SlowClients {
  /** How long a kept-alive connection may wait for its next request (the HTTP server's idle timeout). */
  static final long KEEP_ALIVE_MS = 60_000;

  /** The limits of one listening port, shared by all of its verticles. */
  record Limits(long headMs, long bodyMs, int maxConnections, AtomicInteger open) {
    Limits(long headMs, long bodyMs, int maxConnections) {
      this(headMs, bodyMs, maxConnections, new AtomicInteger());
    }
  }

  private SlowClients() {}

  /**
   * A new connection (the server's connection handler, on its event loop, before any request was read): closed at
   * once when the port already has {@code maxConnections} open, otherwise counted until it closes and watched.
   */
  static void admit(HttpConnection connection, Limits limits) {
    if (limits.open().incrementAndGet() > limits.maxConnections()) {
      limits.open().decrementAndGet();
      connection.close();
      return;
    }
    connection.closeHandler(v -> limits.open().decrementAndGet());
    // Vert.x has no public access to the pipeline; its connections are ConnectionBase (vertx-core's own HTTP/1.x
    // connection, the only kind this server makes: h2c is off and there is no TLS)
    if (connection instanceof io.vertx.core.net.impl.ConnectionBase base) {
      Channel channel = base.channel();
      ChannelPipeline pipeline = channel.pipeline();
      if (pipeline.get("httpEncoder") != null) {
        HeadDeadline deadline = new HeadDeadline(limits.headMs());
        pipeline.addFirst("wxmpFirstByte", deadline.firstByte);
        // after the encoder: reads see decoded heads and contents, writes see responses before they are encoded
        pipeline.addAfter("httpEncoder", "wxmpHeadDeadline", deadline);
      }
    }
  }

  /** One connection's head deadline; every method runs on the connection's event loop. */
  private static final class HeadDeadline extends ChannelDuplexHandler {
    private final long headNanos;
    private ChannelHandlerContext ctx;
    private io.netty.util.concurrent.ScheduledFuture<?> timer;
    /** When the head being read must be complete (System.nanoTime); 0 while a request is being served. */
    private long deadline;
    /** Heads read whose response has not ended yet (more than one when a client pipelines). */
    private int inFlight;
    /** Kept alive after a response, and no byte of the next request yet. */
    private boolean idle;

    /** The first handler of the pipeline: sees the raw bytes, so the next head's deadline starts at its first. */
    final ChannelInboundHandlerAdapter firstByte = new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext c, Object msg) {
        if (idle) {
          idle = false;
          expectHead(System.nanoTime() + headNanos);
        }
        c.fireChannelRead(msg);
      }
    };

    HeadDeadline(long headMs) {
      this.headNanos = TimeUnit.MILLISECONDS.toNanos(headMs);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      expectHead(System.nanoTime() + headNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest) {
        inFlight++;
        idle = false;
        deadline = 0;
        cancel();
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      // a response's last part ends it; a 100 Continue (a whole response too) does not
      boolean informational = msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
      if (msg instanceof LastHttpContent && !informational && inFlight > 0 && --inFlight == 0) {
        idle = true; // the idle timeout watches it until the next request's first byte
      }
      ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      cancel();
      ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      cancel();
    }

    private void expectHead(long at) {
      deadline = at;
      cancel();
      timer = ctx.executor().schedule(this::check, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void check() {
      timer = null;
      if (deadline == 0) {
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        ctx.channel().close();
      } else {
        timer = ctx.executor().schedule(this::check, left, TimeUnit.NANOSECONDS);
      }
    }

    private void cancel() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
  }
}
