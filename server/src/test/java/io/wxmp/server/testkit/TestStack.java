package io.wxmp.server.testkit;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.server.DevStack;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The whole product for tests, started once per JVM: embedded PostgreSQL and Redis, the WeChat sandbox (notify
 * retries time-scaled), and a real server on a free port. Tests make their own users and merchants, so they do not
 * depend on each other's data.
 */
public final class TestStack {
  public static final String PASSWORD = "correct horse battery staple";
  private static TestStack shared;
  /**
   * The stacks this JVM made in temporary folders ({@link #create}): at exit each is closed (if a test has not) and
   * its folder deleted, so repeated runs do not fill the disk (a bench's folder holds gigabytes). One shutdown hook
   * does both, in that order, so a folder is never deleted under a running PostgreSQL.
   */
  private static final List<TestStack> temporary = new java.util.ArrayList<>();
  private boolean closed;

  public final DevStack dev;
  public final Map<String, String> settings;
  public final Vertx clientVertx;
  public final Http api;
  public final Http sandbox;
  public final Pool db;
  private final WebClient client;
  private WxmpServer server;
  private final int apiPort;

  private TestStack(DevStack dev, Map<String, String> settings, int apiPort) {
    this.dev = dev;
    this.settings = settings;
    this.apiPort = apiPort;
    this.clientVertx = Vertx.vertx();
    this.client = WebClient.create(clientVertx, new WebClientOptions().setKeepAlive(true),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(300));
    this.api = new Http(client, apiPort);
    this.sandbox = Http.sandbox(client, dev.sandboxPort());
    this.db = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
        .connectingTo(PgConnectOptions.fromUri(settings.get("WXMP_PG_URL"))).using(clientVertx).build();
  }

  public static synchronized TestStack shared() {
    if (shared == null) {
      shared = create(); // closed and deleted at exit with the other temporary stacks
    }
    return shared;
  }

  /** A fresh stack in a temporary folder (tests that restart or break things use their own). */
  public static TestStack create() {
    return create(Map.of());
  }

  /** A fresh stack whose server runs with these settings over the tests' own. */
  public static TestStack create(Map<String, String> overrides) {
    try {
      TestStack stack = reopen(Files.createTempDirectory("wxmp-test"), overrides);
      synchronized (temporary) {
        if (temporary.isEmpty()) {
          Runtime.getRuntime().addShutdownHook(new Thread(TestStack::removeTemporary, "wxmp-test-cleanup"));
        }
        temporary.add(stack);
      }
      return stack;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stack on an existing data folder: what an earlier stack wrote there is still there. */
  public static TestStack reopen(Path dir) {
    return reopen(dir, Map.of());
  }

  private static TestStack reopen(Path dir, Map<String, String> overrides) {
    try {
      DevStack dev = DevStack.start(dir, 0, 0, 0.001, List.of("赌博", "casino"));
      int port = freePort();
      Map<String, String> settings = new HashMap<>(dev.settings());
      settings.put("WXMP_HTTP_HOST", "127.0.0.1");
      settings.put("WXMP_HTTP_PORT", Integer.toString(port));
      settings.put("WXMP_HTTP_INSTANCES", "2");
      settings.put("WXMP_MANAGEMENT_PORT", "0"); // any free one: see management()
      // generous for a loaded 2-core CI machine (1.5 s made first logins time out there); tests of slow upstreams
      // make the sandbox slower than this
      settings.put("WXMP_UPSTREAM_TIMEOUT_MS", "2500");
      settings.put("WXMP_PUBLIC_URL", "http://127.0.0.1:" + port);
      // Tests run the WeChat Pay reconciliation job themselves (server().reconciliation().runOnce()).
      settings.put("WXMP_PAY_RECONCILE_INTERVAL_SEC", "3600");
      // subscribe messages: retried quickly, the outbox looked at often
      settings.put("WXMP_NOTIFY_RETRY_BASE_MS", "50");
      settings.put("WXMP_OUTBOX_POLL_MS", "100");
      // every test client is 127.0.0.1: the per-address and per-route limits are tested on a server of their own
      // (LimitsTest); the per-(account, address) login limit stays as shipped
      for (String limit : List.of("WXMP_LOGIN_TRIES_PER_ADDRESS", "WXMP_LOGIN_TRIES_PER_ACCOUNT",
          "WXMP_RATE_WX_LOGIN_PER_MIN", "WXMP_RATE_ORDERS_PER_MIN", "WXMP_RATE_PROFILE_PER_MIN")) {
        settings.put(limit, "1000000");
      }
      if ("cluster".equals(System.getProperty("wxmp.test.redis"))) {
        // The Redis Cluster suite (server/pom.xml, execution redis-cluster): the same tests against three masters.
        RedisCluster cluster = RedisCluster.start(dir.resolve("redis-cluster"), 3);
        settings.put("WXMP_REDIS_URL", cluster.urls());
        settings.put("WXMP_REDIS_MODE", "cluster");
      }
      settings.putAll(overrides);
      TestStack stack = new TestStack(dev, settings, port);
      stack.startServer();
      return stack;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void startServer() {
    try {
      server = WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("server did not start", e);
    }
  }

  public void stopServer() {
    try {
      server.close().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("server did not stop", e);
    }
  }

  public WxmpServer server() {
    return server;
  }

  public int apiPort() {
    return apiPort;
  }

  /** The running server's management port ({@code /metrics}, {@code /health/*}). */
  public Http management() {
    return Http.management(client, server.managementPort());
  }

  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (server != null) {
        server.close().await(30, TimeUnit.SECONDS);
      }
      clientVertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // best effort at JVM exit
    }
    dev.close();
  }

  private static void removeTemporary() {
    List<TestStack> stacks;
    synchronized (temporary) {
      stacks = List.copyOf(temporary);
    }
    for (TestStack stack : stacks) {
      try {
        stack.close();
      } catch (RuntimeException ignored) {
        // best effort at JVM exit: delete what can be deleted
      }
      try (java.util.stream.Stream<Path> paths = Files.walk(stack.dev.dataDir())) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException | UncheckedIOException ignored) {
        // already gone, or unreadable: left behind
      }
    }
  }

  // ---- fixtures ----

  /** A new WeChat user in the sandbox: {"openid", "code", "phoneCode"}. */
  public JsonObject newWeChatUser() {
    Reply r = sandbox.post("/sandbox/users", null, new JsonObject());
    if (r.status() != 201) {
      throw new AssertionError("sandbox user: " + r);
    }
    return r.json();
  }

  /** A login code for an existing openid. */
  public String codeFor(String openid) {
    return sandbox.post("/sandbox/users", null, new JsonObject().put("openid", openid)).json().getString("code");
  }

  /** Logs a fresh WeChat user in and returns the token. */
  public String newUserToken() {
    Reply r = api.post("/api/v1/auth/login", null, new JsonObject().put("code", newWeChatUser().getString("code")));
    if (r.status() != 200) {
      throw new AssertionError("login: " + r);
    }
    return r.json().getString("token");
  }

  /** A merchant with accounts {@code <prefix>-owner}, {@code -editor}, {@code -analyst}, all with {@link #PASSWORD}. */
  public Merchant newMerchant() {
    String prefix = "m" + UUID.randomUUID().toString().substring(0, 8);
    String hash = Passwords.hash(PASSWORD);
    long merchantId = sql("INSERT INTO merchants (name) VALUES ($1) RETURNING id", Tuple.of("Shop " + prefix))
        .iterator().next().getLong(0);
    for (String role : List.of("owner", "editor", "analyst")) {
      sql("INSERT INTO merchant_accounts (merchant_id, username, password_hash, role) VALUES ($1, $2, $3, $4)",
          Tuple.of(merchantId, prefix + "-" + role, hash, role));
    }
    return new Merchant(merchantId, adminToken(prefix + "-owner"), adminToken(prefix + "-editor"),
        adminToken(prefix + "-analyst"), prefix);
  }

  public record Merchant(long id, String owner, String editor, String analyst, String prefix) {}

  public String adminToken(String username) {
    Reply r = api.post("/api/v1/admin/login", null,
        new JsonObject().put("username", username).put("password", PASSWORD));
    if (r.status() != 200) {
      throw new AssertionError("admin login: " + r);
    }
    return r.json().getString("token");
  }

  /**
   * A Redis client of the tests' own on the server's Redis (standalone, or the cluster of the Redis Cluster suite);
   * the caller closes it.
   */
  public io.vertx.redis.client.Redis redisClient() {
    io.vertx.redis.client.RedisOptions options = new io.vertx.redis.client.RedisOptions();
    for (String url : settings.get("WXMP_REDIS_URL").split(",")) {
      options.addConnectionString(url.trim());
    }
    if ("cluster".equals(settings.get("WXMP_REDIS_MODE"))) {
      options.setType(io.vertx.redis.client.RedisClientType.CLUSTER);
    }
    return io.vertx.redis.client.Redis.createClient(clientVertx, options);
  }

  /**
   * For a test that writes what {@code GET /me} shows straight into PostgreSQL (no writer of the server does that):
   * invalidates the user's cached answer as the server's writers do after their commits.
   */
  public void profileChanged(long userId) {
    io.vertx.redis.client.Redis redis = redisClient();
    try {
      new io.wxmp.handlers.common.ProfileCache(io.vertx.redis.client.RedisAPI.api(redis)).invalidate(userId)
          .await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      redis.close();
    }
  }

  public RowSet<Row> sql(String sql, Tuple args) {
    try {
      return db.preparedQuery(sql).execute(args).await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(sql + ": " + e, e);
    }
  }

  public long count(String sql, Tuple args) {
    return sql(sql, args).iterator().next().getLong(0);
  }

  /** Waits for a condition (no sleeping as synchronisation): polls every 20 ms up to the deadline. */
  public static void eventually(String what, long timeoutMs, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
