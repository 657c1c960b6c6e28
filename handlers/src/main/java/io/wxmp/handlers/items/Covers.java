package io.wxmp.handlers.items;

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
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Images;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.Upstream;
import java.util.Objects;

/**
 * {@code POST /admin/media}: a merchant's item cover, uploaded from the console as multipart field {@code file} — the
 * avatar's rules ({@link Images}: at most 1 MiB, JPEG, PNG or WebP by its bytes, WeChat's image content security),
 * stored as the merchant's own image in {@code media} with its audit entry, and served at {@code /media/{id}}. An
 * item's {@code coverUrl} may name only an uploaded image of the item's own merchant ({@link #mayUse}).
 */
public final class Covers {
  private static final String INSERT = """
      INSERT INTO media (id, owner_merchant_id, content_type, size_bytes, sha256, bytes)
      VALUES ($1, $2, $3, $4, $5, $6)""";
  private static final String OWNER = "SELECT owner_merchant_id FROM media WHERE id = $1";

  private final Vertx vertx;
  private final Pool pg;
  private final WxMaService wechat;
  private final Upstream upstream;
  private final String mediaBaseUrl;

  /** {@code mediaBaseUrl}: this server's public URL (the answered url is absolute), or null for a path. */
  public Covers(Vertx vertx, Pool pg, WxMaService wechat, Upstream upstream, String mediaBaseUrl) {
    this.vertx = vertx;
    this.pg = pg;
    this.wechat = wechat;
    this.upstream = upstream;
    this.mediaBaseUrl = mediaBaseUrl == null ? "" : mediaBaseUrl.replaceAll("/+$", "");
  }

  /** Checks and stores the upload; answers {@code {"id", "url", "contentType", "size"}}. Owners and editors only. */
  public Future<JsonObject> upload(RoutingContext ctx, MerchantPrincipal merchant, Audit.Who who) {
    merchant.requireWriter();
    FileUpload file = Images.file(ctx, "A cover");
    String path = file.uploadedFileName();
    return vertx.fileSystem().readFile(path).compose(bytes -> Images.type(bytes, "A cover")
        .compose(type -> Images.check(wechat, upstream, path)
            .compose(ok -> store(merchant.merchantId(), who, type, bytes))));
  }

  private Future<JsonObject> store(long merchantId, Audit.Who who, String type, Buffer bytes) {
    byte[] raw = bytes.getBytes();
    String id = Images.newId();
    JsonObject answer = new JsonObject().put("id", id).put("url", mediaBaseUrl + "/media/" + id)
        .put("contentType", type).put("size", raw.length);
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT)
        .execute(Tuple.of(id, merchantId, type, raw.length, Images.sha256(raw), Buffer.buffer(raw)))
        .compose(v -> Audit.record(tx, who, "media.upload", "media", id, new JsonObject()
            .put("contentType", new JsonObject().put("to", type)).put("size", new JsonObject().put("to", raw.length))))
        .map(answer));
  }

  /**
   * Fails with 400 (field {@code coverUrl}) when the cover names an image of this server that another merchant or a
   * user uploaded. A URL elsewhere, or unchanged from {@code before}, passes.
   */
  public Future<Void> mayUse(long merchantId, String before, String coverUrl) {
    String id = Images.mediaId(coverUrl);
    if (id == null || Objects.equals(before, coverUrl)) {
      return Future.succeededFuture();
    }
    return pg.preparedQuery(OWNER).execute(Tuple.of(id)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture();
      }
      Long owner = rows.iterator().next().getLong("owner_merchant_id");
      return owner != null && owner == merchantId ? Future.<Void>succeededFuture()
          : Future.failedFuture(ApiException.invalid(new JsonObject().put("coverUrl",
              "is an image that this merchant did not upload; upload it with POST /admin/media")));
    });
  }
}
