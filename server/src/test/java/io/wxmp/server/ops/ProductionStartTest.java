package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.TestStack;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Production start-up as an operator meets it, through {@code Main} in a process of its own: every configuration problem
 * in one run, no silent dev mode, and an unreachable database named within seconds.
 */
class ProductionStartTest {
  /** What the process printed and how it ended. */
  record Run(int exit, String stderr, long millis) {}

  static Run runMain(Map<String, String> env, int timeoutSec) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), "io.wxmp.server.Main"));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("WXMP_"));
    pb.environment().putAll(env);
    Path err = Files.createTempFile("wxmp-main", ".err");
    pb.redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    long start = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("Main was still running after " + timeoutSec + " s:\n"
          + Files.readString(err, StandardCharsets.UTF_8));
    }
    return new Run(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8),
        (System.nanoTime() - start) / 1_000_000);
  }

  @Test
  void aHostWithoutSettingsIsToldEverythingMissingAndNeverStartsDevMode() throws Exception {
    Run run = runMain(Map.of("WXMP_HTTP_PROT", "9000", "WXMP_DATA_DIR",
        Files.createTempDirectory("wxmp-no-dev").resolve("data").toString()), 60);
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr().lines().filter(l -> l.startsWith("wxmp: configuration error: ")).toList())
        .anySatisfy(l -> assertThat(l).contains("WXMP_PG_URL: required but not set").contains("WXMP_MODE=dev"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_HTTP_PROT: no such setting").contains("WXMP_HTTP_PORT"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_REDIS_URL: required but not set"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_WX_APPID: required but not set"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_PAY_MCH_ID: required but not set"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_PHONE_KEY: required but not set"))
        .anySatisfy(l -> assertThat(l).contains("WXMP_FEED_TOKEN_KEY: required but not set"));
    assertThat(run.stderr()).doesNotContain("Exception");
  }

  /** A database host that accepts connections and never answers: start-up names it within seconds. */
  @Test
  void aMuteDatabaseFailsStartUpInSecondsWithTheCause() throws Exception {
    try (ServerSocket mute = new ServerSocket(0)) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(mute.accept()); // held open, never answered
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      Map<String, String> env = new HashMap<>(TestStack.shared().settings);
      env.put("WXMP_PG_URL", "postgresql://wxmp:secret@127.0.0.1:" + mute.getLocalPort() + "/wxmp");
      env.put("WXMP_HTTP_PORT", "0");
      Run run = runMain(env, 60);
      assertThat(run.exit()).isEqualTo(1);
      // what the wait costs beyond starting the JVM, measured beside a start that fails before any connection (a
      // loaded machine can take many seconds for the JVM alone): the connect and login deadlines are 5 s and 10 s
      Map<String, String> unset = new HashMap<>(env);
      unset.remove("WXMP_REDIS_URL");
      Run immediate = runMain(unset, 60);
      assertThat(immediate.exit()).isEqualTo(2);
      assertThat(run.millis() - immediate.millis()).as("%d ms against %d ms", run.millis(), immediate.millis())
          .isLessThan(20_000);
      assertThat(run.stderr()).contains("wxmp: cannot connect to PostgreSQL at 127.0.0.1:" + mute.getLocalPort()
          + "/wxmp (WXMP_PG_URL)").containsIgnoringCase("timed out").doesNotContain("TimeoutException: null");
    }
  }

  @Test
  void aRefusedConnectionIsNamedToo() {
    Map<String, String> env = new HashMap<>(TestStack.shared().settings);
    env.put("WXMP_PG_URL", "postgresql://wxmp:secret@127.0.0.1:1/wxmp");
    long start = System.nanoTime();
    Throwable failure = catchStart(env);
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(15_000);
    assertThat(failure).hasMessageContaining("cannot connect to PostgreSQL at 127.0.0.1:1/wxmp (WXMP_PG_URL)")
        .hasMessageContaining("refused");
  }

  /** The migrations connect with the URL's parameters: sslmode=require against a server without TLS migrates nothing. */
  @Test
  void theMigrationsHonourTheUrlsParameters() throws Exception {
    TestStack stack = TestStack.shared();
    stack.db.query("CREATE DATABASE wxmp_sslmode").execute().await(30, TimeUnit.SECONDS);
    String url = stack.settings.get("WXMP_PG_URL").replaceFirst("/postgres$", "/wxmp_sslmode");
    Map<String, String> env = new HashMap<>(stack.settings);
    env.put("WXMP_PG_URL", url + "?sslmode=require");
    Throwable failure = catchStart(env);
    assertThat(failure).hasMessageContaining("cannot connect to PostgreSQL").hasMessageContaining("SSL");
    io.vertx.sqlclient.Pool other = io.vertx.pgclient.PgBuilder.pool()
        .connectingTo(io.vertx.pgclient.PgConnectOptions.fromUri(url)).using(stack.clientVertx).build();
    try {
      long tables = other.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").execute()
          .await(30, TimeUnit.SECONDS).iterator().next().getLong(0);
      assertThat(tables).as("tables that the migrations made without TLS").isZero();
    } finally {
      other.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * {@code java -jar wxmp.jar} with no JVM flags: the jar runs itself again with the Vector API module, the child
   * serves (ranking up), SIGTERM to what was started stops both, and so does a {@code kill -9} of the launcher.
   */
  @Test
  void noJvmFlagsAreNeededAndTheLaunchedServerNeverOutlivesItsLauncher() throws Exception {
    for (boolean kill : new boolean[] {false, true}) {
      Map<String, String> env = new HashMap<>(TestStack.shared().settings);
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      env.put("WXMP_HTTP_PORT", Integer.toString(port));
      env.put("WXMP_HTTP_INSTANCES", "1");
      env.put("WXMP_FEED_TRAIN_INTERVAL_SEC", "0");
      String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(javaBin, "-Xmx384m", "-cp", System.getProperty("java.class.path"),
          "io.wxmp.server.Main");
      pb.environment().keySet().removeIf(k -> k.startsWith("WXMP_"));
      pb.environment().putAll(env);
      Path out = Files.createTempFile("wxmp-main", ".out");
      pb.redirectErrorStream(true).redirectOutput(out.toFile());
      Process launcher = pb.start();
      try {
        TestStack.eventually("the server is up", 90_000, () -> {
          try {
            return Files.readString(out).contains("wxmp is running (prod mode)") || !launcher.isAlive();
          } catch (IOException e) {
            return false;
          }
        });
        assertThat(launcher.isAlive()).as(Files.readString(out)).isTrue();
        List<ProcessHandle> children = launcher.descendants().toList();
        assertThat(children).hasSize(1);
        Path cmdline = Path.of("/proc", Long.toString(children.get(0).pid()), "cmdline");
        if (Files.exists(cmdline)) {
          assertThat(List.of(Files.readString(cmdline).split("\0"))).contains("--add-modules", "jdk.incubator.vector");
        }
        // ready once the ranking verticle has its model (seconds after "running" on a loaded machine)
        java.net.http.HttpRequest readyRequest = java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + port + "/health/ready")).build();
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        TestStack.eventually("the server is ready", 30_000, () -> {
          try {
            return client.send(readyRequest, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (IOException | InterruptedException e) {
            return false;
          }
        });
        java.net.http.HttpResponse<String> ready = client.send(readyRequest,
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        io.vertx.core.MultiMap readyHeaders = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
        ready.headers().map().forEach(readyHeaders::add);
        assertThat(io.wxmp.server.testkit.Contract.get().check(io.vertx.core.http.HttpMethod.GET, "/health/ready",
            ready.statusCode(), readyHeaders, io.vertx.core.buffer.Buffer.buffer(ready.body()))).isNull();
        assertThat(new io.vertx.core.json.JsonObject(ready.body()).getJsonObject("checks").getString("ranking"))
            .isEqualTo("up");
        if (kill) {
          launcher.destroyForcibly(); // kill -9: no hook runs in the launcher
        } else {
          launcher.destroy(); // SIGTERM
        }
        assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(children.get(0).onExit().get(60, TimeUnit.SECONDS).isAlive()).as("the server JVM").isFalse();
      } finally {
        launcher.descendants().forEach(ProcessHandle::destroyForcibly);
        launcher.destroyForcibly();
      }
    }
  }

  private static Throwable catchStart(Map<String, String> env) {
    try {
      WxmpServer server = WxmpServer.start(Settings.of(env)).await(60, TimeUnit.SECONDS);
      server.close().await(30, TimeUnit.SECONDS);
      throw new AssertionError("the server started");
    } catch (AssertionError e) {
      throw e;
    } catch (Throwable e) {
      return e;
    }
  }
}
