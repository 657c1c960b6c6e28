package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** POST /me/avatar as wx.uploadFile sends it: type and size limits, WeChat's image check, served from /media. */
class AvatarTest {
  static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  static byte[] png(int size, String text) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 7);
    System.arraycopy(PNG_SIGNATURE, 0, bytes, 0, PNG_SIGNATURE.length);
    if (text != null) {
      byte[] t = ("tEXtComment" + text).getBytes(StandardCharsets.UTF_8);
      System.arraycopy(t, 0, bytes, 16, t.length);
    }
    return bytes;
  }

  /** A multipart body like wx.uploadFile's: the file in field {@code field}, plus a form field. */
  static Reply upload(String token, String field, String declaredType, byte[] file) {
    String boundary = "----wxmpBoundary" + System.nanoTime();
    Buffer body = Buffer.buffer()
        .appendString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\navatar\r\n")
        .appendString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field
            + "\"; filename=\"tmp_avatar\"\r\nContent-Type: " + declaredType + "\r\n\r\n")
        .appendBytes(file)
        .appendString("\r\n--" + boundary + "--\r\n");
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "multipart/form-data; boundary=" + boundary);
    return stack.api.send(HttpMethod.POST, "/api/v1/me/avatar", token, body, headers);
  }

  private static long checks() {
    return stack.sandbox.get("/sandbox/stats", null).json().getLong("imgSecChecks", 0L);
  }

  @Test
  void anAcceptedImageBecomesTheAvatarAndIsServedImmutable() {
    String token = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/me", token).json().getString("avatarUrl")).isNull(); // now cached
    byte[] image = png(4_000, null);
    long before = checks();
    Reply r = upload(token, "file", "image/png", image);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(checks()).isEqualTo(before + 1);
    String url = r.json().getString("avatarUrl");
    assertThat(url).matches("http://127\\.0\\.0\\.1:\\d+/media/[0-9a-f]{32}");
    assertThat(stack.api.get("/api/v1/me", token).json().getString("avatarUrl")).isEqualTo(url);

    String path = url.substring(url.indexOf("/media/"));
    Reply media = stack.api.get(path, null);
    assertThat(media.status()).isEqualTo(200);
    assertThat(media.headers().get("Content-Type")).isEqualTo("image/png");
    assertThat(media.headers().get("Cache-Control")).contains("immutable");
    assertThat(media.raw().getBytes()).isEqualTo(image);
    MultiMap conditional = MultiMap.caseInsensitiveMultiMap().add("If-None-Match", media.headers().get("ETag"));
    assertThat(stack.api.send(HttpMethod.GET, path, null, null, conditional).status()).isEqualTo(304);
    assertThat(stack.api.get("/media/" + "0".repeat(32), null).status()).isEqualTo(404);
    assertThat(stack.api.get("/media/not-an-id", null).status()).isEqualTo(404);

    // JPEG and WebP too, by their bytes
    byte[] jpeg = new byte[2_000];
    jpeg[0] = (byte) 0xFF;
    jpeg[1] = (byte) 0xD8;
    jpeg[2] = (byte) 0xFF;
    assertThat(upload(token, "file", "application/octet-stream", jpeg).status()).isEqualTo(200);
    byte[] webp = new byte[2_000];
    System.arraycopy("RIFF".getBytes(StandardCharsets.US_ASCII), 0, webp, 0, 4);
    System.arraycopy("WEBP".getBytes(StandardCharsets.US_ASCII), 0, webp, 8, 4);
    assertThat(upload(token, "file", "image/webp", webp).status()).isEqualTo(200);
  }

  @Test
  void limitsAreCheckedBeforeAnythingIsStored() {
    String token = stack.newUserToken();
    long userId = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
    long before = checks();

    Reply tooBig = upload(token, "file", "image/png", png(1024 * 1024 + 1, null));
    assertThat(tooBig.status()).isEqualTo(413);
    assertThat(tooBig.errorCode()).isEqualTo("payload_too_large");
    assertThat(upload(token, "file", "image/png", png(3 * 1024 * 1024, null)).status()).isEqualTo(413);
    assertThat(upload(token, "file", "image/png", png(1024 * 1024, null)).status()).isEqualTo(200);

    Reply gif = upload(token, "file", "image/png", "GIF89a-not-allowed".getBytes(StandardCharsets.US_ASCII));
    assertThat(gif.status()).isEqualTo(415);
    assertThat(gif.errorCode()).isEqualTo("unsupported_media_type");
    Reply noFile = upload(token, "picture", "image/png", png(100, null));
    assertThat(noFile.status()).isEqualTo(400);
    assertThat(noFile.json().getJsonObject("error").getJsonObject("fields").containsKey("file")).isTrue();
    assertThat(stack.api.post("/api/v1/me/avatar", token, new JsonObject().put("file", "x")).status())
        .isEqualTo(415);
    assertThat(upload(null, "file", "image/png", png(100, null)).status()).isEqualTo(401);

    assertThat(checks()).as("only the one good image went to WeChat").isEqualTo(before + 1);
    assertThat(stack.count("SELECT count(*) FROM media WHERE owner_user_id = $1", Tuple.of(userId))).isEqualTo(1);
  }

  @Test
  void anImageWeChatJudgesRiskyIsRefused() {
    String token = stack.newUserToken();
    long userId = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
    Reply risky = upload(token, "file", "image/png", png(3_000, "casino"));
    assertThat(risky.status()).isEqualTo(422);
    assertThat(risky.errorCode()).isEqualTo("content_rejected");
    assertThat(risky.json().getJsonObject("error").getJsonObject("fields").containsKey("file")).isTrue();
    assertThat(stack.api.get("/api/v1/me", token).json().getString("avatarUrl")).isNull();
    assertThat(stack.count("SELECT count(*) FROM media WHERE owner_user_id = $1", Tuple.of(userId))).isZero();
  }
}
