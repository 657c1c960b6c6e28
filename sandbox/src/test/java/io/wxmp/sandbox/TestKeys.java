package io.wxmp.sandbox;

/** One set of generated keys for the whole test run: RSA generation is the slow part of starting a sandbox. */
final class TestKeys {
  static final SandboxKeys KEYS = SandboxKeys.generate();

  private TestKeys() {
  }
}
