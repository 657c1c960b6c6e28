package io.wxmp.handlers.items;

import io.vertx.core.Future;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ContentSecurity;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.UserPrincipal;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Item rules: merchants see and change only their own items, every write audited; a cover uploaded here must be the
 * merchant's own image; what is published passes WeChat content security first; users read published items of active merchants, locked unless owned.
 */
public final class ItemService {
  private final ItemRepository items;
  private final ContentSecurity content;
  private final Covers covers;
  private final CatalogueGeneration catalogue;

  public ItemService(ItemRepository items, ContentSecurity content, Covers covers, CatalogueGeneration catalogue) {
    this.items = items;
    this.content = content;
    this.covers = covers;
    this.catalogue = catalogue;
  }

  public Future<Item> create(MerchantPrincipal m, Audit.Who who, Item item) {
    m.requireWriter();
    return covers.mayUse(m.merchantId(), null, item.coverUrl())
        .compose(v -> checkContent(null, item))
        .compose(v -> items.insert(m.merchantId(), item, who));
  }

  /**
   * Published text goes through content security: on publishing, every text; on editing a published item, the texts
   * that changed. Drafts are not checked (they are checked when published).
   */
  private Future<Void> checkContent(Item before, Item after) {
    if (!"published".equals(after.status())) {
      return Future.succeededFuture();
    }
    boolean all = before == null || !"published".equals(before.status());
    java.util.Map<String, String> texts = new java.util.LinkedHashMap<>();
    if (all || !java.util.Objects.equals(before.title(), after.title())) {
      texts.put("title", after.title());
    }
    if (all || !java.util.Objects.equals(before.summary(), after.summary())) {
      texts.put("summary", after.summary());
    }
    if (all || !java.util.Objects.equals(before.body(), after.body())) {
      texts.put("body", after.body());
    }
    if (all || !java.util.Objects.equals(before.preview(), after.preview())) {
      texts.put("preview", after.preview());
    }
    return content.check(texts);
  }

  public Future<Item> get(MerchantPrincipal m, long id) {
    return items.byIdForMerchant(id, m.merchantId()).map(ItemService::found);
  }

  public Future<List<Item>> list(MerchantPrincipal m, String status, Long beforeId, int limit) {
    return items.list(m.merchantId(), status, beforeId, limit);
  }

  /**
   * Applies {@code change} to the current item (validation included) and stores the result. An item that leaves
   * {@code published} is a catalogue write ({@link CatalogueGeneration}) from before the update until after the
   * commit, so no feed page serves it from then on.
   */
  public Future<Item> update(MerchantPrincipal m, Audit.Who who, long id, java.util.function.Function<Item, Item> change) {
    m.requireWriter();
    AtomicBoolean withdrawing = new AtomicBoolean();
    return items.update(m.merchantId(), id, current -> {
      Item updated = change.apply(current);
      Future<Void> held = "published".equals(current.status()) && !"published".equals(updated.status())
          && withdrawing.compareAndSet(false, true) ? catalogue.beginWrite() : Future.succeededFuture();
      return held.compose(v -> covers.mayUse(m.merchantId(), current.coverUrl(), updated.coverUrl()))
          .compose(v -> checkContent(current, updated)).map(updated);
    }, who).eventually(() -> withdrawing.get() ? catalogue.endWrite() : Future.succeededFuture())
        .map(ItemService::found);
  }

  /** Archives the item: a catalogue write (see {@link #update}). */
  public Future<Void> archive(MerchantPrincipal m, Audit.Who who, long id) {
    m.requireWriter();
    return catalogue.around(() -> items.archive(id, m.merchantId(), who)).map(done -> {
      if (!done) {
        throw ApiException.notFound();
      }
      return null;
    });
  }

  /**
   * An item as a user sees it: published ones, and ones the user bought even after they were archived; nothing of a
   * suspended merchant. A membership
   * opens what its merchant publishes, never a draft or an archived item the member did not buy.
   */
  public Future<UserView> forUser(UserPrincipal user, long id) {
    return items.byIdForUsers(id).map(ItemService::found).compose(item -> "published".equals(item.status())
        ? items.owns(user.userId(), item).map(owned -> new UserView(item, owned))
        : items.entitled(user.userId(), item.id()).map(entitled -> {
          if (!entitled) {
            throw ApiException.notFound();
          }
          return new UserView(item, true);
        }));
  }

  public record UserView(Item item, boolean owned) {}

  private static Item found(Item item) {
    if (item == null) {
      throw ApiException.notFound();
    }
    return item;
  }
}
