package io.wxmp.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A merchant's notify endpoint for tests: records every request raw and answers with planned statuses (204 after). */
final class NotifyReceiver {
  record Received(String path, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue)
          .findFirst().orElse(null);
    }
  }

  /** A planned "status" that leaves the request unanswered. */
  static final int NO_ANSWER = -1;

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, Queue<Integer>> plans = new ConcurrentHashMap<>();
  private HttpServer server;

  NotifyReceiver start(Vertx vertx) throws Exception {
    server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      request.headers().forEach(e -> headers.put(e.getKey(), e.getValue()));
      received.add(new Received(request.path(), headers, body.toString()));
      Queue<Integer> plan = plans.get(request.path());
      Integer status = plan == null ? null : plan.poll();
      if (status == null || status != NO_ANSWER) {
        request.response().setStatusCode(status == null ? 204 : status).end();
      }
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return this;
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  /** The next requests to this path get these statuses, in order; later ones get 204. */
  void answer(String path, Integer... statuses) {
    plans.put(path, new ConcurrentLinkedQueue<>(List.of(statuses)));
  }

  List<Received> at(String path) {
    return received.stream().filter(r -> r.path().equals(path)).toList();
  }
}
