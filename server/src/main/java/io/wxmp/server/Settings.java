package io.wxmp.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration: built-in defaults, then a properties file ({@code WXMP_CONFIG_FILE}), then environment variables.
 * Every setting has one name, the same in the file and the environment, listed in the README's table. A missing or
 * malformed setting fails with a {@link ConfigException} whose message names it.
 */
public final class Settings {
  private final Map<String, String> values;

  private Settings(Map<String, String> values) {
    this.values = values;
  }

  /** Defaults, then the file named by {@code WXMP_CONFIG_FILE} (in the environment) if any, then {@code env}. */
  public static Settings load(Map<String, String> env) {
    Map<String, String> merged = new LinkedHashMap<>(Defaults.VALUES);
    String file = env.get("WXMP_CONFIG_FILE");
    if (file != null && !file.isBlank()) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(Path.of(file))) {
        props.load(reader);
      } catch (IOException e) {
        throw new ConfigException("WXMP_CONFIG_FILE: cannot read " + file + " (" + e.getMessage() + ")");
      }
      props.forEach((k, v) -> merged.put(k.toString().trim(), v.toString().trim()));
    }
    env.forEach((k, v) -> {
      if (k.startsWith("WXMP_")) {
        merged.put(k, v);
      }
    });
    return new Settings(merged);
  }

  public static Settings of(Map<String, String> values) {
    Map<String, String> merged = new LinkedHashMap<>(Defaults.VALUES);
    merged.putAll(values);
    return new Settings(merged);
  }

  /** A copy with some settings replaced (dev mode fills in the URLs of the servers it started). */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> copy = new HashMap<>(values);
    copy.putAll(overrides);
    return new Settings(copy);
  }

  public String string(String name) {
    String value = values.get(name);
    return value == null || value.isBlank() ? null : value.trim();
  }

  public String required(String name) {
    String value = string(name);
    if (value == null) {
      throw new ConfigException(name + ": required but not set");
    }
    return value;
  }

  public int integer(String name, int min, int max) {
    String value = required(name);
    try {
      int n = Integer.parseInt(value);
      if (n < min || n > max) {
        throw new ConfigException(name + ": " + value + " is outside " + min + ".." + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(name + ": '" + value + "' is not a whole number");
    }
  }

  public boolean bool(String name) {
    String value = required(name);
    if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
      throw new ConfigException(name + ": '" + value + "' is not true or false");
    }
    return Boolean.parseBoolean(value);
  }

  /** Dev mode is what you get with no database URL, unless WXMP_MODE says otherwise. */
  public boolean devMode() {
    String mode = string("WXMP_MODE");
    if (mode == null || mode.equals("auto")) {
      return string("WXMP_PG_URL") == null;
    }
    if (!mode.equals("dev") && !mode.equals("prod")) {
      throw new ConfigException("WXMP_MODE: '" + mode + "' is not auto, dev or prod");
    }
    return mode.equals("dev");
  }

  /** Thrown for a missing or malformed setting; Main prints its message alone and exits. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message, null, false, false);
    }
  }

  private static final class Defaults {
    static final Map<String, String> VALUES = Map.ofEntries(
        Map.entry("WXMP_MODE", "auto"),
        Map.entry("WXMP_HTTP_HOST", "0.0.0.0"),
        Map.entry("WXMP_HTTP_PORT", "8080"),
        Map.entry("WXMP_MANAGEMENT_HOST", "127.0.0.1"),
        Map.entry("WXMP_MANAGEMENT_PORT", "9464"),
        Map.entry("WXMP_HTTP_INSTANCES", Integer.toString(Runtime.getRuntime().availableProcessors())),
        Map.entry("WXMP_DATA_DIR", ".wxmp"),
        Map.entry("WXMP_SANDBOX_PORT", "8081"),
        Map.entry("WXMP_SANDBOX_HOST", "127.0.0.1"),
        Map.entry("WXMP_DEV_REDIS_PORT", "6390"),
        Map.entry("WXMP_PG_POOL_SIZE", "16"),
        Map.entry("WXMP_REDIS_MODE", "standalone"),
        Map.entry("WXMP_REDIS_POOL_SIZE", "16"),
        Map.entry("WXMP_WX_API_URL", "https://api.weixin.qq.com"),
        Map.entry("WXMP_WECHAT_WORKERS", "16"),
        Map.entry("WXMP_UPSTREAM_TIMEOUT_MS", "3000"),
        Map.entry("WXMP_USER_TOKEN_TTL_SEC", "604800"),
        Map.entry("WXMP_ADMIN_TOKEN_TTL_SEC", "43200"),
        Map.entry("WXMP_OPERATOR_TOKEN_TTL_SEC", "43200"),
        Map.entry("WXMP_FEED_TRAIN_INTERVAL_SEC", "3600"),
        Map.entry("WXMP_FEED_TRAIN_SEED", "42"),
        Map.entry("WXMP_FEED_TRAIN_EPOCHS", "16"),
        Map.entry("WXMP_FEED_TRAIN_THREADS", Integer.toString(Runtime.getRuntime().availableProcessors())),
        Map.entry("WXMP_FEED_TRAIN_LEASE_SEC", "3600"),
        Map.entry("WXMP_FEED_CANDIDATES", "300"),
        Map.entry("WXMP_FEED_RANKING_TIMEOUT_MS", "150"),
        Map.entry("WXMP_FEED_SPONSORED_TIMEOUT_MS", "100"),
        Map.entry("WXMP_FEED_REFRESH_MS", "2000"),
        Map.entry("WXMP_FEED_CURSOR_TTL_SEC", "86400"),
        Map.entry("WXMP_RANKING_BACKEND", "auto"),
        Map.entry("WXMP_RANKING_DIM", "64"),
        Map.entry("WXMP_RANKING_BATCH_WINDOW_US", "200"),
        Map.entry("WXMP_RANKING_MAX_BATCH", "256"),
        Map.entry("WXMP_RANKING_QUEUE_BOUND", "10000"),
        Map.entry("WXMP_RANKING_FP16", "false"),
        Map.entry("WXMP_RISKY_WORDS", "赌博,casino,scam"),
        Map.entry("WXMP_PAY_API_URL", "https://api.mch.weixin.qq.com"),
        Map.entry("WXMP_PAY_ORDER_TTL_SEC", "900"),
        Map.entry("WXMP_PAY_RECONCILE_INTERVAL_SEC", "60"),
        Map.entry("WXMP_PAY_RECONCILE_AFTER_SEC", "300"),
        Map.entry("WXMP_PAY_NOTIFY_MAX_AGE_SEC", "300"),
        Map.entry("WXMP_QUIZ_SUBMIT_GRACE_MS", "2000"),
        Map.entry("WXMP_WX_MESSAGE_PAGE", "pages/orders/index"),
        Map.entry("WXMP_NOTIFY_RETRY_BASE_MS", "2000"),
        Map.entry("WXMP_NOTIFY_MAX_ATTEMPTS", "8"),
        Map.entry("WXMP_OUTBOX_POLL_MS", "500"),
        Map.entry("WXMP_QUIZ_SHUFFLE", "true"),
        Map.entry("WXMP_FEED_EVENT_WEIGHTS", io.wxmp.handlers.events.EventWeights.DEFAULT),
        Map.entry("WXMP_EVENTS_RATE_PER_MIN", "120"),
        Map.entry("WXMP_EVENTS_RETENTION_DAYS", "365"));
  }
}
