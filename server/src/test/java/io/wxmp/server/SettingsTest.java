package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration order (defaults, file, environment) and one-line failures that name the setting. */
class SettingsTest {
  @Test
  void environmentWinsOverTheFileWhichWinsOverDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("wxmp.properties");
    Files.writeString(file, "WXMP_HTTP_PORT=9000\nWXMP_PG_POOL_SIZE=7\n");
    Settings s = Settings.load(Map.of("WXMP_CONFIG_FILE", file.toString(), "WXMP_HTTP_PORT", "9100"));
    assertThat(s.integer("WXMP_HTTP_PORT", 0, 65535)).isEqualTo(9100);
    assertThat(s.integer("WXMP_PG_POOL_SIZE", 1, 100)).isEqualTo(7);
    assertThat(s.required("WXMP_HTTP_HOST")).isEqualTo("0.0.0.0");
  }

  @Test
  void devModeOnlyWhenAskedFor() {
    assertThat(Settings.load(Map.of()).devMode()).isFalse();
    assertThat(Settings.load(Map.of("WXMP_MODE", "dev")).devMode()).isTrue();
    assertThat(Settings.load(Map.of("WXMP_MODE", "prod")).devMode()).isFalse();
    assertThatThrownBy(() -> Settings.load(Map.of("WXMP_MODE", "auto")).devMode())
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_MODE:");
    // a production host that forgot its database is told so, and how dev mode is asked for
    assertThatThrownBy(() -> WxmpServer.start(Settings.load(Map.of())))
        .isInstanceOf(Settings.ConfigException.class)
        .satisfies(e -> assertThat(((Settings.ConfigException) e).problems())
            .anySatisfy(p -> assertThat(p).startsWith("WXMP_PG_URL: required but not set").contains("WXMP_MODE=dev")));
  }

  @Test
  void unknownNamesAreRefusedWithTheClosestSetting(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> Settings.load(Map.of("WXMP_HTTP_PROT", "9000")).check().done())
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessage("WXMP_HTTP_PROT: no such setting (in the environment); did you mean WXMP_HTTP_PORT?");
    Path file = dir.resolve("wxmp.properties");
    Files.writeString(file, "WXMP_PG_POOLSIZE=7\n");
    assertThatThrownBy(() -> Settings.load(Map.of("WXMP_CONFIG_FILE", file.toString())).check().done())
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessageStartingWith("WXMP_PG_POOLSIZE: no such setting (in " + file + "); did you mean WXMP_PG_POOL_SIZE?");
    // the front ends' test runners and the console's dev proxy share the WXMP_ prefix: not settings, not typos
    Settings.load(Map.of("WXMP_LIVE_API", "x", "WXMP_E2E_API", "x", "WXMP_API_ORIGIN", "x", "OTHER", "x"))
        .check().done();
    // the log settings that logback.xml reads are settings too
    Settings.load(Map.of("WXMP_ACCESS_LOG_LEVEL", "WARN")).check().done();
  }

  @Test
  void everyMissingOrMalformedSettingIsReportedAtOnce() {
    Settings s = Settings.load(Map.of("WXMP_PG_URL", "postgresql://u:p@127.0.0.1:1/wxmp",
        "WXMP_HTTP_PORT", "eighty", "WXMP_HTTP_PROT", "8080", "WXMP_FEED_CANDIDATES", "5",
        "WXMP_RANKING_DIM", "8", "WXMP_PAY_APIV3_KEY", "short", "WXMP_REDIS_MODE", "ring"));
    assertThatThrownBy(() -> WxmpServer.start(s))
        .isInstanceOf(Settings.ConfigException.class)
        .satisfies(e -> assertThat(((Settings.ConfigException) e).problems())
            .map(p -> p.substring(0, p.indexOf(':')))
            .containsExactlyInAnyOrder("WXMP_HTTP_PROT", "WXMP_HTTP_PORT", "WXMP_FEED_CANDIDATES", "WXMP_RANKING_DIM",
                "WXMP_PAY_APIV3_KEY", "WXMP_REDIS_MODE", "WXMP_REDIS_URL", "WXMP_WX_APPID", "WXMP_WX_SECRET",
                "WXMP_FEED_TOKEN_KEY", "WXMP_PAY_MCH_ID", "WXMP_PAY_MERCHANT_SERIAL", "WXMP_PAY_MERCHANT_KEY_FILE",
                "WXMP_PAY_PUBLIC_KEY_FILE", "WXMP_PAY_PUBLIC_KEY_ID", "WXMP_PAY_NOTIFY_URL", "WXMP_PHONE_KEY"));
  }

  /** The README's configuration table lists every setting, and only settings. */
  @Test
  void theReadmeDocumentsEverySetting() throws Exception {
    String readme = Files.readString(Path.of("../README.md"));
    java.util.Set<String> documented = new java.util.TreeSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\| `(WXMP_[A-Z0-9_]+)` \\|").matcher(readme);
    while (m.find()) {
      documented.add(m.group(1));
    }
    assertThat(documented).containsExactlyInAnyOrderElementsOf(Settings.names());
  }

  @Test
  void missingOrMalformedSettingsNameThemselves(@TempDir Path dir) {
    assertThatThrownBy(() -> Settings.load(Map.of("WXMP_HTTP_PORT", "eighty")).integer("WXMP_HTTP_PORT", 0, 65535))
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_HTTP_PORT:");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(Map.of("WXMP_PG_URL", "mysql://x"))))
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_PG_URL:");
    assertThatThrownBy(() -> WxmpServer.start(Settings.of(Map.of(
        "WXMP_PG_URL", "postgresql://u:p@127.0.0.1:1/wxmp", "WXMP_REDIS_URL", "redis://127.0.0.1:1"))))
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_WX_APPID:");
    assertThatThrownBy(() -> Settings.load(Map.of("WXMP_CONFIG_FILE", dir.resolve("missing").toString())))
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_CONFIG_FILE:");
  }

  @Test
  void feedTokenKeyIsRequiredAndLongEnough() {
    assertThatThrownBy(() -> WxmpServer.feedTokenKey(Settings.of(Map.of())))
        .isInstanceOf(Settings.ConfigException.class).hasMessageStartingWith("WXMP_FEED_TOKEN_KEY:");
    assertThatThrownBy(() -> WxmpServer.feedTokenKey(Settings.of(Map.of("WXMP_FEED_TOKEN_KEY", "c2hvcnQ="))))
        .isInstanceOf(Settings.ConfigException.class).hasMessageContaining("at least 32 bytes");
    assertThatThrownBy(() -> WxmpServer.feedTokenKey(Settings.of(Map.of("WXMP_FEED_TOKEN_KEY", "not base64 !"))))
        .isInstanceOf(Settings.ConfigException.class).hasMessageContaining("not base64");
    String key = java.util.Base64.getEncoder().encodeToString(new byte[40]);
    assertThat(WxmpServer.feedTokenKey(Settings.of(Map.of("WXMP_FEED_TOKEN_KEY", key)))).hasSize(40);
  }
}
