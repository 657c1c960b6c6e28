package io.wxmp.handlers.common;

import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;

/**
 * The address a request came from, as the per-address limits count it. The peer's address, unless the peer is one of
 * the configured reverse proxies ({@code WXMP_HTTP_TRUSTED_PROXIES}): then the nearest {@code X-Forwarded-For} entry
 * that is not a trusted proxy. A client that is not a trusted proxy cannot choose its address with that header. IPv6
 * addresses count by their /64 (one subscriber's allocation), so a client cannot walk its own prefix.
 */
public final class ClientAddresses {
  private final Set<String> trustedProxies;

  public ClientAddresses(Set<String> trustedProxies) {
    this.trustedProxies = Set.copyOf(trustedProxies);
  }

  public String of(RoutingContext ctx) {
    SocketAddress peer = ctx.request().connection() == null ? null : ctx.request().connection().remoteAddress();
    String address = peer == null || peer.hostAddress() == null ? "unknown" : peer.hostAddress();
    if (trustedProxies.contains(address)) {
      String forwarded = String.join(",", ctx.request().headers().getAll("X-Forwarded-For"));
      String[] hops = forwarded.split(",");
      for (int i = hops.length - 1; i >= 0; i--) {
        String hop = hops[i].strip();
        if (hop.isEmpty() || trustedProxies.contains(hop)) {
          continue;
        }
        address = isLiteral(hop) ? hop : address;
        break;
      }
    }
    return normalise(address);
  }

  private static boolean isLiteral(String hop) {
    return hop.matches("[0-9.]{7,15}") || (hop.indexOf(':') >= 0 && hop.matches("[0-9A-Fa-f:.]{2,45}"));
  }

  static String normalise(String address) {
    if (address.indexOf(':') < 0) {
      return address;
    }
    try {
      byte[] bytes = InetAddress.getByName(address).getAddress(); // a literal: no name lookup
      if (bytes.length != 16) {
        return InetAddress.getByAddress(bytes).getHostAddress();
      }
      StringBuilder prefix = new StringBuilder();
      for (int i = 0; i < 8; i += 2) {
        prefix.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
      }
      return prefix.append(":/64").toString();
    } catch (UnknownHostException e) {
      return address;
    }
  }
}
