package io.wxmp.server.campaigns;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /admin/campaigns*} over HTTP against real PostgreSQL and Redis: validation naming each wrong field, the
 * status machine with its conditional moves, roles (analyst reads only) and merchant scoping (404).
 */
class CampaignAdminTest {
  static TestStack stack;
  static TestStack.Merchant merchant;
  static String item;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    merchant = stack.newMerchant();
    item = CampaignFixtures.publishedItem(stack, merchant, List.of("tea"));
  }

  static JsonObject body() {
    return CampaignFixtures.campaignBody(item, "cpm", 500, 10_000, 1_000);
  }

  @Test
  void createReadListAndEdit() {
    Reply created = stack.api.post("/api/v1/admin/campaigns", merchant.editor(), body()
        .put("targeting", new JsonObject().put("tags", new JsonArray().add("tea")).put("newUsersOnly", true))
        .put("frequencyCap", new JsonObject().put("impressions", 3).put("perHours", 24)));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    JsonObject c = created.json();
    assertThat(c.getString("id")).isNotBlank();
    assertThat(c.getString("itemId")).isEqualTo(item);
    assertThat(c.getString("status")).isEqualTo("draft");
    assertThat(c.getJsonObject("bid")).isEqualTo(new JsonObject().put("model", "cpm").put("amount", 500));
    assertThat(c.getJsonObject("budget")).isEqualTo(new JsonObject().put("total", 10_000).put("daily", 1_000));
    assertThat(c.getJsonObject("targeting").getJsonArray("tags")).containsExactly("tea");
    assertThat(c.getJsonObject("targeting").getBoolean("newUsersOnly")).isTrue();
    assertThat(c.getJsonObject("frequencyCap")).isEqualTo(new JsonObject().put("impressions", 3).put("perHours", 24));
    assertThat(c.getLong("spend")).isZero();

    String id = c.getString("id");
    Reply read = stack.api.get("/api/v1/admin/campaigns/" + id, merchant.analyst());
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.json()).isEqualTo(c);

    Reply edited = stack.api.patch("/api/v1/admin/campaigns/" + id, merchant.owner(), new JsonObject()
        .put("name", "Renamed").put("budget", new JsonObject().put("daily", 2_000)).putNull("frequencyCap"));
    assertThat(edited.status()).as(edited.toString()).isEqualTo(200);
    assertThat(edited.json().getString("name")).isEqualTo("Renamed");
    assertThat(edited.json().getJsonObject("budget")).isEqualTo(new JsonObject().put("total", 10_000).put("daily", 2_000));
    assertThat(edited.json().getValue("frequencyCap")).isNull();

    Reply list = stack.api.get("/api/v1/admin/campaigns?limit=50", merchant.analyst());
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id")))
        .contains(id);
    Reply drafts = stack.api.get("/api/v1/admin/campaigns?status=ended", merchant.analyst());
    assertThat(drafts.json().getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id")))
        .doesNotContain(id);
  }

  @Test
  void listPagesWithACursor() {
    TestStack.Merchant m = stack.newMerchant();
    String own = CampaignFixtures.publishedItem(stack, m, List.of());
    for (int i = 0; i < 3; i++) {
      assertThat(stack.api.post("/api/v1/admin/campaigns", m.owner(),
          CampaignFixtures.campaignBody(own, "cpc", 5, 1_000, 100)).status()).isEqualTo(201);
    }
    Reply first = stack.api.get("/api/v1/admin/campaigns?limit=2", m.owner());
    assertThat(first.json().getJsonArray("items")).hasSize(2);
    String cursor = first.json().getString("nextCursor");
    assertThat(cursor).isNotNull();
    Reply second = stack.api.get("/api/v1/admin/campaigns?limit=2&cursor=" + cursor, m.owner());
    assertThat(second.json().getJsonArray("items")).hasSize(1);
    assertThat(second.json().getValue("nextCursor")).isNull();
  }

  @Test
  void validationNamesEveryWrongField() {
    Reply r = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), new JsonObject()
        .put("name", "")
        .put("itemId", item)
        .put("bid", new JsonObject().put("model", "cpx").put("amount", 0))
        .put("budget", new JsonObject().put("total", 100).put("daily", -1))
        .put("frequencyCap", new JsonObject().put("impressions", 0)));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorCode()).isEqualTo("bad_request");
    JsonObject fields = r.json().getJsonObject("error").getJsonObject("fields");
    assertThat(fields.fieldNames()).contains("name", "bid.model", "bid.amount", "budget.daily",
        "frequencyCap.impressions", "frequencyCap.perHours");

    Reply dailyOverTotal = stack.api.post("/api/v1/admin/campaigns", merchant.owner(),
        CampaignFixtures.campaignBody(item, "cpm", 10, 1_000, 2_000));
    assertThat(dailyOverTotal.status()).isEqualTo(400);
    assertThat(dailyOverTotal.json().getJsonObject("error").getJsonObject("fields").fieldNames())
        .containsExactly("budget.daily");

    OffsetDateTime start = OffsetDateTime.now().plusDays(2);
    Reply endBeforeStart = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body()
        .put("startAt", start.toString()).put("endAt", start.minusHours(1).toString()));
    assertThat(endBeforeStart.status()).isEqualTo(400);
    assertThat(endBeforeStart.json().getJsonObject("error").getJsonObject("fields").fieldNames())
        .containsExactly("endAt");

    Reply noBid = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body().put("bid",
        new JsonObject().put("model", "cpm").put("amount", 0.5)));
    assertThat(noBid.status()).isEqualTo(400);
    assertThat(noBid.json().getJsonObject("error").getJsonObject("fields").fieldNames()).contains("bid.amount");

    Reply notJson = stack.api.postRaw("/api/v1/admin/campaigns", merchant.owner(),
        io.vertx.core.buffer.Buffer.buffer("{"), null);
    assertThat(notJson.status()).isEqualTo(400);
  }

  @Test
  void theItemMustBeTheMerchantsOwnAndPublished() {
    TestStack.Merchant other = stack.newMerchant();
    String foreign = CampaignFixtures.publishedItem(stack, other, List.of());
    Reply r = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body().put("itemId", foreign));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getJsonObject("error").getJsonObject("fields").fieldNames()).containsExactly("itemId");

    Reply draftItem = stack.api.post("/api/v1/admin/items", merchant.owner(), new JsonObject().put("kind", "article")
        .put("title", "Not yet").put("status", "draft"));
    Reply r2 = stack.api.post("/api/v1/admin/campaigns", merchant.owner(),
        body().put("itemId", draftItem.json().getString("id")));
    assertThat(r2.status()).isEqualTo(400);
    assertThat(r2.json().getJsonObject("error").getJsonObject("fields").fieldNames()).containsExactly("itemId");

    Reply missing = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body().put("itemId", "999999999"));
    assertThat(missing.status()).isEqualTo(400);
    // nothing was stored by any of these
    assertThat(stack.count("SELECT count(*) FROM campaigns WHERE item_id = $1 OR item_id = $2",
        io.vertx.sqlclient.Tuple.of(Long.parseLong(foreign), Long.parseLong(draftItem.json().getString("id")))))
        .isZero();
  }

  @Test
  void statusMovesDraftActivePausedEndedAndEndedIsFinal() {
    String id = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body()).json().getString("id");
    String path = "/api/v1/admin/campaigns/" + id;
    assertThat(status(path, "paused").status()).isEqualTo(409);
    assertThat(status(path, "active").json().getString("status")).isEqualTo("active");
    assertThat(status(path, "draft").status()).isEqualTo(409);
    assertThat(status(path, "paused").json().getString("status")).isEqualTo("paused");
    assertThat(status(path, "active").json().getString("status")).isEqualTo("active");
    assertThat(status(path, "ended").json().getString("status")).isEqualTo("ended");
    Reply again = status(path, "active");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("conflict");
    Reply rename = stack.api.patch(path, merchant.owner(), new JsonObject().put("name", "x"));
    assertThat(rename.status()).isEqualTo(409);
    assertThat(stack.api.get(path, merchant.owner()).json().getString("status")).isEqualTo("ended");
    Reply unknown = status(path, "running");
    assertThat(unknown.status()).isIn(400, 409);
  }

  @Test
  void concurrentMovesApplyOnce() throws Exception {
    String id = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body().put("status", "active"))
        .json().getString("id");
    String path = "/api/v1/admin/campaigns/" + id;
    List<Future<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      replies.add(stack.api.sendAsync(HttpMethod.PATCH, path, merchant.owner(),
          new JsonObject().put("status", i % 2 == 0 ? "paused" : "ended").toBuffer(), null));
    }
    Future.all(replies).await(30, TimeUnit.SECONDS);
    String finalStatus = stack.api.get(path, merchant.owner()).json().getString("status");
    long ok = replies.stream().filter(f -> f.result().status() == 200).count();
    assertThat(replies).allSatisfy(f -> assertThat(f.result().status()).isIn(200, 409));
    assertThat(ok).isGreaterThanOrEqualTo(1);
    // whatever won, no move went through from a state it was not allowed from: ended stays ended
    if (replies.stream().anyMatch(f -> f.result().status() == 200
        && "ended".equals(f.result().json().getString("status")))) {
      assertThat(finalStatus).isEqualTo("ended");
    }
  }

  @Test
  void analystsReadOnlyAndOtherMerchantsSeeNothing() {
    Reply analyst = stack.api.post("/api/v1/admin/campaigns", merchant.analyst(), body());
    assertThat(analyst.status()).isEqualTo(403);
    assertThat(analyst.errorCode()).isEqualTo("forbidden");
    String id = stack.api.post("/api/v1/admin/campaigns", merchant.owner(), body()).json().getString("id");
    Reply patch = stack.api.patch("/api/v1/admin/campaigns/" + id, merchant.analyst(),
        new JsonObject().put("name", "x"));
    assertThat(patch.status()).isEqualTo(403);

    TestStack.Merchant other = stack.newMerchant();
    assertThat(stack.api.get("/api/v1/admin/campaigns/" + id, other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, other.owner(), new JsonObject().put("name", "x"))
        .status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/campaigns/" + id + "/stats", other.owner()).status()).isEqualTo(404);
    assertThat(stack.api.get("/api/v1/admin/campaigns", other.owner()).json().getJsonArray("items")).isEmpty();
    assertThat(stack.api.get("/api/v1/admin/campaigns/" + id, stack.newUserToken()).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/admin/campaigns/abc", merchant.owner()).status()).isEqualTo(404);
  }

  private static Reply status(String path, String status) {
    return stack.api.patch(path, merchant.owner(), new JsonObject().put("status", status));
  }

  @Test
  void everyCampaignWriteIsAuditedForItsMerchant() {
    TestStack.Merchant shop = stack.newMerchant();
    String promoted = CampaignFixtures.publishedItem(stack, shop, List.of("tea"));
    io.vertx.core.MultiMap withId = io.vertx.core.MultiMap.caseInsensitiveMultiMap()
        .add("X-Request-Id", "campaign-audit-0001");
    Reply created = stack.api.send(HttpMethod.POST, "/api/v1/admin/campaigns", shop.editor(),
        CampaignFixtures.campaignBody(promoted, "cpc", 20, 5_000, 1_000).put("name", "Audited").toBuffer(), withId);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String id = created.json().getString("id");
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, shop.owner(), new JsonObject().put("name", "Audited 2")
        .put("budget", new JsonObject().put("daily", 2_000))).status()).isEqualTo(200);
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, shop.editor(),
        new JsonObject().put("status", "active")).status()).isEqualTo(200);
    // refused writes leave no entry: a bad body, an analyst, an impossible move
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, shop.editor(),
        new JsonObject().put("bid", new JsonObject().put("amount", 0))).status()).isEqualTo(400);
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, shop.analyst(),
        new JsonObject().put("name", "nope")).status()).isEqualTo(403);
    assertThat(stack.api.patch("/api/v1/admin/campaigns/" + id, shop.editor(),
        new JsonObject().put("status", "draft")).status()).isEqualTo(409);

    Reply log = stack.api.get("/api/v1/admin/audit?limit=50", shop.owner());
    assertThat(log.status()).as(log.toString()).isEqualTo(200);
    List<JsonObject> entries = new ArrayList<>();
    log.json().getJsonArray("items").forEach(e -> {
      JsonObject entry = (JsonObject) e;
      if (entry.getJsonObject("target").getString("type").equals("campaign")) {
        entries.add(entry);
      }
    });
    assertThat(entries).extracting(e -> e.getString("action"))
        .containsExactly("campaign.update", "campaign.update", "campaign.create"); // newest first
    JsonObject create = entries.get(2);
    assertThat(create.getString("requestId")).isEqualTo("campaign-audit-0001");
    assertThat(create.getJsonObject("account").getString("username")).isEqualTo(shop.prefix() + "-editor");
    assertThat(create.getJsonObject("target")).isEqualTo(new JsonObject().put("type", "campaign").put("id", id));
    assertThat(create.getJsonObject("changes").getJsonObject("name").getString("to")).isEqualTo("Audited");
    assertThat(create.getJsonObject("changes").getJsonObject("bid").getJsonObject("to"))
        .isEqualTo(new JsonObject().put("model", "cpc").put("amount", 20));
    JsonObject edit = entries.get(1);
    assertThat(edit.getJsonObject("account").getString("username")).isEqualTo(shop.prefix() + "-owner");
    assertThat(edit.getJsonObject("changes").fieldNames()).containsExactlyInAnyOrder("name", "budget");
    assertThat(edit.getJsonObject("changes").getJsonObject("name"))
        .isEqualTo(new JsonObject().put("from", "Audited").put("to", "Audited 2"));
    assertThat(entries.get(0).getJsonObject("changes").getJsonObject("status"))
        .isEqualTo(new JsonObject().put("from", "draft").put("to", "active"));

    // another merchant's owner sees none of it (its own items' ids may be the same numbers)
    Reply others = stack.api.get("/api/v1/admin/audit?limit=50", merchant.owner());
    assertThat(others.json().getJsonArray("items").stream()
        .map(e -> ((JsonObject) e).getJsonObject("target"))
        .filter(t -> t.getString("type").equals("campaign"))
        .map(t -> t.getString("id"))).doesNotContain(id);
  }
}
