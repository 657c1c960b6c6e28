package io.wxmp.server;

import java.net.BindException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point. With no database URL configured it runs dev mode (embedded PostgreSQL and Redis, the WeChat sandbox,
 * demo data) and prints the URLs and demo credentials; otherwise it runs against the configured servers.
 * SIGTERM closes the HTTP servers, lets in-flight requests finish, then closes pools and embedded servers.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("operator")) {
      // a command (operator create <username>) rather than the server
      try {
        System.exit(OperatorCommand.run(args, Settings.load(System.getenv()), System.out, System.err));
      } catch (Settings.ConfigException e) {
        printProblems(e);
        System.exit(2);
      }
    }
    VectorLauncher.ensureVectorApi(Main.class.getName(), args);
    Settings settings;
    try {
      settings = Settings.load(System.getenv());
      run(settings);
    } catch (Settings.ConfigException e) {
      printProblems(e);
      System.exit(2);
    } catch (StartupFailure e) {
      System.err.println("wxmp: " + e.getMessage());
      System.exit(1);
    } catch (Exception e) {
      String bind = bindMessage(e);
      if (bind != null) {
        System.err.println("wxmp: " + bind);
        System.exit(2);
      }
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof StartupFailure failure) {
          System.err.println("wxmp: " + failure.getMessage());
          System.exit(1);
        }
        if (t instanceof Settings.ConfigException config) {
          printProblems(config);
          System.exit(2);
        }
      }
      log.error("wxmp failed to start", e);
      System.exit(1);
    }
  }

  /** The production jar leaves the embedded PostgreSQL and Redis out (about 100 MB of binaries for three systems). */
  private static void devStackPresent() {
    try {
      Class.forName("io.zonky.test.db.postgres.embedded.EmbeddedPostgres", false, Main.class.getClassLoader());
      Class.forName("redis.embedded.RedisServer", false, Main.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new Settings.ConfigException("WXMP_MODE: dev mode needs wxmp-dev.jar (this is the production jar, "
          + "without the embedded PostgreSQL and Redis): ./scripts/dev.sh builds and runs it");
    }
  }

  /** One line per problem, all of them, so that one run shows an operator everything to fix. */
  static void printProblems(Settings.ConfigException e) {
    for (String problem : e.problems()) {
      System.err.println("wxmp: configuration error: " + problem);
    }
  }

  private static void run(Settings loaded) throws Exception {
    if (Cluster.Role.of(loaded) == Cluster.Role.RANKING) {
      runRankingNode(loaded);
      return;
    }
    Settings settings = loaded;
    Settings.Check check = loaded.check();
    Boolean devMode = check.get(loaded::devMode);
    boolean dev = Boolean.TRUE.equals(devMode);
    DevStack stack = null;
    if (dev) {
      // dev mode's own settings first (the server's are checked once the dev stack has filled in its URLs)
      String dataDir = check.get(() -> loaded.required("WXMP_DATA_DIR"));
      Integer redisPort = check.get(() -> loaded.integer("WXMP_DEV_REDIS_PORT", 0, 65535));
      String sandboxHost = check.get(() -> loaded.required("WXMP_SANDBOX_HOST"));
      Integer sandboxPort = check.get(() -> loaded.integer("WXMP_SANDBOX_PORT", 0, 65535));
      String risky = check.get(() -> loaded.required("WXMP_RISKY_WORDS"));
      check.run(() -> loaded.integer("WXMP_HTTP_PORT", 0, 65535));
      check.run(Main::devStackPresent);
      check.done();
      stack = DevStack.start(Path.of(dataDir), redisPort, sandboxHost, sandboxPort, 1.0,
          Arrays.asList(risky.split(",")));
      java.util.Map<String, String> devSettings = new java.util.HashMap<>(stack.settings());
      if (settings.string("WXMP_FEED_TOKEN_KEY") != null) {
        devSettings.remove("WXMP_FEED_TOKEN_KEY"); // a key set by hand wins over the one made per start
      }
      settings = settings.with(devSettings);
      if (settings.string("WXMP_PAY_NOTIFY_URL") == null && settings.string("WXMP_PUBLIC_URL") == null) {
        // The in-process sandbox delivers WeChat Pay notifies to this server directly, and uploaded images (avatars,
        // item covers) get absolute URLs on this machine, as the devtools and the console on it reach them.
        String self = "http://127.0.0.1:" + settings.required("WXMP_HTTP_PORT");
        settings = settings.with(java.util.Map.of("WXMP_PAY_NOTIFY_URL", self, "WXMP_PUBLIC_URL", self));
      }
    }
    if (!dev) {
      // the server reports these together with every other setting's problems
      settings = settings.withProblems(check);
    }
    WxmpServer server;
    try {
      server = WxmpServer.start(settings).await(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      if (stack != null) {
        stack.close();
      }
      throw new StartupFailure("start-up did not finish within 120 s");
    } catch (Exception e) {
      if (stack != null) {
        stack.close();
      }
      throw e;
    }
    DevStack devStack = stack;
    installShutdownHook(server, devStack);

    String api = "http://127.0.0.1:" + settings.required("WXMP_HTTP_PORT");
    StringBuilder banner = new StringBuilder("\n  wxmp is running (" + (dev ? "dev" : "prod") + " mode)\n")
        .append("  API        ").append(api).append("/api/v1\n")
        .append("  Health     ").append(api).append("/health/ready\n")
        .append("  Metrics    ").append("http://").append(loopback(settings.required("WXMP_MANAGEMENT_HOST")))
        .append(':').append(server.managementPort()).append("/metrics  (management port)\n")
        .append("  OpenAPI    ").append(api).append("/openapi.yaml\n")
        .append("  Console    ").append(api).append("/admin/  (merchants' web console)\n");
    if (dev) {
      DemoData.Seeded demo = DemoData.seed(server.pool(), server.vertx()).await(60, TimeUnit.SECONDS);
      DemoFeed.Trained model = DemoFeed.seed(server.pool(), server.feed(), demo.merchantId())
          .await(300, TimeUnit.SECONDS);
      String sandboxHost = settings.required("WXMP_SANDBOX_HOST");
      banner.append("  Sandbox    ").append(devStack.sandboxUrl()).append("  (WeChat + WeChat Pay simulator")
          .append(sandboxHost.equals("127.0.0.1") ? "" : "; listening on " + sandboxHost).append(")\n")
          .append("  AppID      ").append(DevStack.APP_ID).append("\n")
          .append("  Admin      ").append(String.join(", ", DemoData.ACCOUNTS))
          .append("  password: ").append(demo.password()).append("  (new at every start)\n")
          .append("  Operator   ").append(DemoData.OPERATOR).append("  password: ").append(demo.password()).append("\n")
          .append("  Feed       ").append(model == null ? "no model (training failed, see the log): cold-start pages"
              : "model " + model.version() + " trained on the demo activity of " + model.users() + " users, "
                  + model.items() + " items").append("\n")
          .append("  Data       ").append(devStack.dataDir().toAbsolutePath()).append("\n");
    }
    System.out.println(banner);
  }

  /** {@code WXMP_ROLE=ranking}: no dev stack, no HTTP API; PostgreSQL and the cluster must be configured. */
  private static void runRankingNode(Settings settings) throws Exception {
    if (settings.devMode()) {
      throw new Settings.ConfigException("WXMP_ROLE=ranking does not run in dev mode (a ranking node loads the feed "
          + "model from the API nodes' PostgreSQL, WXMP_PG_URL; dev mode runs role both)");
    }
    RankingNode node;
    try {
      node = RankingNode.start(settings).await(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new StartupFailure("start-up did not finish within 120 s");
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down: leaving the cluster");
      try {
        node.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("shutdown was not clean: {}", e.toString());
      }
    }, "wxmp-shutdown"));
    System.out.println("\n  wxmp ranking node is running (feed model " + node.modelVersion() + ")\n"
        + "  Health     http://127.0.0.1:" + node.port() + "/health/ready\n"
        + "  Metrics    http://127.0.0.1:" + node.port() + "/metrics\n");
  }

  /** Flushes the asynchronous access log (logback.xml) before the JVM exits. */
  private static void stopLogging() {
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
      stopLogging(context);
    }
  }

  /**
   * Stops the asynchronous appenders first, each flushing its queue into the appenders behind it while those still
   * run (the context's own stop would stop the root's console appender first and drop what was queued), then the
   * context.
   */
  static void stopLogging(ch.qos.logback.classic.LoggerContext context) {
    for (ch.qos.logback.classic.Logger logger : context.getLoggerList()) {
      logger.iteratorForAppenders().forEachRemaining(appender -> {
        if (appender instanceof ch.qos.logback.core.AsyncAppenderBase<?>) {
          appender.stop();
        }
      });
    }
    context.stop();
  }

  /** Where to reach a server bound to {@code host} from this machine. */
  private static String loopback(String host) {
    return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
  }

  /**
   * SIGTERM (and Ctrl-C): HTTP stops taking requests and drains, then the pools close, and only then, in dev mode,
   * the embedded PostgreSQL and Redis stop (their libraries' own shutdown hooks are held back, see DevStack).
   */
  public static void installShutdownHook(WxmpServer server, DevStack devStack) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down: draining HTTP, then closing pools{}", devStack == null ? "" : ", then the databases");
      try {
        server.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("shutdown was not clean: {}", e.toString());
      }
      if (devStack != null) {
        devStack.close();
      }
      stopLogging();
    }, "wxmp-shutdown"));
  }

  private static String bindMessage(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        return "a port is already in use (" + t.getMessage() + "); set WXMP_HTTP_PORT (or WXMP_MANAGEMENT_PORT, "
            + "the metrics port) to a free port";
      }
    }
    return null;
  }
}
