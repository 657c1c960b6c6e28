package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a catalogue copy and a serving model current: on a timer, and at once when a server of the cluster announces a
 * trained or a loaded version ({@link ModelServing#MODEL_TRAINED}, {@link ModelServing#MODEL_LOADED}). One refresh
 * at a time; one asked for while another runs follows it.
 */
final class ServingRefresh {
  private static final Logger log = LoggerFactory.getLogger(ServingRefresh.class);

  private final Vertx vertx;
  private final Catalogue catalogue;
  private final ModelServing serving;
  private final List<MessageConsumer<String>> consumers = new ArrayList<>();
  private long timer = -1;
  private Future<Void> running;
  private boolean again;

  ServingRefresh(Vertx vertx, Catalogue catalogue, ModelServing serving) {
    this.vertx = vertx;
    this.catalogue = catalogue;
    this.serving = serving;
  }

  /** The first refresh (its failure fails the start when {@code mustSucceed}), then the timer and the announcements. */
  Future<Void> start(long everyMs, boolean mustSucceed) {
    Future<Void> first = mustSucceed ? once() : refresh();
    return first.compose(v -> {
      timer = vertx.setPeriodic(everyMs, t -> refresh());
      List<Future<Void>> registered = new ArrayList<>();
      for (String address : List.of(ModelServing.MODEL_TRAINED, ModelServing.MODEL_LOADED)) {
        MessageConsumer<String> c = vertx.eventBus().consumer(address, m -> refresh());
        consumers.add(c);
        registered.add(c.completion());
      }
      return Future.all(registered).mapEmpty();
    });
  }

  void stop() {
    vertx.cancelTimer(timer);
    consumers.forEach(MessageConsumer::unregister);
  }

  /** Refreshes the catalogue copy, loads a newer model if there is one, and applies catalogue changes; never fails. */
  synchronized Future<Void> refresh() {
    if (running != null) {
      again = true;
      return running;
    }
    Promise<Void> done = Promise.promise();
    running = done.future();
    once().onComplete(result -> {
      if (result.failed()) {
        log.warn("feed refresh failed: {}", result.cause().toString());
      }
      boolean next;
      synchronized (this) {
        running = null;
        next = again;
        again = false;
      }
      if (next) {
        refresh().onComplete(done);
      } else {
        done.complete();
      }
    });
    return done.future();
  }

  private Future<Void> once() {
    return catalogue.refresh()
        .compose(changed -> serving.loadNewest().compose(swapped -> changed || swapped
            ? serving.reconcile() : Future.succeededFuture()));
  }
}
