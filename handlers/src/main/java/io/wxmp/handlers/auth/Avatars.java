package io.wxmp.handlers.auth;

import cn.binarywang.wx.miniapp.api.WxMaService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Images;
import io.wxmp.handlers.common.Upstream;
import io.wxmp.handlers.common.UserPrincipal;

/**
 * Avatars from {@code <button open-type="chooseAvatar">} uploaded with {@code wx.uploadFile} (multipart, field
 * {@code file}): at most 1 MiB, JPEG, PNG or WebP by their bytes (the declared type is not trusted), checked by
 * WeChat's image content security through WxJava ({@code img_sec_check}) — the rules of {@link Images}, which item
 * covers share — stored in PostgreSQL and served at {@code /media/{id}} with a long, immutable cache lifetime (a new
 * upload gets a new id). The user's avatarUrl points there.
 */
public final class Avatars {
  public static final int MAX_BYTES = Images.MAX_BYTES;
  private static final String INSERT = """
      INSERT INTO media (id, owner_user_id, content_type, size_bytes, sha256, bytes) VALUES ($1, $2, $3, $4, $5, $6)""";
  private static final String SET_AVATAR = "UPDATE users SET avatar_url = $2 WHERE id = $1";
  private static final String BY_ID = "SELECT content_type, bytes, sha256 FROM media WHERE id = $1";

  private final Vertx vertx;
  private final Pool pg;
  private final WxMaService wechat;
  private final Upstream upstream;
  private final String mediaBaseUrl;

  /** {@code mediaBaseUrl}: this server's public URL (the avatarUrl is absolute), or null for a path. */
  public Avatars(Vertx vertx, Pool pg, WxMaService wechat, Upstream upstream, String mediaBaseUrl) {
    this.vertx = vertx;
    this.pg = pg;
    this.wechat = wechat;
    this.upstream = upstream;
    this.mediaBaseUrl = mediaBaseUrl == null ? "" : mediaBaseUrl.replaceAll("/+$", "");
  }

  /** Checks and stores the upload, sets it as the user's avatar; answers nothing (the caller answers /me). */
  public Future<Void> upload(RoutingContext ctx, UserPrincipal user) {
    FileUpload file = Images.file(ctx, "An avatar");
    String path = file.uploadedFileName();
    return vertx.fileSystem().readFile(path).compose(bytes -> Images.type(bytes, "An avatar")
        .compose(type -> Images.check(wechat, upstream, path).compose(ok -> store(user.userId(), type, bytes))));
  }

  private Future<Void> store(long userId, String type, Buffer bytes) {
    byte[] raw = bytes.getBytes();
    String id = Images.newId();
    String url = mediaBaseUrl + "/media/" + id;
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT)
        .execute(Tuple.of(id, userId, type, raw.length, Images.sha256(raw), Buffer.buffer(raw)))
        .compose(v -> tx.preparedQuery(SET_AVATAR).execute(Tuple.of(userId, url)))
        .mapEmpty());
  }

  /** {@code GET /media/{id}}: the stored bytes, cacheable for a year and never changed. */
  public void serve(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (id == null || !id.matches("[0-9a-f]{32}")) {
      ctx.fail(ApiException.notFound());
      return;
    }
    pg.preparedQuery(BY_ID).execute(Tuple.of(id)).onComplete(done -> {
      if (done.failed()) {
        ctx.fail(done.cause());
        return;
      }
      if (done.result().size() == 0) {
        ctx.fail(ApiException.notFound());
        return;
      }
      var row = done.result().iterator().next();
      String etag = "\"" + row.getString("sha256") + "\"";
      ctx.response().putHeader("Cache-Control", "public, max-age=31536000, immutable")
          .putHeader("ETag", etag)
          .putHeader("X-Content-Type-Options", "nosniff");
      if (etag.equals(ctx.request().getHeader("If-None-Match"))) {
        ctx.response().setStatusCode(304).end();
        return;
      }
      ctx.response().putHeader("Content-Type", row.getString("content_type")).end(row.getBuffer("bytes"));
    });
  }
}
