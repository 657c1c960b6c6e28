package io.wxmp.handlers.auth;

import cn.binarywang.wx.miniapp.api.WxMaService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Upstream;
import io.wxmp.handlers.common.UserPrincipal;
import java.io.File;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import me.chanjar.weixin.common.error.WxErrorException;

/**
 * Avatars from {@code <button open-type="chooseAvatar">} uploaded with {@code wx.uploadFile} (multipart, field
 * {@code file}): at most 1 MiB, JPEG, PNG or WebP by their bytes (the declared type is not trusted), checked by
 * WeChat's image content security through WxJava ({@code img_sec_check}), stored in PostgreSQL and served at
 * {@code /media/{id}} with a long, immutable cache lifetime (a new upload gets a new id). The user's avatarUrl points
 * there.
 */
public final class Avatars {
  public static final int MAX_BYTES = 1024 * 1024;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Avatars.class);
  /** Risky image, as {@code img_sec_check} answers. */
  private static final int RISKY = 87014;
  private static final SecureRandom RANDOM = new SecureRandom();
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
    FileUpload file = null;
    for (FileUpload f : ctx.fileUploads()) {
      if ("file".equals(f.name())) {
        file = f;
      }
    }
    if (file == null) {
      String type = ctx.request().getHeader("Content-Type");
      if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
        throw new ApiException(415, "unsupported_media_type", "Send the image as multipart/form-data, field file.");
      }
      throw ApiException.invalid(new JsonObject().put("file", "is required (a JPEG, PNG or WebP image)"));
    }
    if (file.size() > MAX_BYTES) {
      throw new ApiException(413, "payload_too_large", "An avatar is at most 1 MiB.");
    }
    if (file.size() == 0) {
      throw ApiException.invalid(new JsonObject().put("file", "is empty"));
    }
    String path = file.uploadedFileName();
    return vertx.fileSystem().readFile(path).compose(bytes -> {
      String type = sniff(bytes);
      if (type == null) {
        return Future.failedFuture(new ApiException(415, "unsupported_media_type",
            "An avatar must be a JPEG, PNG or WebP image."));
      }
      return upstream.call("WeChat", () -> wechat.getSecurityService().checkImage(new File(path)))
          .recover(failure -> failure instanceof WxErrorException wx && wx.getError().getErrorCode() == RISKY
              ? Future.failedFuture(ApiException.contentRejected(new JsonObject()
                  .put("file", "WeChat content security judged this image risky")))
              : Future.failedFuture(failure instanceof ApiException ? failure : unavailable(failure)))
          .compose(ok -> store(user.userId(), type, bytes));
    });
  }

  private Future<Void> store(long userId, String type, Buffer bytes) {
    byte[] raw = bytes.getBytes();
    String id = newId();
    String url = mediaBaseUrl + "/media/" + id;
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT)
        .execute(Tuple.of(id, userId, type, raw.length, sha256(raw), Buffer.buffer(raw)))
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

  private static ApiException unavailable(Throwable failure) {
    ApiException inner = io.wxmp.handlers.common.Upstream.innerApiException(failure);
    if (inner != null) {
      return inner;
    }
    log.warn("WeChat's image check failed: {}", failure.toString());
    return ApiException.upstreamUnavailable("WeChat");
  }

  /** The image type by its first bytes, or null. */
  static String sniff(Buffer b) {
    if (b.length() >= 3 && (b.getByte(0) & 0xff) == 0xFF && (b.getByte(1) & 0xff) == 0xD8
        && (b.getByte(2) & 0xff) == 0xFF) {
      return "image/jpeg";
    }
    if (b.length() >= 8 && b.getString(1, 4, "ISO-8859-1").equals("PNG") && (b.getByte(0) & 0xff) == 0x89
        && b.getByte(4) == 0x0D && b.getByte(5) == 0x0A && b.getByte(6) == 0x1A && b.getByte(7) == 0x0A) {
      return "image/png";
    }
    if (b.length() >= 12 && b.getString(0, 4, "ISO-8859-1").equals("RIFF")
        && b.getString(8, 12, "ISO-8859-1").equals("WEBP")) {
      return "image/webp";
    }
    return null;
  }

  private static String newId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private static String sha256(byte[] raw) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
