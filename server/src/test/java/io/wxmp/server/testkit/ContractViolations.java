package io.wxmp.server.testkit;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Answers that broke openapi.yaml. {@link Http#send} throws them at once; an answer that only an asynchronous caller
 * saw (a test that counts outcomes of {@code Future.join}, or ignores failures) is still failed here, after the test
 * (or the class, for answers received in {@code @BeforeAll}/{@code @AfterAll}) that received it. Registered for every
 * test class of the module by JUnit's extension auto-detection (src/test/resources/junit-platform.properties).
 * Test classes run one at a time in this module, so what is pending belongs to the test that just ran.
 */
public final class ContractViolations implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
    AfterAllCallback {
  private static final List<Violation> PENDING = new ArrayList<>();
  private static volatile String current = "";

  /** The test that runs now (Class.method), for the messages. */
  public static String current() {
    return current;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    current = context.getRequiredTestClass().getSimpleName();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    current = context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
  }

  /** An answer openapi.yaml does not allow. */
  public static final class Violation extends AssertionError {
    Violation(String message) {
      super("openapi.yaml: " + message);
    }
  }

  static synchronized Violation record(String problem) {
    Violation v = new Violation(problem);
    PENDING.add(v);
    return v;
  }

  /** A violation thrown to the test that received it: not reported again. */
  static synchronized Violation reported(Violation v) {
    PENDING.remove(v);
    return v;
  }

  private static synchronized List<Violation> drain() {
    List<Violation> out = new ArrayList<>(PENDING);
    PENDING.clear();
    return out;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    fail();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    fail();
  }

  private static void fail() {
    List<Violation> found = drain();
    if (!found.isEmpty()) {
      AssertionError e = new AssertionError(found.size() + " answer(s) broke openapi.yaml; the first: "
          + found.get(0).getMessage());
      found.stream().skip(1).limit(20).forEach(e::addSuppressed);
      throw e;
    }
  }
}
