package io.wxmp.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The standalone launcher: writes usable keys and settings, prints them, and serves on the printed port. */
@ExtendWith(VertxExtension.class)
class SandboxMainTest {

  @Test
  void startsPrintsItsSettingsAndWritesTheKeyFiles(Vertx vertx, @TempDir Path dir) throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Path keysDir = dir.resolve("keys");

    String deployment = SandboxMain.start(vertx, new String[] {"--keys-dir", keysDir.toString(), "--port", "0"},
        new PrintStream(printed, true, StandardCharsets.UTF_8)).toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS);

    String output = printed.toString(StandardCharsets.UTF_8);
    Properties settings = new Properties();
    settings.load(new StringReader(Files.readString(keysDir.resolve("sandbox.properties"))));
    assertThat(output).contains("port=" + settings.getProperty("port"), "appId=" + SandboxConfig.DEFAULT_APP_ID,
        "appSecret=", "mchId=" + SandboxConfig.DEFAULT_MCH_ID, "apiV3Key=" + settings.getProperty("apiV3Key"));
    assertThat(settings.getProperty("apiV3Key")).hasSize(32);
    assertThat(settings.getProperty("platformPublicKeyId")).matches("PUB_KEY_ID_\\d+");
    // The files are PEM that a server can load: a PKCS#8 RSA private key and an X.509 RSA public key.
    KeyFactory rsa = KeyFactory.getInstance("RSA");
    assertThat(rsa.generatePrivate(new PKCS8EncodedKeySpec(pemBody(keysDir.resolve("apiclient_key.pem")))))
        .isInstanceOf(java.security.interfaces.RSAPrivateKey.class);
    assertThat(rsa.generatePublic(new X509EncodedKeySpec(pemBody(keysDir.resolve("pub_key.pem")))))
        .isInstanceOf(java.security.interfaces.RSAPublicKey.class);

    Control control = new Control(Integer.parseInt(settings.getProperty("port")));
    assertThat(control.get("/sandbox/stats").status()).isEqualTo(200);
    vertx.undeploy(deployment).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static byte[] pemBody(java.nio.file.Path file) throws java.io.IOException {
    return java.util.Base64.getMimeDecoder().decode(Files.readString(file).replaceAll("-----[A-Z ]+-----", ""));
  }
}
