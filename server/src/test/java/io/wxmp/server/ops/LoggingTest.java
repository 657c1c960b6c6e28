package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.LogCapture;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The server's logback.xml as shipped: a date on every text line, JSON lines with WXMP_LOG_FORMAT=json. */
class LoggingTest {
  private static String render(String format) throws Exception {
    LoggerContext context = LogCapture.shipped(format);
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var appenders = root.iteratorForAppenders();
    assertThat(appenders.hasNext()).as("the root logger has an appender").isTrue();
    @SuppressWarnings("unchecked")
    OutputStreamAppender<ILoggingEvent> appender = (OutputStreamAppender<ILoggingEvent>) appenders.next();
    LoggingEvent event = new LoggingEvent("x", context.getLogger("io.wxmp.server.Main"), Level.INFO, "listening on {}",
        null, new Object[] {8080});
    String line = new String(appender.getEncoder().encode(event), StandardCharsets.UTF_8);
    context.stop();
    return line;
  }

  @Test
  void textLinesStartWithADateAndJsonIsOneObjectPerLine() throws Exception {
    assertThat(render(null)).matches("(?s)\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) INFO .*"
        + "listening on 8080\\R");
    String json = render("json");
    assertThat(json.strip()).doesNotContain("\n");
    JsonObject line = new JsonObject(json.strip());
    assertThat(line.getString("level")).isEqualTo("INFO");
    assertThat(line.getString("formattedMessage")).isEqualTo("listening on 8080");
    assertThat(line.getLong("timestamp")).isPositive();
  }
}
