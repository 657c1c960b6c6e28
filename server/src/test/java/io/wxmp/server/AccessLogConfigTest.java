package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The production logging configuration (logback.xml, not the tests' logback-test.xml): the access log goes through an
 * asynchronous appender that drops nothing, so the event loop never writes a console line itself, and nothing is
 * lost when Main stops the context at shutdown.
 */
class AccessLogConfigTest {
  @Test
  void accessLogIsAsynchronousAndLossless() throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter()); // what SLF4J's binding gives its own
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(AccessLogConfigTest.class.getResource("/logback.xml"));
    ch.qos.logback.classic.Logger access = context.getLogger("wxmp.access");
    List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
    access.iteratorForAppenders().forEachRemaining(appenders::add);
    assertThat(appenders).hasSize(1).first().isInstanceOf(AsyncAppender.class);
    AsyncAppender async = (AsyncAppender) appenders.get(0);
    assertThat(async.getDiscardingThreshold()).isZero();
    assertThat(async.isNeverBlock()).isFalse();
    assertThat(access.isAdditive()).isFalse(); // not written a second time, synchronously, by the root's appender

    // every line reaches the console, in order and whole, by the time the context has stopped
    String marker = "t" + System.nanoTime();
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 20_000; i++) {
        access.info("[{}-{}] GET /api/v1/me 200 1ms", marker, i);
      }
      Main.stopLogging(context); // what the shutdown hook does
    } finally {
      System.setOut(out);
    }
    List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains(marker)).toList();
    assertThat(lines).hasSize(20_000);
    for (int i = 0; i < lines.size(); i += 997) {
      assertThat(lines.get(i)).contains("[" + marker + "-" + i + "] GET /api/v1/me 200 1ms");
    }
  }
}
