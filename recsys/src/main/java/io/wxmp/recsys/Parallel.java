package io.wxmp.recsys;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of worker threads that run independent tasks 0..n-1. Each task writes only its own outputs, so results
 * never depend on which thread ran which task.
 */
final class Parallel implements AutoCloseable {
  interface Body {
    void run(int task, Linalg.Scratch scratch);
  }

  private final int threads;
  private final int dim;
  private final ExecutorService executor;

  Parallel(int threads, int dim) {
    this.threads = threads;
    this.dim = dim;
    AtomicInteger id = new AtomicInteger();
    this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "recsys-ials-" + id.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  void forEach(int tasks, Body body) {
    if (executor == null || tasks <= 1) {
      Linalg.Scratch s = new Linalg.Scratch(dim);
      for (int t = 0; t < tasks; t++) {
        body.run(t, s);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < Math.min(threads, tasks); w++) {
      futures.add(executor.submit(() -> {
        Linalg.Scratch s = new Linalg.Scratch(dim);
        for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
          body.run(t, s);
        }
      }));
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(x -> x.cancel(true));
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        futures.forEach(x -> x.cancel(true));
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException(c);
      }
    }
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
