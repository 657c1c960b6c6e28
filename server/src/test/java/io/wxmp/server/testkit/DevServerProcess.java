package io.wxmp.server.testkit;

import io.wxmp.server.DevStack;
import io.wxmp.server.Main;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A dev-mode server in a process of its own, as {@code Main} runs it (the dev stack, the server, Main's shutdown
 * hook) but without the demo data, for tests that kill it with SIGKILL or stop it with SIGTERM. Prints
 * {@code READY <api port> <sandbox port> <postgres port>} once it serves.
 * Arguments: the data folder, the Redis port.
 */
public final class DevServerProcess {
  private DevServerProcess() {}

  public static void main(String[] args) throws Exception {
    DevStack dev = DevStack.start(Path.of(args[0]), Integer.parseInt(args[1]), 0, 0.001, List.of("casino"));
    int port = TestStack.freePort();
    Map<String, String> settings = new HashMap<>(dev.settings());
    settings.put("WXMP_HTTP_HOST", "127.0.0.1");
    settings.put("WXMP_HTTP_PORT", Integer.toString(port));
    settings.put("WXMP_HTTP_INSTANCES", "1");
    settings.put("WXMP_UPSTREAM_TIMEOUT_MS", "8000");
    settings.put("WXMP_PUBLIC_URL", "http://127.0.0.1:" + port);
    settings.put("WXMP_PAY_RECONCILE_INTERVAL_SEC", "3600");
    settings.put("WXMP_FEED_TRAIN_INTERVAL_SEC", "0");
    WxmpServer server = WxmpServer.start(Settings.of(settings)).await(120, TimeUnit.SECONDS);
    Main.installShutdownHook(server, dev);
    System.out.println("READY " + port + " " + dev.sandboxPort() + " " + dev.postgresPort());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
