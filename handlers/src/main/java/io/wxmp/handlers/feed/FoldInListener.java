package io.wxmp.handlers.feed;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.events.OnlineState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Re-solves a user's vector after their events (the iALS user step against the serving model's item vectors, from
 * their online history) and stores it, so the very next page ranks with it. Impressions alone change nothing.
 */
public final class FoldInListener implements EventListener {
  static final int BECAUSE_OF = 20;

  private final ModelServing serving;
  private final OnlineState online;
  private final UserVectors vectors;
  private final Timer solve;

  public FoldInListener(ModelServing serving, OnlineState online, UserVectors vectors, MeterRegistry metrics) {
    this.serving = serving;
    this.online = online;
    this.vectors = vectors;
    this.solve = Timer.builder("wxmp.feed.foldin")
        .description("re-solving one user's vector after their events (the iALS user step, CPU time on the event loop)")
        .publishPercentiles(0.5, 0.99).register(metrics);
  }

  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events) {
    return onAccepted(userId, events, null);
  }

  /** While a model serves: the events feature reads the history with the batch's own script. */
  @Override
  public boolean wantsHistory() {
    return serving.current() != null;
  }

  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events, OnlineState.History history) {
    ServingModel m = serving.current();
    if (m == null || events.stream().allMatch(e -> "impression".equals(e.type()))) {
      return Future.succeededFuture();
    }
    return (history != null ? Future.succeededFuture(history) : online.history(userId)).compose(h -> {
      long t0 = System.nanoTime();
      float[] v = h.itemIds().isEmpty() ? null : m.foldIn(h.itemIds(), h.strengths());
      if (v != null) {
        solve.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
      }
      return v == null ? vectors.forget(userId)
          : vectors.put(userId, new UserVectors.Stored(m.version(), v, strongest(h)));
    });
  }

  /** The history's items, strongest first (ties: newest first), at most {@link #BECAUSE_OF}. */
  static List<String> strongest(OnlineState.History h) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < h.itemIds().size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.comparingDouble((Integer i) -> -h.strengths()[i]).thenComparingInt(i -> i));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < Math.min(BECAUSE_OF, order.size()); i++) {
      out.add(h.itemIds().get(order.get(i)));
    }
    return out;
  }
}
