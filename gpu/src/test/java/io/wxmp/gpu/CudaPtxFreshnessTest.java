package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The committed PTX must come from the committed .cu (gpu/build-ptx.sh rebuilds it). */
class CudaPtxFreshnessTest {
  private static final Path SOURCE = Path.of("src/main/cuda/ranking.cu");
  private static final Path PTX = Path.of("src/main/resources/io/wxmp/gpu/ranking.ptx");

  @Test
  void recordedSourceHashMatchesTheSource() throws Exception {
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(SOURCE)));
    assertThat(Files.readString(PTX)).as("PTX older than %s: run gpu/build-ptx.sh", SOURCE)
        .contains("// source-sha256: " + hash);
  }

  @Test
  void freshNvccCompileEqualsTheCommittedPtx() throws Exception {
    Path out = Files.createTempFile("ranking", ".ptx");
    try {
      Process p;
      try {
        p = new ProcessBuilder("nvcc", "-ptx", "-arch=compute_80", "-O3", "-o", out.toString(), SOURCE.toString())
            .redirectErrorStream(true).start();
      } catch (IOException noNvcc) {
        System.out.println("nvcc not found, skipping the fresh PTX compile: " + noNvcc.getMessage());
        Assumptions.abort("nvcc not found");
        return;
      }
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("nvcc: %s", log).isZero();
      assertThat(code(Files.readString(out))).as("committed PTX differs from a fresh compile: run gpu/build-ptx.sh")
          .isEqualTo(code(Files.readString(PTX)));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** Lines of code: comments name the compiler build and the source hash, not the code. */
  private static String code(String ptx) {
    return ptx.lines().filter(l -> !l.trim().startsWith("//")).collect(Collectors.joining("\n")).trim();
  }
}
