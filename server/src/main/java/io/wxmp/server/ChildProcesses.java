package io.wxmp.server;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dev mode's child processes (the embedded PostgreSQL and Redis): stopping the ones a killed server left behind,
 * a watchdog that stops them when the server dies without running its shutdown hooks ({@code kill -9}), and keeping
 * the embedding libraries' own shutdown hooks from stopping them before HTTP has drained.
 */
final class ChildProcesses {
  private static final Logger log = LoggerFactory.getLogger(ChildProcesses.class);

  private ChildProcesses() {}

  /** The pid in the first line of {@code pidFile} (PostgreSQL's postmaster.pid, Redis's pidfile), if it is running. */
  static Optional<ProcessHandle> running(Path pidFile, String command) {
    try {
      if (!Files.exists(pidFile)) {
        return Optional.empty();
      }
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
      if (lines.isEmpty() || lines.get(0).isBlank()) {
        return Optional.empty();
      }
      long pid = Long.parseLong(lines.get(0).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          // a pid the system gave to something else since is not ours to stop
          .filter(p -> p.info().command().map(c -> c.contains(command)).orElse(false));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Stops the process named in {@code pidFile} if it still runs: a server killed with {@code kill -9} (or a power cut
   * of the JVM alone) left it behind, holding the data folder and the port. SIGTERM first (PostgreSQL and Redis shut
   * down cleanly on it), SIGKILL if it has not exited after 20 s.
   */
  static void stopOrphan(Path pidFile, String command, String what) {
    Optional<ProcessHandle> orphan = running(pidFile, command);
    if (orphan.isEmpty()) {
      return;
    }
    ProcessHandle p = orphan.get();
    log.warn("dev mode: an embedded {} (pid {}) of an earlier run is still running on {}; stopping it", what, p.pid(),
        pidFile.getParent());
    p.destroy();
    try {
      p.onExit().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception again) {
        throw new IllegalStateException("the embedded " + what + " of an earlier run (pid " + p.pid()
            + ") does not stop; stop it by hand (kill -9 " + p.pid() + ")");
      }
    }
  }

  /**
   * A shell that waits for this JVM to be gone, then stops the given processes: what makes the children die with the
   * server even when it is killed with {@code kill -9}. Null where there is no {@code /bin/sh}.
   */
  static Process watchdog(long... pids) {
    if (!Files.isExecutable(Path.of("/bin/sh"))) {
      return null;
    }
    StringBuilder kill = new StringBuilder();
    for (long pid : pids) {
      if (pid > 0) {
        kill.append(" ").append(pid);
      }
    }
    if (kill.isEmpty()) {
      return null;
    }
    String script = "while kill -0 " + ProcessHandle.current().pid() + " 2>/dev/null; do sleep 1; done; kill -TERM"
        + kill + " 2>/dev/null";
    try {
      return new ProcessBuilder("/bin/sh", "-c", script)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
    } catch (IOException e) {
      log.warn("dev mode: no watchdog for the embedded servers ({}); after a kill -9 the next start stops them",
          e.toString());
      return null;
    }
  }

  /**
   * Sets a private flag of an embedding library ({@code closed} of zonky's EmbeddedPostgres, {@code active} of
   * embedded-redis): each registers a JVM shutdown hook that stops its server at once on SIGTERM, racing the server's
   * own hook that drains HTTP first. With the flag set the library's hook does nothing, and {@link DevStack#close()}
   * clears it and stops the server itself, after the drain.
   */
  static void setFlag(Object target, Class<?> owner, String field, boolean value) {
    try {
      Field f = owner.getDeclaredField(field);
      f.setAccessible(true);
      Object flag = f.get(target);
      if (flag instanceof AtomicBoolean atomic) {
        atomic.set(value);
      } else {
        f.setBoolean(target, value);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("dev mode: cannot hold back {}'s shutdown hook ({}); SIGTERM may stop it before HTTP has drained",
          owner.getSimpleName(), e.toString());
    }
  }

  /** The last {@code n} lines of a log file, for an error message that gives the cause. */
  static String tail(Path file, int n) {
    try {
      if (!Files.exists(file)) {
        return "(no log at " + file + ")";
      }
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
