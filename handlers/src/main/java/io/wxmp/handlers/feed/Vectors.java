package io.wxmp.handlers.feed;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Vectors as stored in PostgreSQL and Redis: float32 little-endian, 4 bytes per component; and a little math. */
final class Vectors {
  private Vectors() {}

  static byte[] encode(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  static byte[] encode(float[] matrix, int row, int dim) {
    ByteBuffer b = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int d = 0; d < dim; d++) {
      b.putFloat(matrix[row * dim + d]);
    }
    return b.array();
  }

  static float[] decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[bytes.length / 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getFloat();
    }
    return v;
  }

  static float[] decode(Buffer buffer) {
    return decode(buffer.getBytes());
  }

  static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static float norm(float[] a) {
    return (float) Math.sqrt(dot(a, a));
  }

  static float cosine(float[] a, float[] b) {
    float n = norm(a) * norm(b);
    return n == 0 ? 0 : dot(a, b) / n;
  }
}
