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
  private final java.nio.channels.FileChannel lockChannel;
  private final java.nio.channels.FileLock lock;
  private Process watchdog;
  /** Made fresh at every start, like the sandbox's keys: feed tokens of an earlier run do not verify. */
  private final String feedTokenKey = java.util.Base64.getEncoder()
      .encodeToString(io.wxmp.handlers.feed.FeedToken.newKey());

  private DevStack(EmbeddedPostgres postgres, RedisServer redis, int redisPort, Vertx sandboxVertx, SandboxKeys keys,
      SandboxConfig sandboxConfig, int sandboxPort, String appSecret, Path dataDir, DataDirLock lock) {
    this.lockChannel = lock.channel;
    this.lock = lock.lock;
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
    DataDirLock lock = null;
    try {
      Files.createDirectories(dataDir.resolve("redis"));
      lock = DataDirLock.take(dataDir);
      // This data folder is ours now: a PostgreSQL or Redis still running on it was left by a server that died
      // without its shutdown hooks (kill -9); it holds the folder and the port, so stop it first.
      ChildProcesses.stopOrphan(dataDir.resolve("pg").resolve("postmaster.pid"), "postgres", "PostgreSQL");
      ChildProcesses.stopOrphan(dataDir.resolve("redis").resolve(REDIS_PID_FILE), "redis", "Redis");
      postgres = startPostgres(dataDir);
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
      DevStack stack = new DevStack(postgres, redis, port, sandboxVertx, keys, config, sandbox.actualPort(), secret,
          dataDir, lock);
      stack.watch();
      return stack;
    } catch (IOException e) {
      closeQuietly(postgres, redis);
      if (lock != null) {
        lock.release();
      }
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      closeQuietly(postgres, redis);
      if (lock != null) {
        lock.release();
      }
      throw e;
    }
  }

  static final String REDIS_PID_FILE = "redis.pid";

  /**
   * PostgreSQL with its data under {@code <dataDir>/pg}, durable like a production one: zonky's defaults ({@code -F},
   * i.e. fsync off, and {@code synchronous_commit=off}) lose acknowledged commits in a crash, so both are turned back
   * on. Its log goes to {@code <dataDir>/pg.log}, and a start that fails says what the log says.
   */
  private static EmbeddedPostgres startPostgres(Path dataDir) throws IOException {
    Path logFile = dataDir.resolve("pg.log");
    try {
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir.resolve("pg"))
          .setCleanDataDirectory(false)
          .setServerConfig("fsync", "on") // after zonky's -F on the command line, so it wins
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .setPGStartupWait(java.time.Duration.ofSeconds(60))
          .start();
      // its shutdown hook would stop PostgreSQL at SIGTERM while requests still drain; close() stops it after
      ChildProcesses.setFlag(pg, EmbeddedPostgres.class, "closed", true);
      return pg;
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("the embedded PostgreSQL did not start (" + e.getMessage() + "); the end of "
          + logFile + ":\n" + ChildProcesses.tail(logFile, 15), e);
    }
  }

  /** Stops the embedded servers if this JVM dies without its shutdown hooks (kill -9). */
  private void watch() {
    long pgPid = ChildProcesses.running(dataDir.resolve("pg").resolve("postmaster.pid"), "postgres")
        .map(ProcessHandle::pid).orElse(-1L);
    long redisPid = -1;
    Path redisPidFile = dataDir.resolve("redis").resolve(REDIS_PID_FILE);
    for (int i = 0; i < 100 && redisPid < 0; i++) { // Redis writes its pid file just after it starts
      redisPid = ChildProcesses.running(redisPidFile, "redis").map(ProcessHandle::pid).orElse(-1L);
      if (redisPid < 0) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    if (watchdog != null) {
      watchdog.destroy();
    }
    watchdog = ChildProcesses.watchdog(pgPid, redisPid);
  }

  /**
   * An exclusive lock on {@code <dataDir>/dev.lock} for as long as the stack runs: two dev servers on one data folder
   * would share (and break) its databases; and a folder whose lock is free has no live owner, so any PostgreSQL or
   * Redis still running on it is an orphan.
   */
  private record DataDirLock(java.nio.channels.FileChannel channel, java.nio.channels.FileLock lock) {
    static DataDirLock take(Path dataDir) throws IOException {
      Path file = dataDir.resolve("dev.lock");
      java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
      java.nio.channels.FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        throw new Settings.ConfigException("WXMP_DATA_DIR: " + dataDir.toAbsolutePath() + " is in use by another "
            + "running wxmp dev server; stop that one, or set WXMP_DATA_DIR to another folder");
      }
      return new DataDirLock(channel, lock);
    }

    void release() {
      try {
        lock.release();
        channel.close();
      } catch (IOException ignored) {
        // closing anyway
      }
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
    ChildProcesses.setFlag(redis, redis.embedded.RedisInstance.class, "active", true);
    redis.stop();
  }

  public void startRedis() throws IOException {
    redis.start();
    ChildProcesses.setFlag(redis, redis.embedded.RedisInstance.class, "active", false);
    watch();
  }

  @Override
  public void close() {
    try {
      sandboxVertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("sandbox did not close cleanly: {}", e.toString());
    }
    if (watchdog != null) {
      watchdog.destroy();
    }
    closeQuietly(postgres, redis);
    new DataDirLock(lockChannel, lock).release();
  }

  private static RedisServer startRedis(Path dir, int port) throws IOException {
    RedisServer server = RedisServer.newRedisServer()
        .port(port)
        .bind("127.0.0.1")
        .setting("dir " + dir.toAbsolutePath())
        .setting("appendonly yes")
        .setting("appendfsync everysec") // at most the last second of Redis writes is lost in a crash (OPERATIONS.md)
        .setting("save \"\"")
        .setting("pidfile " + dir.resolve(REDIS_PID_FILE).toAbsolutePath())
        .build();
    server.start();
    // its shutdown hook would stop Redis at SIGTERM while requests still drain; close() stops it after
    ChildProcesses.setFlag(server, redis.embedded.RedisInstance.class, "active", false);
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
      ChildProcesses.setFlag(redis, redis.embedded.RedisInstance.class, "active", true);
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        log.warn("embedded Redis did not stop cleanly: {}", e.toString());
      }
    }
    if (postgres != null) {
      ChildProcesses.setFlag(postgres, EmbeddedPostgres.class, "closed", false);
      try {
        postgres.close();
      } catch (IOException | RuntimeException e) {
        log.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
      }
    }
  }
}
