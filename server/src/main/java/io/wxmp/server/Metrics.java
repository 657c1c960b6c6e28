package io.wxmp.server;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The Prometheus registry behind {@code /metrics} (on the management port): the Vert.x meters (HTTP server, pools,
 * SQL and Redis clients), the features' own, and the JVM and process meters.
 *
 * <p>A scrape stays small whatever the traffic: no distribution publishes client-side percentiles or Micrometer's
 * default percentile histogram (276 buckets per series for a byte-size summary, 70 for a timer). The HTTP server's
 * response time keeps a few fixed buckets per method and route (enough for a latency SLO and an approximate p99 on
 * the Prometheus side); every other distribution is count, sum and max. See {@link #labels} for the labels dropped. The {@code route} label is normalised: Vert.x Web joins every
 * matched route's path with {@code >}, so a request that passed the pre-handlers and sub-routers mounted on
 * {@code /api/v1/*} was labelled {@code /api/v1/>/api/v1/>/api/v1/>/me>/me}; it is now the most specific route that
 * matched, as a full path ({@code /api/v1/me}, {@code /api/v1/quizzes/:id}).
 */
final class Metrics {
  /** The HTTP server's response-time buckets, in seconds (and +Inf). */
  static final double[] RESPONSE_TIME_BUCKETS = {0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1};
  private static final String API_MOUNT = ApiRouter.API + "/";

  private Metrics() {}

  /** The registry and the JVM binder that must be closed with the server (it listens to GC notifications). */
  record Registry(PrometheusMeterRegistry prometheus, JvmGcMetrics gc) implements AutoCloseable {
    @Override
    public void close() {
      gc.close();
    }
  }

  static Registry create() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Filters first: they apply to meters registered after them.
    registry.config()
        .meterFilter(MeterFilter.replaceTagValues("route", Metrics::route))
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return labels(id);
          }
        })
        .meterFilter(new MeterFilter() {
          @Override
          public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
            return distribution(id.getName()).merge(config);
          }
        });
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return new Registry(registry, gc);
  }

  /**
   * Fewer labels where they multiply series without telling more: the response-time histogram is per method and
   * route (the status codes per route are in {@code vertx_http_server_requests_total}); request and response sizes
   * are per method (and status code), not per route.
   */
  static Meter.Id labels(Meter.Id id) {
    return switch (id.getName()) {
      case "vertx.http.server.response.time" -> only(id, "method", "route");
      case "vertx.http.server.response.bytes" -> only(id, "method", "code");
      case "vertx.http.server.request.bytes" -> only(id, "method");
      default -> id;
    };
  }

  private static Meter.Id only(Meter.Id id, String... keys) {
    List<Tag> kept = new ArrayList<>();
    for (Tag tag : id.getTagsAsIterable()) {
      for (String key : keys) {
        if (tag.getKey().equals(key)) {
          kept.add(tag);
        }
      }
    }
    return id.replaceTags(kept);
  }

  /** Overrides what the meter asked for: a percentile histogram or client-side percentiles are never published. */
  static DistributionStatisticConfig distribution(String meterName) {
    DistributionStatisticConfig.Builder b = DistributionStatisticConfig.builder()
        .percentilesHistogram(false)
        .percentiles(new double[0])
        .serviceLevelObjectives(new double[0]);
    if (meterName.equals("vertx.http.server.response.time")) {
      double[] nanos = new double[RESPONSE_TIME_BUCKETS.length];
      for (int i = 0; i < nanos.length; i++) {
        nanos[i] = RESPONSE_TIME_BUCKETS[i] * 1e9; // a timer's distribution is configured in nanoseconds
      }
      b.serviceLevelObjectives(nanos);
    } else if (meterName.equals("wxmp.feed.foldin")) {
      // the fold-in budget is 1 ms: buckets around it (bench/feed.sh reads its p50/p99 from them)
      double[] ms = {0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10};
      double[] nanos = new double[ms.length];
      for (int i = 0; i < ms.length; i++) {
        nanos[i] = ms[i] * 1e6;
      }
      b.serviceLevelObjectives(nanos);
    } else if (meterName.equals("wxmp.ranking.batch.size")) {
      b.serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096);
    }
    return b.build();
  }

  /**
   * The route label: the last matched route that is not the {@code /api/v1/*} mount itself, made a full path (a
   * sub-router's routes are relative to the mount). A request under {@code /api/v1} that no feature route matched
   * (a 404, or an answer from a gate in front of the sub-routers) is {@code /api/v1/*}; one outside any route is
   * {@code ""}, as before. The label is always a route template, never the request's own path.
   */
  static String route(String raw) {
    if (raw == null || raw.isEmpty() || raw.indexOf('>') < 0 && !raw.equals(API_MOUNT)) {
      return raw;
    }
    String last = null;
    int start = 0;
    while (start <= raw.length()) {
      int end = raw.indexOf('>', start);
      if (end < 0) {
        end = raw.length();
      }
      String part = raw.substring(start, end);
      if (!part.isEmpty() && !part.equals(API_MOUNT)) {
        last = part;
      }
      start = end + 1;
    }
    boolean underApi = raw.startsWith(API_MOUNT);
    if (last == null) {
      return underApi ? ApiRouter.API + "/*" : raw;
    }
    if (underApi && !last.startsWith(ApiRouter.API)) {
      return ApiRouter.API + last;
    }
    return last;
  }
}
