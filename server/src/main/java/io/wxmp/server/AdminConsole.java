package io.wxmp.server;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * Serves the merchants' web console (the Vite build of {@code admin-console/}, packed into the jar under
 * {@code webroot/admin}) at {@code /admin/}, same origin as the API. Vite names every asset by its content hash, so
 * {@code /admin/assets/*} may be cached for ever; everything else (index.html, the licence file) is revalidated.
 */
final class AdminConsole {
  static final String ROOT = "webroot/admin";
  /**
   * Only our own scripts, styles, fonts and API; images from here, data URLs and https (covers may be hosted
   * elsewhere). Element Plus and ECharts set style attributes, hence style-src-attr; no inline script, no eval.
   */
  static final String CSP = String.join("; ",
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "style-src-attr 'unsafe-inline'",
      "img-src 'self' data: blob: https:",
      "font-src 'self' data:",
      "connect-src 'self'",
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'");

  private AdminConsole() {}

  static void mount(Router root) {
    root.get("/admin").handler(ctx -> {
      if (ctx.request().path().equals("/admin")) {
        ctx.redirect("/admin/");
      } else {
        ctx.next();
      }
    });
    StaticHandler files = StaticHandler.create(ROOT).setCachingEnabled(false).setDirectoryListing(false)
        .setIndexPage("index.html").setDefaultContentEncoding("UTF-8");
    root.route("/admin/*").handler(AdminConsole::headers).handler(files);
  }

  private static void headers(RoutingContext ctx) {
    String path = ctx.request().path();
    boolean hashed = path.startsWith("/admin/assets/");
    ctx.addHeadersEndHandler(v -> {
      if (ctx.response().getStatusCode() != 200) {
        return;
      }
      var h = ctx.response().headers();
      h.set(HttpHeaders.CACHE_CONTROL, hashed ? "public, max-age=31536000, immutable" : "no-cache");
      h.set("Content-Security-Policy", CSP);
      h.set("X-Content-Type-Options", "nosniff");
      h.set("X-Frame-Options", "DENY");
      h.set("Referrer-Policy", "no-referrer");
      h.set("Cross-Origin-Opener-Policy", "same-origin");
    });
    ctx.next();
  }
}
