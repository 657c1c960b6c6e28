package io.wxmp.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the sandbox on its own: {@code java -jar wxmp-sandbox-standalone.jar [--keys-dir DIR] [--host H] [--port N]
 * [--notify-time-scale X]}. Generates fresh keys, writes the merchant private key ({@code apiclient_key.pem}), the
 * WeChat Pay public key ({@code pub_key.pem}) and the settings ({@code sandbox.properties}) into the keys folder
 * (default {@code ./.wxmp/sandbox-keys}) and prints everything a server needs to talk to it.
 */
public final class SandboxMain {
  static final String DEFAULT_KEYS_DIR = ".wxmp/sandbox-keys";

  private SandboxMain() {
  }

  public static void main(String[] args) {
    // Quiet logging unless the developer chose a configuration; must happen before the first logger exists.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "io/wxmp/sandbox/standalone-logback.xml");
    }
    Vertx vertx = Vertx.vertx();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // exiting anyway
      }
    }));
    start(vertx, args, System.out).onFailure(e -> {
      System.err.println("sandbox: " + e.getMessage());
      vertx.close().onComplete(ignored -> System.exit(1));
    });
  }

  /** Parses the arguments, writes the key files, deploys the sandbox and prints its settings; the deployment id. */
  static Future<String> start(Vertx vertx, String[] args, PrintStream out) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e.getMessage() + "\nusage: [--keys-dir DIR] [--host HOST] [--port N] [--notify-time-scale X]");
    }
    SandboxKeys keys = SandboxKeys.generate();
    SandboxConfig config = SandboxConfig.defaults(keys).withHost(options.host).withPort(options.port)
        .withNotifyTimeScale(options.notifyTimeScale);
    SandboxVerticle verticle = new SandboxVerticle(config);
    return vertx.deployVerticle(verticle).compose(id -> vertx.executeBlocking(() -> {
      Path dir = options.keysDir.toAbsolutePath().normalize();
      List<String> settings = List.of(
          "url=http://" + config.host() + ":" + verticle.actualPort(),
          "port=" + verticle.actualPort(),
          "appId=" + config.appId(),
          "appSecret=" + config.appSecret(),
          "mchId=" + config.mchId(),
          "merchantSerial=" + config.merchantSerial(),
          "merchantPrivateKey=" + dir.resolve("apiclient_key.pem"),
          "platformPublicKeyId=" + config.platformPublicKeyId(),
          "platformPublicKey=" + dir.resolve("pub_key.pem"),
          "apiV3Key=" + config.apiV3Key());
      Files.createDirectories(dir);
      writePrivate(dir.resolve("apiclient_key.pem"), SandboxKeys.toPem(keys.merchant().getPrivate()));
      Files.writeString(dir.resolve("pub_key.pem"), SandboxKeys.toPem(keys.platform().getPublic()));
      writePrivate(dir.resolve("sandbox.properties"), String.join("\n", settings) + "\n");
      out.println("WeChat sandbox (mini-program API + WeChat Pay v3) is running. Keys and settings in " + dir);
      settings.forEach(line -> out.println("  " + line));
      out.println("  control API: POST /sandbox/users, POST /sandbox/pay/confirm, GET /sandbox/pay/notifications");
      out.flush();
      return id;
    }));
  }

  private static void writePrivate(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.US_ASCII);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the folder's ACL applies
    }
  }

  private record Options(Path keysDir, String host, int port, double notifyTimeScale) {
    static Options parse(String[] args) {
      Path keysDir = Path.of(DEFAULT_KEYS_DIR);
      String host = "127.0.0.1";
      int port = 0;
      double scale = 1.0;
      List<String> rest = new ArrayList<>(List.of(args));
      while (!rest.isEmpty()) {
        String arg = rest.remove(0);
        String value = null;
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0) {
          value = arg.substring(eq + 1);
          arg = arg.substring(0, eq);
        }
        switch (arg) {
          case "--keys-dir" -> keysDir = Path.of(value(arg, value, rest));
          case "--host" -> host = value(arg, value, rest);
          case "--port" -> port = number(arg, value(arg, value, rest));
          case "--notify-time-scale" -> {
            try {
              scale = Double.parseDouble(value(arg, value, rest));
            } catch (NumberFormatException e) {
              throw new IllegalArgumentException("--notify-time-scale needs a number");
            }
          }
          default -> {
            if (arg.startsWith("--")) {
              throw new IllegalArgumentException("unknown option " + arg);
            }
            keysDir = Path.of(arg);
          }
        }
      }
      return new Options(keysDir, host, port, scale);
    }

    private static String value(String option, String inline, List<String> rest) {
      if (inline != null) {
        return inline;
      }
      if (rest.isEmpty()) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      return rest.remove(0);
    }

    private static int number(String option, String value) {
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " needs a number");
      }
    }
  }
}
