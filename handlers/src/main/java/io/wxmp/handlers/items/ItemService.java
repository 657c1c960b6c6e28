package io.wxmp.handlers.items;

import io.vertx.core.Future;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.UserPrincipal;
import java.util.List;

/** Item rules: merchants see and change only their own items; users read published items, locked unless owned. */
public final class ItemService {
  private final ItemRepository items;

  public ItemService(ItemRepository items) {
    this.items = items;
  }

  public Future<Item> create(MerchantPrincipal m, Item item) {
    m.requireWriter();
    return items.insert(m.merchantId(), item);
  }

  public Future<Item> get(MerchantPrincipal m, long id) {
    return items.byIdForMerchant(id, m.merchantId()).map(ItemService::found);
  }

  public Future<List<Item>> list(MerchantPrincipal m, String status, Long beforeId, int limit) {
    return items.list(m.merchantId(), status, beforeId, limit);
  }

  /** Applies {@code change} to the current item (validation included) and stores the result. */
  public Future<Item> update(MerchantPrincipal m, long id, java.util.function.Function<Item, Item> change) {
    m.requireWriter();
    return items.byIdForMerchant(id, m.merchantId()).map(ItemService::found).map(change)
        .compose(updated -> items.update(m.merchantId(), updated)).map(ItemService::found);
  }

  public Future<Void> archive(MerchantPrincipal m, long id) {
    m.requireWriter();
    return items.archive(id, m.merchantId()).map(done -> {
      if (!done) {
        throw ApiException.notFound();
      }
      return null;
    });
  }

  /**
   * An item as a user sees it: published ones, and ones the user bought even after they were archived. A membership
   * opens what its merchant publishes, never a draft or an archived item the member did not buy.
   */
  public Future<UserView> forUser(UserPrincipal user, long id) {
    return items.byId(id).map(ItemService::found).compose(item -> "published".equals(item.status())
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
