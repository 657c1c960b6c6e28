package io.wxmp.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Configuration: built-in defaults, then a properties file ({@code WXMP_CONFIG_FILE}), then environment variables.
 * Every setting has one name, the same in the file and the environment, listed in the README's table. A missing or
 * malformed setting fails with a {@link ConfigException} whose message names it; start-up reads every setting through
 * one {@link Check}, so an operator sees all of them in one run. A {@code WXMP_*} name that no setting has (a typo
 * such as {@code WXMP_HTTP_PROT}) is refused rather than silently ignored.
 */
public final class Settings {
  /** Settings without a default (required ones, and optional ones that are off when unset). */
  private static final Set<String> WITHOUT_DEFAULT = Set.of("WXMP_CONFIG_FILE", "WXMP_PG_URL", "WXMP_REDIS_URL",
      "WXMP_REDIS_MASTER_NAME", "WXMP_WX_APPID", "WXMP_WX_SECRET", "WXMP_PHONE_KEY", "WXMP_PUBLIC_URL",
      "WXMP_WX_TEMPLATE_PAYMENT", "WXMP_WX_TEMPLATE_REFUND", "WXMP_PAY_MCH_ID", "WXMP_PAY_MERCHANT_KEY_FILE",
      "WXMP_PAY_MERCHANT_SERIAL", "WXMP_PAY_APIV3_KEY", "WXMP_PAY_PUBLIC_KEY_FILE", "WXMP_PAY_PUBLIC_KEY_ID",
      "WXMP_PAY_NOTIFY_URL", "WXMP_FEED_TOKEN_KEY", "WXMP_CLUSTER_HOST", "WXMP_CLUSTER_MEMBERS",
      "WXMP_CLUSTER_MULTICAST_GROUP",
      // read by logback.xml from the environment, not through this class
      "WXMP_ACCESS_LOG_LEVEL", "WXMP_LOG_FORMAT");
  /**
   * Names the project's tools use in the same environment (the console's Vite proxy, the front ends' test runners):
   * not settings of the server, and not typos either.
   */
  private static final List<String> TOOL_PREFIXES = List.of("WXMP_API_ORIGIN", "WXMP_E2E_", "WXMP_LIVE_");

  private final Map<String, String> values;
  private final List<String> loadProblems;

  private Settings(Map<String, String> values, List<String> loadProblems) {
    this.values = values;
    this.loadProblems = loadProblems;
  }

  /** Every setting's name: the README's table. */
  public static Set<String> names() {
    Set<String> names = new TreeSet<>(Defaults.VALUES.keySet());
    names.addAll(WITHOUT_DEFAULT);
    return names;
  }

  /** Defaults, then the file named by {@code WXMP_CONFIG_FILE} (in the environment) if any, then {@code env}. */
  public static Settings load(Map<String, String> env) {
    Map<String, String> merged = new LinkedHashMap<>(Defaults.VALUES);
    List<String> problems = new ArrayList<>();
    String file = env.get("WXMP_CONFIG_FILE");
    if (file != null && !file.isBlank()) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(Path.of(file))) {
        props.load(reader);
      } catch (IOException e) {
        throw new ConfigException("WXMP_CONFIG_FILE: cannot read " + file + " (" + e.getMessage() + ")");
      }
      props.forEach((k, v) -> {
        String name = k.toString().trim();
        if (!names().contains(name)) {
          problems.add(unknown(name, "in " + file));
        }
        merged.put(name, v.toString().trim());
      });
    }
    env.forEach((k, v) -> {
      if (k.startsWith("WXMP_")) {
        if (TOOL_PREFIXES.stream().anyMatch(k::startsWith)) {
          return;
        }
        if (!names().contains(k)) {
          problems.add(unknown(k, "in the environment"));
        }
        merged.put(k, v);
      }
    });
    return new Settings(merged, List.copyOf(problems));
  }

  public static Settings of(Map<String, String> values) {
    Map<String, String> merged = new LinkedHashMap<>(Defaults.VALUES);
    merged.putAll(values);
    return new Settings(merged, List.of());
  }

  /** A copy with some settings replaced (dev mode fills in the URLs of the servers it started). */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> copy = new HashMap<>(values);
    copy.putAll(overrides);
    return new Settings(copy, loadProblems);
  }

  /** A check that starts with what loading found (unknown names); read every setting through it, then {@code done()}. */
  public Check check() {
    Check check = new Check();
    check.problems.addAll(loadProblems);
    return check;
  }

  /** A copy whose {@link #check()} starts with the problems already in {@code check} (Main's, before the server's). */
  Settings withProblems(Check check) {
    List<String> problems = new ArrayList<>(check.problems);
    return new Settings(values, List.copyOf(problems));
  }

  private static String unknown(String name, String where) {
    String closest = null;
    int best = Integer.MAX_VALUE;
    for (String known : names()) {
      int d = distance(name, known);
      if (d < best) {
        best = d;
        closest = known;
      }
    }
    return name + ": no such setting (" + where + ")"
        + (closest != null && best <= 3 ? "; did you mean " + closest + "?" : "");
  }

  /** Levenshtein distance, for "did you mean". */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
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

  /**
   * Dev mode only when asked for ({@code WXMP_MODE=dev}): a production host that forgets {@code WXMP_PG_URL} is told
   * so instead of coming up on an embedded database.
   */
  public boolean devMode() {
    String mode = required("WXMP_MODE");
    if (!mode.equals("dev") && !mode.equals("prod")) {
      throw new ConfigException("WXMP_MODE: '" + mode + "' is not dev or prod");
    }
    return mode.equals("dev");
  }

  /**
   * Gathers the problems of many settings so that start-up reports all of them at once: each {@link #get} runs one
   * parse and keeps its failure, {@link #done()} throws them together.
   */
  public static final class Check {
    private final Set<String> problems = new LinkedHashSet<>();

    /** The parsed value, or null when it failed (the failure is kept for {@link #done()}). */
    public <T> T get(Supplier<T> parse) {
      try {
        return parse.get();
      } catch (ConfigException e) {
        problems.addAll(e.problems());
        return null;
      }
    }

    public void run(Runnable parse) {
      get(() -> {
        parse.run();
        return null;
      });
    }

    public boolean ok() {
      return problems.isEmpty();
    }

    public void done() {
      if (!problems.isEmpty()) {
        throw new ConfigException(List.copyOf(problems));
      }
    }
  }

  /** Thrown for missing or malformed settings, one line each; Main prints them and exits. */
  public static final class ConfigException extends RuntimeException {
    private final List<String> problems;

    public ConfigException(String message) {
      this(List.of(message));
    }

    ConfigException(List<String> problems) {
      super(String.join("\n", problems), null, false, false);
      this.problems = problems;
    }

    /** One line per setting. */
    public List<String> problems() {
      return problems;
    }
  }

  private static final class Defaults {
    static final Map<String, String> VALUES = Map.ofEntries(
        Map.entry("WXMP_MODE", "prod"),
        Map.entry("WXMP_HTTP_HOST", "0.0.0.0"),
        Map.entry("WXMP_HTTP_PORT", "8080"),
        Map.entry("WXMP_MANAGEMENT_HOST", "127.0.0.1"),
        Map.entry("WXMP_MANAGEMENT_PORT", "9464"),
        Map.entry("WXMP_HTTP_INSTANCES", Integer.toString(Runtime.getRuntime().availableProcessors())),
        Map.entry("WXMP_HTTP_HEADER_TIMEOUT_MS", "10000"),
        Map.entry("WXMP_HTTP_BODY_TIMEOUT_MS", "30000"),
        Map.entry("WXMP_HTTP_MAX_CONNECTIONS", "4096"),
        Map.entry("WXMP_DATA_DIR", ".wxmp"),
        Map.entry("WXMP_SANDBOX_PORT", "8081"),
        Map.entry("WXMP_SANDBOX_HOST", "127.0.0.1"),
        Map.entry("WXMP_DEV_REDIS_PORT", "6390"),
        Map.entry("WXMP_PG_POOL_SIZE", "16"),
        Map.entry("WXMP_PG_QUERY_TIMEOUT_MS", "5000"),
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
        Map.entry("WXMP_FEED_CANDIDATE_CACHE_USERS", "10000"),
        Map.entry("WXMP_FEED_RANKING_TIMEOUT_MS", "150"),
        Map.entry("WXMP_FEED_SPONSORED_TIMEOUT_MS", "100"),
        Map.entry("WXMP_FEED_REFRESH_MS", "2000"),
        Map.entry("WXMP_FEED_CURSOR_TTL_SEC", "86400"),
        Map.entry("WXMP_ROLE", "both"),
        Map.entry("WXMP_CLUSTER", "none"),
        Map.entry("WXMP_CLUSTER_NAME", "wxmp"),
        Map.entry("WXMP_CLUSTER_JOIN", "tcp"),
        Map.entry("WXMP_CLUSTER_PORT", "5701"),
        Map.entry("WXMP_CLUSTER_BUS_PORT", "0"),
        Map.entry("WXMP_CLUSTER_FAILURE_SEC", "10"),
        Map.entry("WXMP_RANKING_BACKEND", "auto"),
        Map.entry("WXMP_RANKING_DIM", "64"),
        Map.entry("WXMP_RANKING_BATCH_WINDOW_US", "200"),
        Map.entry("WXMP_RANKING_MAX_BATCH", "256"),
        Map.entry("WXMP_RANKING_QUEUE_BOUND", "10000"),
        Map.entry("WXMP_RANKING_FP16", "false"),
        Map.entry("WXMP_RANKING_NPROBE", "16"),
        Map.entry("WXMP_RISKY_WORDS", "赌博,casino,scam"),
        Map.entry("WXMP_PAY_API_URL", "https://api.mch.weixin.qq.com"),
        Map.entry("WXMP_PAY_ORDER_TTL_SEC", "900"),
        Map.entry("WXMP_PAY_RECONCILE_INTERVAL_SEC", "60"),
        Map.entry("WXMP_REDIS_REPAIR_INTERVAL_SEC", "30"),
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
        Map.entry("WXMP_EVENTS_RETENTION_DAYS", "365"),
        Map.entry("WXMP_HTTP_TRUSTED_PROXIES", ""),
        Map.entry("WXMP_PASSWORD_WORKERS", Integer.toString(Runtime.getRuntime().availableProcessors())),
        Map.entry("WXMP_PASSWORD_QUEUE", "32"),
        Map.entry("WXMP_LOGIN_TRIES_PER_ACCOUNT_ADDRESS", "5"),
        Map.entry("WXMP_LOGIN_TRIES_PER_ADDRESS", "30"),
        Map.entry("WXMP_LOGIN_TRIES_PER_ACCOUNT", "100"),
        Map.entry("WXMP_LOGIN_WINDOW_SEC", "900"),
        Map.entry("WXMP_RATE_WX_LOGIN_PER_MIN", "120"),
        Map.entry("WXMP_RATE_ORDERS_PER_MIN", "20"),
        Map.entry("WXMP_RATE_PROFILE_PER_MIN", "10"));
  }
}
