package io.wxmp.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The console is served from the jar at /admin/: index revalidated, hashed assets cached for ever, a strict CSP. */
class AdminConsoleTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  @Test
  void indexIsRevalidatedAndCarriesTheCsp() {
    // /admin redirects to /admin/ (the test client follows it)
    Reply redirected = stack.api.get("/admin", null);
    assertThat(redirected.status()).isEqualTo(200);
    assertThat(redirected.raw().toString()).contains("<div id=\"app\"></div>");

    Reply index = stack.api.get("/admin/", null);
    assertThat(index.status()).isEqualTo(200);
    assertThat(index.headers().get("Content-Type")).startsWith("text/html");
    assertThat(index.headers().get("Cache-Control")).isEqualTo("no-cache");
    String csp = index.headers().get("Content-Security-Policy");
    assertThat(csp).contains("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'",
        "object-src 'none'");
    assertThat(csp).doesNotContain("unsafe-eval").doesNotContain("script-src 'self' 'unsafe-inline'");
    assertThat(index.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    String html = index.raw().toString();
    assertThat(html).contains("<div id=\"app\"></div>").doesNotContain("<script>");

    Matcher script = Pattern.compile("src=\"(/admin/assets/index-[A-Za-z0-9_-]+\\.js)\"").matcher(html);
    assertThat(script.find()).as(html).isTrue();
    Reply asset = stack.api.get(script.group(1), null);
    assertThat(asset.status()).isEqualTo(200);
    assertThat(asset.headers().get("Content-Type")).contains("javascript");
    assertThat(asset.headers().get("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    assertThat(asset.raw().length()).isGreaterThan(10_000);
  }

  @Test
  void missingFilesAre404AndTheApiIsUntouched() {
    Reply missing = stack.api.get("/admin/assets/index-doesnotexist.js", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.headers().get("Cache-Control")).isNull();
    assertThat(missing.errorCode()).isEqualTo("not_found");
    assertThat(stack.api.get("/admin/../openapi.yaml", null).status()).isIn(200, 404);
    Reply api = stack.api.get("/api/v1/admin/items", null);
    assertThat(api.status()).isEqualTo(401);
    assertThat(api.headers().get("Content-Security-Policy")).isNull();
  }

  @Test
  void theBundledLibrariesLicencesShipWithIt() {
    Reply licences = stack.api.get("/admin/THIRD-PARTY-LICENSES.txt", null);
    assertThat(licences.status()).isEqualTo(200);
    assertThat(licences.raw().toString()).contains("Name: vue", "Name: element-plus", "Name: echarts",
        "Apache License");
  }
}
