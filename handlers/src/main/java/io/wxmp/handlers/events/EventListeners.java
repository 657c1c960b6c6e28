package io.wxmp.handlers.events;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@link EventListener} of the server (the feed's fold-in, the campaigns' billing), called together once a
 * batch is committed, with its new events only. A listener that fails, throws or takes longer than the budget is
 * logged and skipped: the events are stored, so the request still succeeds. Features register with {@link #add}
 * while the server is built.
 */
public final class EventListeners implements EventListener {
  private static final Logger log = LoggerFactory.getLogger(EventListeners.class);
  private final List<EventListener> listeners = new CopyOnWriteArrayList<>();
  private final long budgetMs;

  /** @param budgetMs how long the request waits for the listeners before answering anyway */
  public EventListeners(long budgetMs) {
    this.budgetMs = budgetMs;
  }

  public EventListeners add(EventListener listener) {
    listeners.add(listener);
    return this;
  }

  /** Completes when every listener is done or given up on; never fails. */
  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events) {
    return onAccepted(userId, events, null);
  }

  @Override
  public boolean wantsHistory() {
    for (EventListener listener : listeners) {
      if (listener.wantsHistory()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events, OnlineState.History history) {
    if (events.isEmpty() || listeners.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Future<Void>> calls = new ArrayList<>(listeners.size());
    for (EventListener listener : listeners) {
      Future<Void> call;
      try {
        call = listener.onAccepted(userId, events, history);
      } catch (RuntimeException e) {
        call = Future.failedFuture(e);
      }
      if (call == null) {
        call = Future.succeededFuture();
      }
      calls.add(call.timeout(budgetMs, TimeUnit.MILLISECONDS).recover(failure -> {
        log.warn("event listener {} failed for {} events of user {}: {}", listener.getClass().getName(),
            events.size(), userId, failure.toString());
        return Future.succeededFuture();
      }));
    }
    return Future.join(calls).mapEmpty();
  }
}
