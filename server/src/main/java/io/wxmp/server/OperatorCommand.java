package io.wxmp.server;

import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.platform.OperatorRepository;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar wxmp.jar operator create <username>}: makes a platform operator in the configured database (the
 * same settings as the server: {@code WXMP_PG_URL} from the environment or {@code WXMP_CONFIG_FILE}), running the
 * migrations first so an empty database works, and prints a one-time password. This is how a production database gets
 * its first operator; operators then make merchants through {@code /api/v1/platform/merchants}.
 */
public final class OperatorCommand {
  public static final String USAGE = "usage: java -jar wxmp.jar operator create <username>";

  private OperatorCommand() {}

  /** Runs the command; answers the process exit status (0 done, 1 refused, 2 usage or configuration). */
  public static int run(String[] args, Settings settings, PrintStream out, PrintStream err) {
    if (args.length != 3 || !args[0].equals("operator") || !args[1].equals("create")) {
      err.println(USAGE);
      return 2;
    }
    String username = args[2];
    if (!username.matches("[A-Za-z0-9._@-]{1,64}")) {
      err.println("wxmp: the username must be 1..64 letters, digits or . _ @ -");
      return 2;
    }
    if (settings.string("WXMP_PG_URL") == null) {
      err.println("wxmp: configuration error: WXMP_PG_URL: required but not set (operator create writes to the "
          + "configured database; dev mode makes demo-operator by itself)");
      return 2;
    }
    Settings.Check check = settings.check();
    Database database = check.get(() -> Database.from(settings));
    check.done();
    database.migrate();
    String password = Passwords.oneTime();
    String hash = Passwords.hash(password);
    Vertx vertx = Vertx.vertx();
    try {
      Pool pg = database.pool(vertx, 1, settings.integer("WXMP_PG_QUERY_TIMEOUT_MS", 100, 600_000));
      Long id = new OperatorRepository(pg).insert(username, hash).await(30, TimeUnit.SECONDS);
      pg.close().await(10, TimeUnit.SECONDS);
      if (id == null) {
        err.println("wxmp: an operator named " + username + " exists already");
        return 1;
      }
      out.println("Operator   " + username + "  password: " + password);
      out.println("This password is shown once; log in with POST /api/v1/platform/login.");
      return 0;
    } catch (Exception e) {
      err.println("wxmp: could not create the operator: " + e.getMessage());
      return 1;
    } finally {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // the process exits next
      }
    }
  }
}
