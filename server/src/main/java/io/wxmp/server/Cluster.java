package io.wxmp.server;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Arrays;
import java.util.List;

/**
 * What a process runs ({@code WXMP_ROLE}) and how it finds the others ({@code WXMP_CLUSTER_*}): Vert.x's clustered
 * event bus with the Hazelcast cluster manager, members found by TCP-IP (a list of addresses) or multicast. Role
 * {@code both} (the default) needs no cluster; {@code api} and {@code ranking} need {@code WXMP_CLUSTER=hazelcast}.
 */
final class Cluster {
  /** What a process runs: HTTP and the feed's pages, the ranking verticle, or both in one process. */
  enum Role {
    API, RANKING, BOTH;

    boolean http() {
      return this != RANKING;
    }

    boolean ranking() {
      return this != API;
    }

    static Role of(Settings settings) {
      String value = settings.required("WXMP_ROLE");
      return switch (value) {
        case "api" -> API;
        case "ranking" -> RANKING;
        case "both" -> BOTH;
        default -> throw new Settings.ConfigException("WXMP_ROLE: '" + value + "' is not api, ranking or both");
      };
    }
  }

  private Cluster() {}

  /** Whether {@code WXMP_CLUSTER} turns the clustered event bus on; api and ranking nodes need it. */
  static boolean enabled(Settings settings, Role role) {
    String value = settings.required("WXMP_CLUSTER");
    boolean on = switch (value) {
      case "hazelcast" -> true;
      case "none" -> false;
      default -> throw new Settings.ConfigException("WXMP_CLUSTER: '" + value + "' is not none or hazelcast");
    };
    if (!on && role != Role.BOTH) {
      throw new Settings.ConfigException("WXMP_ROLE=" + role.name().toLowerCase()
          + " needs WXMP_CLUSTER=hazelcast (API and ranking nodes talk over the clustered event bus)");
    }
    return on;
  }

  /** A clustered Vert.x when the settings ask for one, else a plain one. */
  static Future<Vertx> build(VertxOptions options, VertxMetricsFactory metrics, Settings settings, Role role) {
    if (!enabled(settings, role)) {
      return Future.succeededFuture(Vertx.builder().with(options).withMetrics(metrics).build());
    }
    String host = settings.string("WXMP_CLUSTER_HOST");
    // the event bus's own TCP server: where the other members send this node's messages
    options.getEventBusOptions().setPort(settings.integer("WXMP_CLUSTER_BUS_PORT", 0, 65535));
    if (host != null) {
      options.getEventBusOptions().setHost(host).setClusterPublicHost(host);
    }
    return Vertx.builder().with(options).withMetrics(metrics)
        .withClusterManager(new HazelcastClusterManager(hazelcast(settings))).buildClustered();
  }

  /** Vert.x's default Hazelcast configuration (its maps and multimaps) with the network from the settings. */
  static Config hazelcast(Settings settings) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(settings.required("WXMP_CLUSTER_NAME"));
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // A member that stops answering (killed, partitioned) leaves the cluster, and the event bus stops picking it,
    // after this many seconds (Hazelcast's own default is 60).
    int failure = settings.integer("WXMP_CLUSTER_FAILURE_SEC", 2, 600);
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(failure));
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(settings.integer("WXMP_CLUSTER_PORT", 1, 65535)).setPortAutoIncrement(false);
    String host = settings.string("WXMP_CLUSTER_HOST");
    if (host != null) {
      network.setPublicAddress(host);
      network.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
      config.setProperty("hazelcast.socket.bind.any", "false");
    }
    JoinConfig join = network.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    String how = settings.required("WXMP_CLUSTER_JOIN");
    switch (how) {
      case "tcp" -> {
        String members = settings.required("WXMP_CLUSTER_MEMBERS");
        join.getMulticastConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(Arrays.stream(members.split(","))
            .map(String::trim).filter(m -> !m.isEmpty()).toList());
      }
      case "multicast" -> {
        join.getTcpIpConfig().setEnabled(false);
        join.getMulticastConfig().setEnabled(true);
        String group = settings.string("WXMP_CLUSTER_MULTICAST_GROUP");
        if (group != null) {
          join.getMulticastConfig().setMulticastGroup(group);
        }
      }
      default -> throw new Settings.ConfigException("WXMP_CLUSTER_JOIN: '" + how + "' is not tcp or multicast");
    }
    return config;
  }
}
