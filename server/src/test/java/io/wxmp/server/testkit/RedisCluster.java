package io.wxmp.server.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster of three masters on loopback, made of Debian's {@code redis-server} and {@code redis-cli}
 * (apt-get install redis-server; {@code .ci/run} installs it). The suites that run with
 * {@code -Dwxmp.test.redis=cluster} point the server at it instead of the embedded standalone Redis.
 */
public final class RedisCluster implements AutoCloseable {
  private static final String SERVER = System.getProperty("wxmp.test.redisServer", "/usr/bin/redis-server");
  private static final String CLI = System.getProperty("wxmp.test.redisCli", "/usr/bin/redis-cli");

  private final List<Process> nodes;
  private final List<Integer> ports;

  private RedisCluster(List<Process> nodes, List<Integer> ports) {
    this.nodes = nodes;
    this.ports = ports;
  }

  /** True where Debian's redis-server and redis-cli are installed. */
  public static boolean available() {
    return Files.isExecutable(Path.of(SERVER)) && Files.isExecutable(Path.of(CLI));
  }

  /** Starts three masters, joins them into one cluster (all 16,384 slots) and waits until it is ok. */
  public static RedisCluster start(Path dir, int masters) {
    if (!available()) {
      throw new IllegalStateException("Redis Cluster tests need Debian's redis-server and redis-cli ("
          + SERVER + ", " + CLI + "): apt-get install -y redis-server");
    }
    List<Process> nodes = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    RedisCluster cluster = new RedisCluster(nodes, ports);
    try {
      for (int i = 0; i < masters; i++) {
        int port = TestStack.freePort();
        Path nodeDir = Files.createDirectories(dir.resolve("redis-" + port));
        Process p = new ProcessBuilder(SERVER, "--port", Integer.toString(port), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            "--appendonly", "no", "--save", "", "--dir", nodeDir.toString(), "--daemonize", "no",
            "--protected-mode", "no")
            .redirectErrorStream(true).redirectOutput(nodeDir.resolve("redis.log").toFile()).start();
        nodes.add(p);
        ports.add(port);
      }
      for (int port : ports) {
        waitFor("redis on " + port, () -> cli(port, "PING").contains("PONG"));
      }
      List<String> create = new ArrayList<>(List.of(CLI, "--cluster", "create"));
      ports.forEach(p -> create.add("127.0.0.1:" + p));
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      String out = run(create, 60);
      if (!out.contains("All 16384 slots covered")) {
        throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
      }
      for (int port : ports) {
        waitFor("cluster_state:ok on " + port, () -> cli(port, "CLUSTER", "INFO").contains("cluster_state:ok"));
      }
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
      return cluster;
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw new IllegalStateException("could not start a Redis Cluster: " + e.getMessage(), e);
    }
  }

  /** The connection strings of every master, comma-separated, for {@code WXMP_REDIS_URL}. */
  public String urls() {
    return ports.stream().map(p -> "redis://127.0.0.1:" + p).collect(Collectors.joining(","));
  }

  public List<Integer> ports() {
    return List.copyOf(ports);
  }

  /** Runs redis-cli in cluster mode (-c follows redirections) against the first master. */
  public String cli(String... args) {
    List<String> cmd = new ArrayList<>(List.of(CLI, "-c", "-p", Integer.toString(ports.get(0))));
    cmd.addAll(List.of(args));
    return run(cmd, 20);
  }

  @Override
  public void close() {
    for (Process p : nodes) {
      p.destroy();
    }
    for (Process p : nodes) {
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String cli(int port, String... args) {
    List<String> cmd = new ArrayList<>(List.of(CLI, "-p", Integer.toString(port)));
    cmd.addAll(List.of(args));
    try {
      return run(cmd, 5);
    } catch (RuntimeException e) {
      return "";
    }
  }

  private static String run(List<String> cmd, int timeoutSec) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + ": timed out");
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void waitFor(String what, java.util.function.BooleanSupplier ok) {
    TestStack.eventually(what, 20_000, ok);
  }
}
