package io.wxmp.server.pay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.DevStack;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

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

  /**
   * A genuine, signed refund notify delivered to the payment endpoint (or a payment notify to the refund endpoint)
   * is refused there and not recorded, so the delivery to the right endpoint still applies it.
   */
  @Test
  void notifyOnTheWrongEndpointDoesNotBurnItsId() {
    TestStack.Merchant m = stack.newMerchant();
    String item = PayTest.item(m, "article", 600L, null);
    PayTest.Buyer b = PayTest.newBuyer();
    String id = PayTest.orderId(b, item);
    String no = PayTest.outTradeNo(id);
    assertThat(PayTest.confirm(no, new JsonObject().put("notify", false)).status()).isEqualTo(200);

    String payId = UUID.randomUUID().toString();
    PayWire.Notify pay = wire.paymentNotify(payId, PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 600, 600));
    Reply misrouted = PayTest.postNotify("/api/v1/pay/refund-notify", pay);
    assertThat(misrouted.status()).as(misrouted.toString()).isBetween(400, 499);
    assertThat(misrouted.json().getString("code")).isEqualTo("FAIL");
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE id = $1", Tuple.of(payId))).isZero();
    assertThat(PayTest.postNotify("/api/v1/pay/notify", pay).status()).isEqualTo(204);
    assertThat(PayTest.status(id)).isEqualTo("paid");

    // A refund under way whose notify first lands on /pay/notify.
    String outRefundNo = "Rwrong" + System.nanoTime();
    stack.sql("UPDATE orders SET status = 'refunding' WHERE id = $1", Tuple.of(Long.parseLong(id)));
    stack.sql("INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason) VALUES ($1, $2, 600, 'x')",
        Tuple.of(Long.parseLong(id), outRefundNo));
    JsonObject refund = new JsonObject().put("mchid", DevStack.MCH_ID).put("out_trade_no", no)
        .put("transaction_id", "4200" + System.nanoTime()).put("out_refund_no", outRefundNo)
        .put("refund_id", "5030" + System.nanoTime()).put("refund_status", "SUCCESS")
        .put("success_time", OffsetDateTime.now(ZoneOffset.ofHours(8)).withNano(0).toString())
        .put("user_received_account", "支付用户零钱")
        .put("amount", new JsonObject().put("total", 600).put("refund", 600).put("payer_total", 600)
            .put("payer_refund", 600));
    String refundId = UUID.randomUUID().toString();
    PayWire.Notify refunded = wire.notify(refundId, "REFUND.SUCCESS", "refund", refund,
        System.currentTimeMillis() / 1000);
    Reply wrong = PayTest.postNotify("/api/v1/pay/notify", refunded);
    assertThat(wrong.status()).as(wrong.toString()).isBetween(400, 499);
    assertThat(stack.count("SELECT count(*) FROM pay_notifications WHERE id = $1", Tuple.of(refundId))).isZero();
    assertThat(PayTest.postNotify("/api/v1/pay/refund-notify", refunded).status()).isEqualTo(204);
    assertThat(PayTest.status(id)).isEqualTo("refunded");
    assertThat(PayTest.grants(id)).isZero();
  }

  /**
   * WeChat Pay refusing a refund is logged without the request the SDK made: its Authorization header (a signed
   * credential) and the payer's data stay out of the log.
   */
  @Test
  void refusedRefundLogsNoCredential() {
    Logger payLog = (Logger) LoggerFactory.getLogger("io.wxmp.handlers.pay");
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    payLog.addAppender(captured);
    try {
      TestStack.Merchant m = stack.newMerchant();
      String item = PayTest.item(m, "article", 400L, null);
      PayTest.Buyer b = PayTest.newBuyer();
      String id = PayTest.orderId(b, item);
      String no = PayTest.outTradeNo(id);
      // Paid here (a signed notify) while the sandbox still has it unpaid: it refuses the refund.
      PayWire.Notify n = wire.paymentNotify(UUID.randomUUID().toString(),
          PayWire.transaction(DevStack.APP_ID, DevStack.MCH_ID, no, 400, 400));
      assertThat(PayTest.postNotify("/api/v1/pay/notify", n).status()).isEqualTo(204);
      Reply r = stack.api.post("/api/v1/admin/orders/" + id + "/refund", m.owner(),
          new JsonObject().put("reason", "refused"));
      assertThat(r.errorCode()).as(r.toString()).isEqualTo("refund_rejected");
      assertThat(PayTest.status(id)).isEqualTo("paid");
      assertThat(captured.list).anyMatch(e -> e.getFormattedMessage().contains("refused refund"));
      assertThat(captured.list).allSatisfy(e -> assertThat(e.getFormattedMessage())
          .doesNotContain("WECHATPAY2-SHA256-RSA2048", "Authorization", "signature=", b.openid()));
    } finally {
      payLog.detachAppender(captured);
    }
  }

  /**
   * A user who paid twice for one item (two orders, e.g. a double tap) and got one of them fully refunded keeps the
   * item: the other payment still stands.
   */
  @Test
  void refundingOneOfTwoPaidOrdersKeepsTheItem() {
    TestStack.Merchant m = stack.newMerchant();
    String item = PayTest.item(m, "course", 300L, null);
    PayTest.Buyer b = PayTest.newBuyer();
    String first = PayTest.orderId(b, item);
    // Two payable orders for one item only arise when the first expired here (so a second was made) and WeChat Pay
    // still took the first payment: expire it on our side only.
    stack.sql("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
        io.vertx.sqlclient.Tuple.of(Long.parseLong(first)));
    String second = PayTest.orderId(b, item);
    PayTest.confirm(PayTest.outTradeNo(first), null);
    PayTest.confirm(PayTest.outTradeNo(second), null);
    PayTest.awaitStatus(first, "paid");
    PayTest.awaitStatus(second, "paid");
    Reply refund = stack.api.post("/api/v1/admin/orders/" + first + "/refund", m.owner(),
        new JsonObject().put("reason", "paid twice"));
    assertThat(refund.status()).as(refund.toString()).isEqualTo(202);
    PayTest.awaitStatus(first, "refunded");
    assertThat(PayTest.locked(b, item)).isFalse();
    assertThat(PayTest.grants(second)).isEqualTo(1);
    // Refunding the second one too takes it away.
    assertThat(stack.api.post("/api/v1/admin/orders/" + second + "/refund", m.owner(),
        new JsonObject().put("reason", "both back")).status()).isEqualTo(202);
    PayTest.awaitStatus(second, "refunded");
    assertThat(PayTest.locked(b, item)).isTrue();
  }
}
