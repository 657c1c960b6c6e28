package io.wxmp.server.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A wxmp process of its own ({@code io.wxmp.server.Main} in a separate JVM on this JVM's classpath), configured by
 * environment variables, its output in a log file: what the cluster tests start, kill and restart.
 */
public final class NodeProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public final String name;
  public final int httpPort;
  public final Path log;
  private final Process process;

  private NodeProcess(String name, int httpPort, Path log, Process process) {
    this.name = name;
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
  }

  /** Starts Main with {@code settings} as its environment (nothing inherited but PATH and HOME). */
  public static NodeProcess start(String name, Map<String, String> settings, Path logDir, String... jvmOptions) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(List.of(jvmOptions));
      command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-cp", classpath, "io.wxmp.server.Main"));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      Map<String, String> env = builder.environment();
      env.keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME"));
      env.putAll(settings);
      return new NodeProcess(name, Integer.parseInt(settings.get("WXMP_HTTP_PORT")), log, builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** GET on this node's HTTP port: status and body; status -1 when it does not answer. */
  public Answer get(String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, e.toString());
    }
  }

  public record Answer(int status, String body) {}

  /** Waits until {@code path} answers 200; fails with the log's tail if the process ends first or time runs out. */
  public void awaitOk(String path, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited (" + process.exitValue() + "):\n" + tail());
      }
      if (get(path).status() == 200) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError(name + ": " + path + " not 200 within " + timeoutMs + " ms:\n" + tail());
      }
      try {
        TimeUnit.MILLISECONDS.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: the process gets no chance to leave the cluster or answer what it holds. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** The last 60 lines of the log. */
  public String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGTERM (a graceful shutdown), then SIGKILL after 20 s. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
