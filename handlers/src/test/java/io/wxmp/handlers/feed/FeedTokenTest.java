package io.wxmp.handlers.feed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Signing and verifying feed tokens: a signed token round-trips; a changed, foreign or malformed one does not. */
class FeedTokenTest {
  private static final byte[] KEY = FeedToken.newKey();

  private static FeedToken token() {
    return new FeedToken(FeedToken.newTokenId(), "42", "7", 3, "similar", null, "exp1", "b", "m-5", 1_700_000_000_000L);
  }

  @Test
  void signedTokenVerifiesToTheSameFields() {
    FeedToken t = token();
    String wire = t.sign(KEY);
    assertThat(wire).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
    assertThat(FeedToken.verify(wire, KEY)).isEqualTo(t);
    FeedToken sponsored = new FeedToken("id", "1", "2", 0, "sponsored", "c9", null, null, null, 5);
    assertThat(FeedToken.verify(sponsored.sign(KEY), KEY)).isEqualTo(sponsored);
  }

  @Test
  void anotherKeyDoesNotVerify() {
    assertThat(FeedToken.verify(token().sign(KEY), FeedToken.newKey())).isNull();
  }

  @Test
  void changedPayloadDoesNotVerify() {
    String wire = token().sign(KEY);
    String payload = new String(Base64.getUrlDecoder().decode(wire.substring(0, wire.indexOf('.'))),
        StandardCharsets.UTF_8);
    String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
        payload.replace("\"42\"", "\"43\"").getBytes(StandardCharsets.UTF_8));
    assertThat(forged).isNotEqualTo(wire.substring(0, wire.indexOf('.')));
    assertThat(FeedToken.verify(forged + wire.substring(wire.indexOf('.')), KEY)).isNull();
    // every single flipped character of the signature fails too
    for (int i = wire.indexOf('.') + 1; i < wire.length(); i++) {
      char c = wire.charAt(i) == 'A' ? 'B' : 'A';
      String flipped = wire.substring(0, i) + c + wire.substring(i + 1);
      assertThat(FeedToken.verify(flipped, KEY)).as("flipped at " + i).isNull();
    }
  }

  @Test
  void malformedTokensAreNull() {
    for (String bad : new String[] {null, "", ".", "abc", "a.b.c", "!!!.???", "x".repeat(5000),
        Base64.getUrlEncoder().encodeToString("[]".getBytes(StandardCharsets.UTF_8)) + ".AAAA"}) {
      assertThat(FeedToken.verify(bad, KEY)).as(String.valueOf(bad)).isNull();
    }
    assertThat(FeedToken.verify(token().sign(KEY), null)).isNull();
  }

  @Test
  void paramsParseOverDefaultsAndRejectBadValues() {
    FeedParams p = FeedParams.fromJson(new io.vertx.core.json.JsonObject().put("mmrLambda", 0.5)
        .put("perMerchantCap", 2));
    assertThat(p.mmrLambda()).isEqualTo(0.5);
    assertThat(p.perMerchantCap()).isEqualTo(2);
    assertThat(p.fatigueImpressions()).isEqualTo(FeedParams.defaults().fatigueImpressions());
    assertThat(FeedParams.fromJson(p.toJson())).isEqualTo(p);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedParams.fromJson(
        new io.vertx.core.json.JsonObject().put("mmrLambda", 2))).hasMessageStartingWith("mmrLambda");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedParams.fromJson(
        new io.vertx.core.json.JsonObject().put("bogus", 1))).hasMessageStartingWith("bogus");
  }
}
