package io.wxmp.server;

import io.vertx.core.Vertx;
import io.wxmp.sandbox.SandboxConfig;
import io.wxmp.sandbox.SandboxKeys;
import io.wxmp.sandbox.SandboxVerticle;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * Dev mode's infrastructure, all real servers started from Maven artifacts: an embedded PostgreSQL whose data lives
 * under the data directory (so data survives a restart), an embedded Redis (append-only file in the same place),
 * and the WeChat sandbox on its own Vert.x instance and port, with keys generated at start. {@link #settings()}
 * points a {@link WxmpServer} at all three.
 */
public final class DevStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DevStack.class);
  public static final String APP_ID = "wxdev0000000000001";
  public static final String MCH_ID = "1900000001";

  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;
  private final Vertx sandboxVertx;
  private final SandboxKeys keys;
  private final SandboxConfig sandboxConfig;
  private final int sandboxPort;
  private final String appSecret;
  private final Path dataDir;
  /** Made fresh at every start, like the sandbox's keys: feed tokens of an earlier run do not verify. */
  private final String feedTokenKey = java.util.Base64.getEncoder()
      .encodeToString(io.wxmp.handlers.feed.FeedToken.newKey());

  private DevStack(EmbeddedPostgres postgres, RedisServer redis, int redisPort, Vertx sandboxVertx, SandboxKeys keys,
      SandboxConfig sandboxConfig, int sandboxPort, String appSecret, Path dataDir) {
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
    this.sandboxVertx = sandboxVertx;
    this.keys = keys;
    this.sandboxConfig = sandboxConfig;
    this.sandboxPort = sandboxPort;
    this.appSecret = appSecret;
    this.dataDir = dataDir;
  }

  /**
   * Starts everything. {@code redisPort} or {@code sandboxPort} 0 picks a free port; {@code notifyTimeScale} shrinks
   * WeChat Pay's notify retry schedule (tests use a small one).
   */
  public static DevStack start(Path dataDir, int redisPort, int sandboxPort, double notifyTimeScale, List<String> riskyWords) {
    return start(dataDir, redisPort, "127.0.0.1", sandboxPort, notifyTimeScale, riskyWords);
  }

  /**
   * As above, with the address the sandbox listens on ({@code WXMP_SANDBOX_HOST}): {@code 0.0.0.0} lets a phone on the
   * LAN previewing a develop build get its login codes and pay through it. The server itself always calls it on
   * 127.0.0.1.
   */
  public static DevStack start(Path dataDir, int redisPort, String sandboxHost, int sandboxPort, double notifyTimeScale,
      List<String> riskyWords) {
    EmbeddedPostgres postgres = null;
    RedisServer redis = null;
    try {
      Files.createDirectories(dataDir.resolve("redis"));
      postgres = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir.resolve("pg"))
          .setCleanDataDirectory(false)
          .setOutputRedirector(ProcessBuilder.Redirect.DISCARD)
          .setErrorRedirector(ProcessBuilder.Redirect.DISCARD)
          .start();
      int port = redisPort == 0 ? freePort() : ensureFree("WXMP_DEV_REDIS_PORT", redisPort);
      redis = startRedis(dataDir.resolve("redis"), port);
      SandboxKeys keys = SandboxKeys.generate();
      String secret = "devsecret" + Long.toHexString(Double.doubleToLongBits(Math.random()));
      SandboxConfig config = new SandboxConfig(sandboxHost, sandboxPort, APP_ID, secret, MCH_ID,
          keys.merchant().getPublic(), keys.merchantSerial(), keys.platform(), keys.platformPublicKeyId(),
          keys.apiV3Key(), notifyTimeScale, riskyWords);
      Vertx sandboxVertx = Vertx.vertx();
      SandboxVerticle sandbox = new SandboxVerticle(config);
      try {
        sandboxVertx.deployVerticle(sandbox).await(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        sandboxVertx.close();
        throw bindFailure("WXMP_SANDBOX_PORT", sandboxPort, e);
      }
      return new DevStack(postgres, redis, port, sandboxVertx, keys, config, sandbox.actualPort(), secret, dataDir);
    } catch (IOException e) {
      closeQuietly(postgres, redis);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      closeQuietly(postgres, redis);
      throw e;
    }
  }

  /** The settings that point a server at this stack's PostgreSQL, Redis and sandbox. */
  public Map<String, String> settings() {
    Map<String, String> s = new HashMap<>();
    s.put("WXMP_PG_URL", "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres");
    s.put("WXMP_REDIS_URL", "redis://127.0.0.1:" + redisPort);
    s.put("WXMP_REDIS_MODE", "standalone");
    s.put("WXMP_WX_APPID", APP_ID);
    s.put("WXMP_WX_SECRET", appSecret);
    s.put("WXMP_WX_API_URL", sandboxUrl());
    s.put("WXMP_FEED_TOKEN_KEY", feedTokenKey);
    s.put("WXMP_PHONE_KEY", phoneKey());
    s.put("WXMP_WX_TEMPLATE_PAYMENT", "dev-template-payment");
    s.put("WXMP_WX_TEMPLATE_REFUND", "dev-template-refund");
    s.putAll(paySettings());
    return s;
  }

  /**
   * The phone number key of this data folder: made once and kept under {@code <dataDir>/keys/} (unlike the sandbox's
   * keys, it must survive restarts, or the stored phone numbers could not be read).
   */
  private String phoneKey() {
    Path file = dataDir.resolve("keys").resolve("phone.key");
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(file.getParent());
        Files.writeString(file, io.wxmp.handlers.common.FieldCipher.newKeyBase64());
      }
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * WeChat Pay pointed at the sandbox: the merchant private key and the WeChat Pay public key are written as PEM files
   * under {@code <dataDir>/keys/} (fresh keys at every start, like the sandbox's), ids and the APIv3 key passed as is.
   * The notify URL is left to the caller (it is this server's public URL).
   */
  private Map<String, String> paySettings() {
    Path keysDir = dataDir.resolve("keys");
    Path merchantKey = keysDir.resolve("merchant_private_key.pem");
    Path platformKey = keysDir.resolve("wechatpay_public_key.pem");
    try {
      Files.createDirectories(keysDir);
      Files.writeString(merchantKey, SandboxKeys.toPem(keys.merchant().getPrivate()));
      Files.writeString(platformKey, SandboxKeys.toPem(keys.platform().getPublic()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> s = new HashMap<>();
    s.put("WXMP_PAY_MCH_ID", MCH_ID);
    s.put("WXMP_PAY_MERCHANT_KEY_FILE", merchantKey.toAbsolutePath().toString());
    s.put("WXMP_PAY_MERCHANT_SERIAL", keys.merchantSerial());
    s.put("WXMP_PAY_APIV3_KEY", keys.apiV3Key());
    s.put("WXMP_PAY_PUBLIC_KEY_FILE", platformKey.toAbsolutePath().toString());
    s.put("WXMP_PAY_PUBLIC_KEY_ID", keys.platformPublicKeyId());
    s.put("WXMP_PAY_API_URL", sandboxUrl());
    return s;
  }

  public String sandboxUrl() {
    return "http://127.0.0.1:" + sandboxPort;
  }

  public int sandboxPort() {
    return sandboxPort;
  }

  public int postgresPort() {
    return postgres.getPort();
  }

  public int redisPort() {
    return redisPort;
  }

  public SandboxKeys keys() {
    return keys;
  }

  public SandboxConfig sandboxConfig() {
    return sandboxConfig;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Stops Redis (tests use it to see /health/ready turn 503). */
  public void stopRedis() throws IOException {
    redis.stop();
  }

  public void startRedis() throws IOException {
    redis.start();
  }

  @Override
  public void close() {
    try {
      sandboxVertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("sandbox did not close cleanly: {}", e.toString());
    }
    closeQuietly(postgres, redis);
  }

  private static RedisServer startRedis(Path dir, int port) throws IOException {
    RedisServer server = RedisServer.newRedisServer()
        .port(port)
        .bind("127.0.0.1")
        .setting("dir " + dir.toAbsolutePath())
        .setting("appendonly yes")
        .setting("save \"\"")
        .build();
    server.start();
    return server;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static int ensureFree(String setting, int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return port;
    } catch (IOException e) {
      throw new Settings.ConfigException(setting + ": port " + port + " is already in use; set " + setting
          + " to a free port");
    }
  }

  private static RuntimeException bindFailure(String setting, int port, Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return new Settings.ConfigException(setting + ": port " + port + " is already in use; set " + setting
            + " to a free port");
      }
    }
    return new IllegalStateException("the sandbox did not start", e);
  }

  private static void closeQuietly(EmbeddedPostgres postgres, RedisServer redis) {
    if (redis != null) {
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        log.warn("embedded Redis did not stop cleanly: {}", e.toString());
      }
    }
    if (postgres != null) {
      try {
        postgres.close();
      } catch (IOException | RuntimeException e) {
        log.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
      }
    }
  }
}
