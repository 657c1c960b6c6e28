package io.wxmp.handlers.common;

import cn.binarywang.wx.miniapp.api.WxMaService;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import java.io.File;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.chanjar.weixin.common.error.WxErrorException;

/**
 * What every image upload shares (a user's avatar, a merchant's item cover): the multipart field {@code file} of at
 * most {@link #MAX_BYTES}, JPEG, PNG or WebP by its first bytes (the declared type is not trusted), WeChat's image
 * content security ({@code img_sec_check} through WxJava), and the id and digest of the {@code media} row that
 * {@code GET /media/{id}} serves.
 */
public final class Images {
  public static final int MAX_BYTES = 1024 * 1024;
  /** The id of an image this server serves, at the end of its URL. */
  private static final Pattern MEDIA_URL = Pattern.compile("/media/([0-9a-f]{32})$");
  /** Risky image, as {@code img_sec_check} answers. */
  private static final int RISKY = 87014;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Images.class);

  private Images() {}

  /**
   * The uploaded file of field {@code file}, checked for presence and size: 415 when the body is not multipart,
   * 400 with a {@code file} field error when the field is missing or empty, 413 over {@code MAX_BYTES}. {@code what}
   * names the image in the 413's message ("An avatar").
   */
  public static FileUpload file(RoutingContext ctx, String what) {
    FileUpload file = null;
    for (FileUpload f : ctx.fileUploads()) {
      if ("file".equals(f.name())) {
        file = f;
      }
    }
    if (file == null) {
      String type = ctx.request().getHeader("Content-Type");
      if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
        throw new ApiException(415, "unsupported_media_type", "Send the image as multipart/form-data, field file.");
      }
      throw ApiException.invalid(new JsonObject().put("file", "is required (a JPEG, PNG or WebP image)"));
    }
    if (file.size() > MAX_BYTES) {
      throw new ApiException(413, "payload_too_large", what + " is at most 1 MiB.");
    }
    if (file.size() == 0) {
      throw ApiException.invalid(new JsonObject().put("file", "is empty"));
    }
    return file;
  }

  /** The image type by its first bytes, or null. */
  public static String sniff(Buffer b) {
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

  /** The sniffed type, or a failed 415 naming {@code what} ("An avatar must be ..."). */
  public static Future<String> type(Buffer bytes, String what) {
    String type = sniff(bytes);
    return type != null ? Future.succeededFuture(type) : Future.failedFuture(
        new ApiException(415, "unsupported_media_type", what + " must be a JPEG, PNG or WebP image."));
  }

  /**
   * WeChat's image content security for the uploaded file: 422 {@code content_rejected} (field {@code file}) when it
   * judges the image risky, 503 when WeChat does not answer.
   */
  public static Future<Void> check(WxMaService wechat, Upstream upstream, String path) {
    return upstream.call("WeChat", () -> wechat.getSecurityService().checkImage(new File(path)))
        .recover(failure -> failure instanceof WxErrorException wx && wx.getError().getErrorCode() == RISKY
            ? Future.failedFuture(ApiException.contentRejected(new JsonObject()
                .put("file", "WeChat content security judged this image risky")))
            : Future.failedFuture(failure instanceof ApiException ? failure : unavailable(failure)))
        .mapEmpty();
  }

  /** The media id in a URL this server would have handed out ({@code .../media/<id>}), or null. */
  public static String mediaId(String url) {
    if (url == null) {
      return null;
    }
    Matcher m = MEDIA_URL.matcher(url);
    return m.find() ? m.group(1) : null;
  }

  /** A new media id: 128 random bits in hex (a URL nobody can guess, never reused). */
  public static String newId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  public static String sha256(byte[] raw) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ApiException unavailable(Throwable failure) {
    ApiException inner = Upstream.innerApiException(failure);
    if (inner != null) {
      return inner;
    }
    log.warn("WeChat's image check failed: {}", failure.toString());
    return ApiException.upstreamUnavailable("WeChat");
  }
}
