package io.wxmp.server;

/** Start-up cannot go on, for a reason its message says in full (Main prints it as one line, no stack trace). */
public final class StartupFailure extends RuntimeException {
  public StartupFailure(String message) {
    super(message, null, false, false);
  }
}
