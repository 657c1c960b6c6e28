package io.wxmp.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A nickname is one line of visible text that reads as it is stored. */
class NicknameTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  @Test
  void invisibleBidiAndMultiLineNicknamesAreRefusedAndChangeNothing() {
    String token = stack.newUserToken();
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Reader Wang")).status())
        .isEqualTo(200);
    List<String> refused = List.of(
        "\u200B\u200B\u200B", // zero-width spaces
        "\u3164", // Hangul filler
        "\u2800\u2800", // braille blank
        "\u200D\uFE0F\u2060", // joiner, variation selector, word joiner
        "\u0301\u0301", // combining marks with nothing to sit on
        "admin\u202Egnp.exe", // right-to-left override
        "\u2066evil\u2069", // isolate
        "\u200Fname", // right-to-left mark
        "two\nlines",
        "carriage\rreturn",
        "para\u2029graph",
        "tab\u0007bell");
    for (String nickname : refused) {
      Reply r = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", nickname));
      assertThat(r.status()).as(escape(nickname)).isEqualTo(400);
      assertThat(r.errorCode()).isEqualTo("bad_request");
      assertThat(r.json().getJsonObject("error").getJsonObject("fields").getString("nickname"))
          .as(escape(nickname)).isNotBlank();
    }
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Reader Wang");
  }

  @Test
  void ordinaryNamesInAnyScriptStillPass() {
    String token = stack.newUserToken();
    for (String nickname : List.of("小明", "Zoë", "مريم", "김민준", "👩‍💻 dev", "Ana María")) {
      Reply r = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", nickname));
      assertThat(r.status()).as(nickname + ": " + r).isEqualTo(200);
      assertThat(r.json().getString("nickname")).isEqualTo(nickname);
    }
  }

  private static String escape(String s) {
    StringBuilder out = new StringBuilder();
    s.codePoints().forEach(c -> out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04X", c) : String.valueOf((char) c)));
    return out.toString();
  }
}
