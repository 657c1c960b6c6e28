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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /admin/media as the console sends an item cover: the avatar's type and size rules and WeChat's image check,
 * owners and editors only, audited, and an item may use only its own merchant's uploads as its cover.
 */
class CoverUploadTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  /** A multipart body like the browser's FormData: the file in field {@code field}. */
  static Reply upload(String token, String field, String declaredType, byte[] file) {
    return upload("/api/v1/admin/media", token, field, declaredType, file);
  }

  static Reply upload(String path, String token, String field, String declaredType, byte[] file) {
    String boundary = "----consoleBoundary" + System.nanoTime();
    Buffer body = Buffer.buffer()
        .appendString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field
            + "\"; filename=\"cover.png\"\r\nContent-Type: " + declaredType + "\r\n\r\n")
        .appendBytes(file)
        .appendString("\r\n--" + boundary + "--\r\n");
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "multipart/form-data; boundary=" + boundary);
    return stack.api.send(HttpMethod.POST, path, token, body, headers);
  }

  private static long checks() {
    return stack.sandbox.get("/sandbox/stats", null).json().getLong("imgSecChecks", 0L);
  }

  private static long stored(TestStack.Merchant m) {
    return stack.count("SELECT count(*) FROM media WHERE owner_merchant_id = $1", Tuple.of(m.id()));
  }

  private static Reply item(String token, String coverUrl) {
    return stack.api.post("/api/v1/admin/items", token, new JsonObject().put("kind", "article").put("title", "封面")
        .put("coverUrl", coverUrl));
  }

  @Test
  void anEditorUploadsACoverThatIsServedImmutableAndAudited() {
    TestStack.Merchant m = stack.newMerchant();
    byte[] image = AvatarTest.png(5_000, null);
    long before = checks();
    Reply r = upload(m.editor(), "file", "application/octet-stream", image);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(checks()).isEqualTo(before + 1);
    String id = r.json().getString("id");
    assertThat(id).matches("[0-9a-f]{32}");
    assertThat(r.json().getString("url")).matches("http://127\\.0\\.0\\.1:\\d+/media/" + id);
    assertThat(r.json().getString("contentType")).isEqualTo("image/png");
    assertThat(r.json().getInteger("size")).isEqualTo(5_000);

    Reply media = stack.api.get("/media/" + id, null);
    assertThat(media.status()).isEqualTo(200);
    assertThat(media.headers().get("Content-Type")).isEqualTo("image/png");
    assertThat(media.headers().get("Cache-Control")).contains("immutable");
    assertThat(media.raw().getBytes()).isEqualTo(image);
    assertThat(stored(m)).isEqualTo(1);

    // the owner may upload too; the audit log names who uploaded what
    assertThat(upload(m.owner(), "file", "image/png", image).status()).isEqualTo(201);
    Reply audit = stack.api.get("/api/v1/admin/audit?limit=50", m.owner());
    JsonObject entry = audit.json().getJsonArray("items").stream().map(JsonObject.class::cast)
        .filter(e -> e.getString("action").equals("media.upload") && e.getJsonObject("target").getString("id").equals(id))
        .findFirst().orElseThrow();
    assertThat(entry.getJsonObject("account").getString("username")).isEqualTo(m.prefix() + "-editor");
    assertThat(entry.getJsonObject("target").getString("type")).isEqualTo("media");

    // and the item takes it as its cover
    Reply created = item(m.editor(), r.json().getString("url"));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    assertThat(created.json().getString("coverUrl")).isEqualTo(r.json().getString("url"));
  }

  @Test
  void limitsAndRolesAreCheckedBeforeAnythingIsStoredOrSentToWeChat() {
    TestStack.Merchant m = stack.newMerchant();
    long before = checks();

    Reply tooBig = upload(m.editor(), "file", "image/png", AvatarTest.png(1024 * 1024 + 1, null));
    assertThat(tooBig.status()).isEqualTo(413);
    assertThat(tooBig.errorCode()).isEqualTo("payload_too_large");
    assertThat(upload(m.editor(), "file", "image/png", AvatarTest.png(3 * 1024 * 1024, null)).status()).isEqualTo(413);
    Reply gif = upload(m.editor(), "file", "image/png", "GIF89a-not-allowed".getBytes(StandardCharsets.US_ASCII));
    assertThat(gif.status()).isEqualTo(415);
    assertThat(gif.errorCode()).isEqualTo("unsupported_media_type");
    Reply noFile = upload(m.editor(), "picture", "image/png", AvatarTest.png(100, null));
    assertThat(noFile.status()).isEqualTo(400);
    assertThat(noFile.json().getJsonObject("error").getJsonObject("fields").containsKey("file")).isTrue();
    assertThat(stack.api.post("/api/v1/admin/media", m.editor(), new JsonObject().put("file", "x")).status())
        .isEqualTo(415);
    assertThat(upload(null, "file", "image/png", AvatarTest.png(100, null)).status()).isEqualTo(401);
    assertThat(upload(stack.newUserToken(), "file", "image/png", AvatarTest.png(100, null)).status()).isEqualTo(401);
    Reply analyst = upload(m.analyst(), "file", "image/png", AvatarTest.png(100, null));
    assertThat(analyst.status()).isEqualTo(403);
    assertThat(analyst.errorCode()).isEqualTo("forbidden");

    Reply risky = upload(m.editor(), "file", "image/png", AvatarTest.png(3_000, "casino"));
    assertThat(risky.status()).isEqualTo(422);
    assertThat(risky.errorCode()).isEqualTo("content_rejected");
    assertThat(risky.json().getJsonObject("error").getJsonObject("fields").containsKey("file")).isTrue();

    assertThat(checks()).as("only the risky image went to WeChat").isEqualTo(before + 1);
    assertThat(stored(m)).isZero();
    assertThat(stack.count("SELECT count(*) FROM audit_log WHERE merchant_id = $1 AND action = 'media.upload'",
        Tuple.of(m.id()))).isZero();
  }

  @Test
  void anItemsCoverIsItsOwnMerchantsUploadOrAnImageElsewhere() {
    TestStack.Merchant a = stack.newMerchant();
    TestStack.Merchant b = stack.newMerchant();
    String aCover = upload(a.editor(), "file", "image/png", AvatarTest.png(2_000, null)).json().getString("url");

    Reply foreign = item(b.editor(), aCover);
    assertThat(foreign.status()).isEqualTo(400);
    assertThat(foreign.json().getJsonObject("error").getJsonObject("fields").containsKey("coverUrl")).isTrue();
    assertThat(stack.count("SELECT count(*) FROM items WHERE merchant_id = $1", Tuple.of(b.id()))).isZero();

    // a user's avatar is not a merchant's cover either
    String user = stack.newUserToken();
    assertThat(upload("/api/v1/me/avatar", user, "file", "image/png", AvatarTest.png(2_000, null)).status()).isEqualTo(200);
    String avatarUrl = stack.api.get("/api/v1/me", user).json().getString("avatarUrl");
    assertThat(item(b.editor(), avatarUrl).status()).isEqualTo(400);

    // B's own item, edited to use A's image: refused, and the cover stays as it was
    Reply own = item(b.editor(), "https://cdn.example.com/covers/b.png");
    assertThat(own.status()).as(own.toString()).isEqualTo(201);
    String itemId = own.json().getString("id");
    Reply patched = stack.api.patch("/api/v1/admin/items/" + itemId, b.editor(), new JsonObject().put("coverUrl", aCover));
    assertThat(patched.status()).isEqualTo(400);
    assertThat(patched.json().getJsonObject("error").getJsonObject("fields").containsKey("coverUrl")).isTrue();
    assertThat(stack.api.get("/api/v1/admin/items/" + itemId, b.analyst()).json().getString("coverUrl"))
        .isEqualTo("https://cdn.example.com/covers/b.png");

    // A uses its own upload
    assertThat(item(a.editor(), aCover).status()).isEqualTo(201);
  }
}
