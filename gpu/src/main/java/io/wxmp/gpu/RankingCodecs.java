package io.wxmp.gpu;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.wxmp.gpu.RankingMessages.LoadRequest;
import io.wxmp.gpu.RankingMessages.RemoveRequest;
import io.wxmp.gpu.RankingMessages.TopKReply;
import io.wxmp.gpu.RankingMessages.TopKRequest;
import io.wxmp.gpu.RankingMessages.UpsertRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Event-bus codecs for {@link RankingMessages}: locally the record itself is handed over (no JSON, no copy of the
 * vectors); across a clustered event bus a compact binary form.
 */
public final class RankingCodecs {
  private RankingCodecs() {}

  /** Registers the default codecs on this Vertx's event bus; calling it again is harmless. */
  public static void register(Vertx vertx) {
    EventBus eb = vertx.eventBus();
    register(eb, TopKRequest.class, (b, r) -> {
      str(b, r.collection());
      b.appendInt(r.k());
      floats(b, r.query());
      longs(b, r.exclude());
    }, w -> {
      String c = w.str();
      int k = w.i32();
      return new TopKRequest(c, w.floats(), k, w.longs());
    });
    register(eb, TopKReply.class, (b, r) -> {
      b.appendInt(r.items().size());
      for (ScoredId s : r.items()) {
        b.appendLong(s.id()).appendFloat(s.score());
      }
    }, w -> {
      int n = w.i32();
      List<ScoredId> items = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        items.add(new ScoredId(w.i64(), w.f32()));
      }
      return new TopKReply(items);
    });
    register(eb, UpsertRequest.class, (b, r) -> {
      str(b, r.collection());
      b.appendLong(r.id());
      floats(b, r.vector());
    }, w -> new UpsertRequest(w.str(), w.i64(), w.floats()));
    register(eb, RemoveRequest.class, (b, r) -> {
      str(b, r.collection());
      b.appendLong(r.id());
    }, w -> new RemoveRequest(w.str(), w.i64()));
    register(eb, LoadRequest.class, (b, r) -> {
      str(b, r.collection());
      longs(b, r.ids());
      b.appendInt(r.vectors().length);
      for (float[] v : r.vectors()) {
        floats(b, v);
      }
    }, w -> {
      String c = w.str();
      long[] ids = w.longs();
      float[][] vs = new float[w.i32()][];
      for (int i = 0; i < vs.length; i++) {
        vs[i] = w.floats();
      }
      return new LoadRequest(c, ids, vs);
    });
  }

  private static <T> void register(EventBus eb, Class<T> type, BiConsumer<Buffer, T> write, Function<Reader, T> read) {
    try {
      eb.registerDefaultCodec(type, new Codec<>("wxmp." + type.getSimpleName(), write, read));
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle or client on this Vertx registered it first
    }
  }

  private static final class Codec<T> implements MessageCodec<T, T> {
    private final String name;
    private final BiConsumer<Buffer, T> write;
    private final Function<Reader, T> read;

    Codec(String name, BiConsumer<Buffer, T> write, Function<Reader, T> read) {
      this.name = name;
      this.write = write;
      this.read = read;
    }

    @Override
    public void encodeToWire(Buffer buffer, T value) {
      write.accept(buffer, value);
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      return read.apply(new Reader(buffer, pos));
    }

    @Override
    public T transform(T value) {
      return value; // records of arrays the sender no longer touches (RankingClient copies them)
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }

  private static void str(Buffer b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length).appendBytes(bytes);
  }

  private static void floats(Buffer b, float[] v) {
    b.appendInt(v.length);
    for (float x : v) {
      b.appendFloat(x);
    }
  }

  private static void longs(Buffer b, long[] v) {
    b.appendInt(v == null ? 0 : v.length);
    if (v != null) {
      for (long x : v) {
        b.appendLong(x);
      }
    }
  }

  private static final class Reader {
    private final Buffer b;
    private int pos;

    Reader(Buffer b, int pos) {
      this.b = b;
      this.pos = pos;
    }

    int i32() {
      int v = b.getInt(pos);
      pos += 4;
      return v;
    }

    long i64() {
      long v = b.getLong(pos);
      pos += 8;
      return v;
    }

    float f32() {
      float v = b.getFloat(pos);
      pos += 4;
      return v;
    }

    String str() {
      int n = i32();
      String s = b.getString(pos, pos + n, "UTF-8");
      pos += n;
      return s;
    }

    float[] floats() {
      float[] v = new float[i32()];
      for (int i = 0; i < v.length; i++) {
        v[i] = f32();
      }
      return v;
    }

    long[] longs() {
      long[] v = new long[i32()];
      for (int i = 0; i < v.length; i++) {
        v[i] = i64();
      }
      return v;
    }
  }
}
