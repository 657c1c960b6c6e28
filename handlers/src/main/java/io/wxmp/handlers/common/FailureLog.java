package io.wxmp.handlers.common;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Logs one line per kind of failure per window rather than one per request: when PostgreSQL is down every request
 * fails the same way, and the log should say so once (with how many more followed), not once per request.
 */
public final class FailureLog {
  /** How long a kind stays quiet after it was logged. */
  public static final long WINDOW_MS = 10_000;
  private static final ConcurrentHashMap<String, Window> WINDOWS = new ConcurrentHashMap<>();

  private FailureLog() {}

  private static final class Window {
    long openedAt;
    long suppressed;
  }

  /**
   * Calls {@code log} with the number of failures of this kind left out since the last line, if this kind was not
   * logged in the last {@link #WINDOW_MS}; otherwise only counts it.
   */
  public static void once(String kind, Consumer<Long> log) {
    long now = System.currentTimeMillis();
    Window w = WINDOWS.computeIfAbsent(kind, k -> new Window());
    long left;
    synchronized (w) {
      if (w.openedAt != 0 && now - w.openedAt < WINDOW_MS) {
        w.suppressed++;
        return;
      }
      left = w.suppressed;
      w.openedAt = now;
      w.suppressed = 0;
    }
    if (WINDOWS.size() > 1_000) {
      WINDOWS.clear(); // kinds are few (part and exception class); this only guards against an unbounded map
    }
    log.accept(left);
  }

  /** The innermost cause, as class and message, for the log line. */
  public static String rootCause(Throwable failure) {
    Throwable t = root(failure);
    return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** The innermost cause's class: what a kind of failure is named by (messages vary per request). */
  public static String rootClass(Throwable failure) {
    Throwable t = root(failure);
    return t == null ? "unknown" : t.getClass().getName();
  }

  private static Throwable root(Throwable failure) {
    Throwable t = failure;
    while (t != null && t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
