package io.wxmp.server.testkit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The events one logger writes while a test runs, each with its MDC as it was on the thread that logged it (an
 * asynchronous appender sees the same). Close it to detach.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final Logger logger;
  private final List<ILoggingEvent> events = new ArrayList<>();

  public LogCapture(String loggerName) {
    this.logger = (Logger) LoggerFactory.getLogger(loggerName);
    setContext(logger.getLoggerContext());
    start();
    logger.addAppender(this);
  }

  public LogCapture(Class<?> loggerOf) {
    this(loggerOf.getName());
  }

  @Override
  protected void append(ILoggingEvent event) {
    event.prepareForDeferredProcessing(); // the message and the MDC, on the calling thread
    synchronized (events) {
      events.add(event);
    }
  }

  public List<ILoggingEvent> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** The first event whose formatted message contains {@code text}, or null. */
  public ILoggingEvent find(String text) {
    return events().stream().filter(e -> e.getFormattedMessage().contains(text)).findFirst().orElse(null);
  }

  /**
   * A logger context of its own configured by the server's logback.xml as shipped, with {@code WXMP_LOG_FORMAT} set
   * to {@code format} (null: the default, text). Stop it when done.
   */
  public static LoggerContext shipped(String format) throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    if (format != null) {
      context.putProperty("WXMP_LOG_FORMAT", format);
    }
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(LogCapture.class.getResource("/logback.xml"));
    return context;
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
