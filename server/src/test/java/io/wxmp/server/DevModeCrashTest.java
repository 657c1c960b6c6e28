package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.wxmp.server.testkit.DevServerProcess;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dev mode as an operator meets it: a server process killed with SIGKILL, or stopped with SIGTERM while requests are
 * in flight. The embedded PostgreSQL is durable (fsync and synchronous commits on), its children do not outlive it,
 * orphans of a killed server do not break the next start, and SIGTERM drains HTTP before the databases stop.
 */
class DevModeCrashTest {
  static Vertx vertx;
  static WebClient client;
  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  @AfterEach
  void killLeftovers() {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  /** A running dev server process. */
  record Server(Process process, Http api, Http sandbox, int pgPort, Path dir) {
    long pgPid() {
      return pid(dir.resolve("pg").resolve("postmaster.pid"));
    }

    long redisPid() {
      return pid(dir.resolve("redis").resolve("redis.pid"));
    }
  }

  @Test
  void durableAndChildrenDieWithAKilledServerAndTheNextStartWorks() throws Exception {
    Path dir = Files.createTempDirectory("wxmp-crash");
    int redisPort = TestStack.freePort();
    Server first = spawn(dir, redisPort);
    JsonObject wx = first.sandbox.post("/sandbox/users", null, new JsonObject()).json();
    Reply login = first.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    assertThat(login.status()).isEqualTo(200);
    assertThat(setting(first.pgPort, "fsync")).isEqualTo("on");
    assertThat(setting(first.pgPort, "synchronous_commit")).isEqualTo("on");
    long pg = first.pgPid();
    long redis = first.redisPid();
    assertThat(alive(pg)).isTrue();
    assertThat(alive(redis)).isTrue();

    first.process.destroyForcibly(); // kill -9: no shutdown hook runs
    first.process.waitFor(20, TimeUnit.SECONDS);
    TestStack.eventually("PostgreSQL and Redis stop with the killed server", 30_000, () -> !alive(pg) && !alive(redis));

    Server second = spawn(dir, redisPort); // the same folder and Redis port
    String code = second.sandbox.post("/sandbox/users", null, new JsonObject().put("openid", wx.getString("openid")))
        .json().getString("code");
    JsonObject again = second.api.post("/api/v1/auth/login", null, new JsonObject().put("code", code)).json();
    assertThat(again.getJsonObject("user").getBoolean("isNew")).as("the login answered 200 before the kill").isFalse();
    stopGracefully(second);
  }

  /** The watchdog was killed too (kill -9 of the whole tree but the databases): the next start stops the orphans. */
  @Test
  void orphansOfAKilledServerAreStoppedAtTheNextStart() throws Exception {
    Path dir = Files.createTempDirectory("wxmp-orphans");
    int redisPort = TestStack.freePort();
    Server first = spawn(dir, redisPort);
    long pg = first.pgPid();
    long redis = first.redisPid();
    List<ProcessHandle> watchdogs = first.process.descendants()
        .filter(p -> p.info().command().map(c -> c.endsWith("sh")).orElse(false)).toList();
    watchdogs.forEach(ProcessHandle::destroyForcibly);
    first.process.destroyForcibly();
    first.process.waitFor(20, TimeUnit.SECONDS);
    for (ProcessHandle watchdog : watchdogs) { // gone for good: nothing is left that would stop the databases
      watchdog.onExit().get(20, TimeUnit.SECONDS);
    }
    assertThat(alive(pg)).as("PostgreSQL left behind").isTrue();
    assertThat(alive(redis)).as("Redis left behind").isTrue();

    Server second = spawn(dir, redisPort);
    assertThat(second.api.get("/health/ready", null).status()).isEqualTo(200);
    assertThat(alive(pg)).isFalse();
    assertThat(alive(redis)).isFalse();
    stopGracefully(second);
  }

  /** SIGTERM with logins in flight (WeChat answers slowly): every one completes, and then the databases stop. */
  @Test
  void sigtermDrainsHttpBeforeTheDatabasesStop() throws Exception {
    Path dir = Files.createTempDirectory("wxmp-sigterm");
    Server server = spawn(dir, TestStack.freePort());
    JsonObject warm = server.sandbox.post("/sandbox/users", null, new JsonObject()).json();
    assertThat(server.api.post("/api/v1/auth/login", null, new JsonObject().put("code", warm.getString("code")))
        .status()).isEqualTo(200);
    long before = server.sandbox.get("/sandbox/stats", null).json().getLong("code2sessionCalls", 0L);
    List<String> codes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      codes.add(server.sandbox.post("/sandbox/users", null, new JsonObject()).json().getString("code"));
    }
    server.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 1_500));
    List<Future<Reply>> logins = new ArrayList<>();
    for (String code : codes) {
      logins.add(server.api.sendAsync(HttpMethod.POST, "/api/v1/auth/login", null,
          new JsonObject().put("code", code).toBuffer(), null));
    }
    TestStack.eventually("the logins reach WeChat", 10_000,
        () -> server.sandbox.get("/sandbox/stats", null).json().getLong("code2sessionCalls", 0L) >= before + 8);
    long pg = server.pgPid();
    long redis = server.redisPid();
    server.process.destroy(); // SIGTERM
    for (Future<Reply> login : logins) {
      Reply r = login.await(30, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }
    assertThat(server.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    TestStack.eventually("the databases stop after the drain", 20_000, () -> !alive(pg) && !alive(redis));
  }

  // ---- helpers ----

  private Server spawn(Path dir, int redisPort) throws Exception {
    Path log = dir.resolve("server-" + System.nanoTime() + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx512m",
        "-cp", System.getProperty("java.class.path"), DevServerProcess.class.getName(), dir.toString(),
        Integer.toString(redisPort))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    started.add(p);
    long deadline = System.currentTimeMillis() + 180_000;
    while (true) {
      Optional<String> ready = Files.readAllLines(log).stream().filter(l -> l.startsWith("READY ")).findFirst();
      if (ready.isPresent()) {
        String[] ports = ready.get().split(" ");
        return new Server(p, new Http(client, Integer.parseInt(ports[1])), Http.sandbox(client, Integer.parseInt(ports[2])),
            Integer.parseInt(ports[3]), dir);
      }
      if (!p.isAlive() || System.currentTimeMillis() > deadline) {
        throw new AssertionError("the dev server did not start:\n" + String.join("\n", Files.readAllLines(log)));
      }
      Thread.sleep(100);
    }
  }

  private static void stopGracefully(Server server) throws Exception {
    long pg = server.pgPid();
    long redis = server.redisPid();
    server.process.destroy();
    assertThat(server.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    TestStack.eventually("the databases stop with the server", 20_000, () -> !alive(pg) && !alive(redis));
  }

  private static String setting(int pgPort, String name) throws Exception {
    Pool pool = PgBuilder.pool().connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(pgPort)
        .setUser("postgres").setPassword("postgres").setDatabase("postgres")).using(vertx).build();
    try {
      return pool.query("SHOW " + name).execute().await(10, TimeUnit.SECONDS).iterator().next().getString(0);
    } finally {
      pool.close();
    }
  }

  private static long pid(Path file) {
    try {
      return Long.parseLong(Files.readAllLines(file).get(0).trim());
    } catch (IOException | RuntimeException e) {
      throw new AssertionError("no pid in " + file, e);
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
