package io.wxmp.server.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (the embedded PostgreSQL or Redis), to break the way to it as a
 * network or a stuck server would:
 * <ul>
 *   <li>{@link #pause()}: everything stalls, both ways, for old and new connections (the server stopped, a SIGSTOP, a
 *       full network buffer), until {@link #resume()} lets what was held through;</li>
 *   <li>{@link #stallOpenConnections()}: the connections open now go silent for good, new ones work (half-open
 *       connections after a failover or a NAT that forgot them);</li>
 *   <li>{@link #down()}: every connection is closed and new ones are closed at once (the server is down), until
 *       {@link #up()}.</li>
 * </ul>
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final Object gate = new Object();
  private volatile boolean paused;
  private volatile boolean down;

  private TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public static TcpProxy start(int targetPort) {
    try {
      return new TcpProxy(targetPort);
    } catch (IOException e) {
      throw new IllegalStateException("proxy did not start", e);
    }
  }

  public int port() {
    return server.getLocalPort();
  }

  public void pause() {
    paused = true;
  }

  public void resume() {
    synchronized (gate) {
      paused = false;
      gate.notifyAll();
    }
  }

  public void stallOpenConnections() {
    links.forEach(link -> link.stalled = true);
  }

  public void down() {
    down = true;
    links.forEach(Link::close);
  }

  public void up() {
    down = false;
  }

  /** Connections open through the proxy now. */
  public int openConnections() {
    return links.size();
  }

  @Override
  public void close() {
    down = true;
    resume();
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    links.forEach(Link::close);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      if (down) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        Link link = new Link(client, upstream);
        links.add(link);
        link.start();
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  /** One proxied connection: a pump each way. */
  private final class Link {
    final Socket client;
    final Socket upstream;
    volatile boolean stalled;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void start() throws IOException {
      pump(client.getInputStream(), upstream.getOutputStream(), "up");
      pump(upstream.getInputStream(), client.getOutputStream(), "down");
    }

    private void pump(InputStream in, OutputStream out, String way) {
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[16 * 1024];
        try {
          int n;
          while ((n = in.read(buffer)) >= 0) {
            hold();
            if (stalled) {
              continue; // silent for good: its bytes go nowhere, until one side closes
            }
            out.write(buffer, 0, n);
            out.flush();
          }
        } catch (IOException e) {
          // one side closed
        } finally {
          close();
        }
      }, "tcp-proxy-" + way);
      t.setDaemon(true);
      t.start();
    }

    private void hold() {
      synchronized (gate) {
        while (paused) {
          try {
            gate.wait(50);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }

    void close() {
      links.remove(this);
      closeQuietly(client);
      closeQuietly(upstream);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
