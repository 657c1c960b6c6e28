package io.wxmp.handlers.events;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The items an event may name, with their tags, cached briefly (Caffeine) so that a batch usually needs no lookup
 * before its insert: the hot items of a feed repeat across every user's batches. Only known items are cached; an
 * unknown id is asked again each time (it may be published meanwhile). An item made a draft again is still
 * accepted for at most {@link #TTL}.
 */
final class KnownItems {
  static final Duration TTL = Duration.ofSeconds(30);
  private final Vertx vertx;
  private final AsyncLoadingCache<Long, List<String>> cache;

  KnownItems(Vertx vertx, EventRepository repository) {
    this.vertx = vertx;
    this.cache = Caffeine.newBuilder()
        .maximumSize(200_000)
        .expireAfterWrite(TTL)
        .executor(Runnable::run) // the loads are non-blocking futures: no thread hop
        .buildAsync(new com.github.benmanes.caffeine.cache.AsyncCacheLoader<>() {
          @Override
          public java.util.concurrent.CompletableFuture<List<String>> asyncLoad(Long id,
              java.util.concurrent.Executor executor) {
            return repository.itemTags(Set.of(id)).map(found -> found.get(id))
                .toCompletionStage().toCompletableFuture();
          }

          @Override
          public java.util.concurrent.CompletableFuture<Map<Long, List<String>>> asyncLoadAll(
              Set<? extends Long> ids, java.util.concurrent.Executor executor) {
            return repository.itemTags(Set.copyOf(ids)).toCompletionStage().toCompletableFuture();
          }
        });
  }

  /**
   * The server's own copy of the published items (the feed's catalogue): the tags of an item in it, else null. An
   * item there needs no lookup; the others (not published now, or not yet in the copy) are looked up as before.
   */
  private volatile java.util.function.LongFunction<List<String>> published = id -> null;

  void usePublished(java.util.function.LongFunction<List<String>> source) {
    this.published = source;
  }

  /** The tags of each known item among {@code ids}; unknown ids are absent. */
  Future<Map<Long, List<String>>> tags(Set<Long> ids) {
    java.util.function.LongFunction<List<String>> local = published;
    Map<Long, List<String>> found = new java.util.HashMap<>();
    Set<Long> rest = new java.util.HashSet<>();
    for (Long id : ids) {
      List<String> tags = local.apply(id);
      if (tags != null) {
        found.put(id, tags);
      } else {
        rest.add(id);
      }
    }
    if (rest.isEmpty()) {
      return Future.succeededFuture(found);
    }
    return Future.fromCompletionStage(cache.getAll(rest), vertx.getOrCreateContext()).map(looked -> {
      found.putAll(looked);
      return found;
    });
  }
}
