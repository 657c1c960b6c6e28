package io.wxmp.server.pay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Findings of the adversarial review of paid items and WeChat Pay, each held by what a user, a merchant or WeChat
 * Pay sees. Fixtures are PayTest's.
 */
class PayReviewTest {
  static TestStack stack;
  static PayWire wire;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    wire = new PayWire(stack.dev.keys());
    PayTest.stack = stack;
    PayTest.wire = wire;
  }

  /** A membership opens the merchant's published paid items, not its drafts (nor archived ones it never bought). */
  @Test
  void membersCannotReadUnpublishedItems() {
    TestStack.Merchant m = stack.newMerchant();
    String membership = PayTest.item(m, "membership", 1990L, 30);
    Reply draft = stack.api.post("/api/v1/admin/items", m.owner(), new JsonObject().put("kind", "course")
        .put("title", "Next month's course").put("body", "unreleased material")
        .put("price", new JsonObject().put("amount", 500).put("currency", "CNY")));
    assertThat(draft.status()).isEqualTo(201);
    String draftId = draft.json().getString("id");
    String archived = PayTest.item(m, "course", 700L, null);
    assertThat(stack.api.delete("/api/v1/admin/items/" + archived, m.owner()).status()).isEqualTo(204);
    PayTest.Buyer b = PayTest.newBuyer();
    String order = PayTest.orderId(b, membership);
    PayTest.confirm(PayTest.outTradeNo(order), null);
    PayTest.awaitStatus(order, "paid");

    Reply seen = stack.api.get("/api/v1/items/" + draftId, b.token());
    assertThat(seen.status()).as(seen.toString()).isEqualTo(404);
    assertThat(seen.raw().toString()).doesNotContain("unreleased material");
    assertThat(stack.api.get("/api/v1/items/" + archived, b.token()).status()).isEqualTo(404);
    // Still: published paid items are open to the member.
    assertThat(PayTest.locked(b, PayTest.item(m, "course", 300L, null))).isFalse();
  }

  /** PATCH {"status": null} is bad input: 400, and the published item stays published. */
  @Test
  void patchingStatusToNullIsRefused() {
    TestStack.Merchant m = stack.newMerchant();
    String item = PayTest.item(m, "article", 100L, null);
    Reply r = stack.api.patch("/api/v1/admin/items/" + item, m.owner(), new JsonObject().putNull("status"));
    assertThat(r.status()).as(r.toString()).isEqualTo(400);
    assertThat(r.json().getJsonObject("error").getJsonObject("fields").fieldNames()).contains("status");
    assertThat(stack.api.get("/api/v1/admin/items/" + item, m.owner()).json().getString("status"))
        .isEqualTo("published");
  }
}
