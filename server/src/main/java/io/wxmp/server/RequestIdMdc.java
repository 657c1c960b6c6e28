package io.wxmp.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.wxmp.handlers.common.RequestIds;
import org.slf4j.Marker;
import org.slf4j.spi.MDCAdapter;

/**
 * Puts the id of the request being handled on the calling thread ({@link RequestIds#current()}, from the request's
 * Vert.x context) into the MDC as {@code requestId} before each enabled log call, and takes it out outside of a
 * request. A turbo filter runs on the calling thread before the event exists, so the id is in the event's MDC even
 * when an asynchronous appender writes it later on another thread (AsyncAppender copies the MDC on the caller).
 * Configured in logback.xml.
 */
public final class RequestIdMdc extends TurboFilter {
  public static final String KEY = "requestId";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != null && level.isGreaterOrEqual(logger.getEffectiveLevel())) {
      MDCAdapter mdc = logger.getLoggerContext().getMDCAdapter();
      if (mdc != null) {
        String id = current();
        String had = mdc.get(KEY);
        if (id == null) {
          if (had != null) {
            mdc.remove(KEY);
          }
        } else if (!id.equals(had)) {
          mdc.put(KEY, id);
        }
      }
    }
    return FilterReply.NEUTRAL;
  }

  private static String current() {
    try {
      return RequestIds.current();
    } catch (RuntimeException e) {
      return null; // never let logging fail a request
    }
  }
}
