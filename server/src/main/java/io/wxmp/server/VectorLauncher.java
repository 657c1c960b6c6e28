package io.wxmp.server;

import java.lang.management.ManagementFactory;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes {@code java -jar wxmp.jar} enough. The CPU ranking path uses the Vector API, an incubator module that a jar's
 * manifest cannot add ({@code Add-Opens} and {@code Launcher-Agent} do not reach incubator modules), so a JVM started
 * without {@code --add-modules jdk.incubator.vector} runs the same command again in a child JVM that has it: same
 * Java, same JVM options, same class path and arguments, inherited input and output. The parent forwards SIGTERM (its
 * shutdown hook stops the child, which drains as usual) and exits with the child's status; the child exits when the
 * parent disappears, so a {@code kill -9} of the parent leaves no server behind.
 */
final class VectorLauncher {
  static final String MODULE = "jdk.incubator.vector";
  private static final String PARENT_PID = "wxmp.launcher.pid";

  private VectorLauncher() {}

  /** Returns when this JVM has the Vector API; otherwise runs the child and exits with its status. */
  static void ensureVectorApi(String mainClass, String[] args) {
    if (ModuleLayer.boot().findModule(MODULE).isPresent()) {
      watchParent();
      return;
    }
    if (ModuleFinder.ofSystem().find(MODULE).isEmpty()) {
      System.err.println("wxmp: this Java runtime has no " + MODULE + " module (the ranking engine's CPU path uses "
          + "the Vector API); use a full JDK or JRE 17 or newer");
      System.exit(2);
    }
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.add("--add-modules");
    command.add(MODULE);
    command.add("-D" + PARENT_PID + "=" + ProcessHandle.current().pid());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    Process child;
    try {
      child = new ProcessBuilder(command).inheritIO().start();
    } catch (java.io.IOException e) {
      System.err.println("wxmp: could not start " + java + " with --add-modules " + MODULE + " (" + e.getMessage()
          + "); start it so yourself: java --add-modules " + MODULE + " -jar wxmp.jar");
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (child.isAlive()) {
        child.destroy(); // SIGTERM: the child drains, then stops
        try {
          if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroyForcibly();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "wxmp-launcher"));
    int status;
    try {
      status = child.waitFor();
    } catch (InterruptedException e) {
      status = 1;
    }
    System.exit(status);
  }

  /** In the child: stop (gracefully, through the shutdown hooks) when the launching JVM is gone. */
  private static void watchParent() {
    String pid = System.getProperty(PARENT_PID);
    if (pid == null) {
      return;
    }
    ProcessHandle.of(Long.parseLong(pid)).ifPresentOrElse(
        parent -> parent.onExit().thenRun(() -> System.exit(143)),
        () -> System.exit(143));
  }
}
