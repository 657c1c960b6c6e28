package io.wxmp.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StorageTest {

  @Test
  void halfRoundTripsEveryValueAndMatchesTheJdkWhereItHasOne() throws Exception {
    Method jdkToHalf = null;
    try {
      jdkToHalf = Float.class.getMethod("floatToFloat16", float.class); // JDK 20+
    } catch (NoSuchMethodException absent) {
      System.out.println("Float.floatToFloat16 absent on this JDK: checking round trips only");
    }
    for (int h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
        continue; // NaN payloads
      }
      float f = Half.toFloat((short) h);
      assertThat(Half.fromFloat(f)).as("half %04x", h).isEqualTo((short) h);
    }
    Random rnd = new Random(5);
    for (int i = 0; i < 200_000; i++) {
      float f = Float.intBitsToFloat(rnd.nextInt());
      if (Float.isNaN(f)) {
        continue;
      }
      if (jdkToHalf != null) {
        assertThat(Half.fromFloat(f)).as("float %s", f).isEqualTo((short) jdkToHalf.invoke(null, f));
      }
      float g = (float) rnd.nextGaussian() * 0.2f;
      assertThat(Math.abs(Half.toFloat(Half.fromFloat(g)) - g)).isLessThanOrEqualTo(Math.abs(g) / 2048 + 1e-7f);
    }
  }

  @Test
  void halfVectorConversionMatchesTheScalarOne() {
    short[] all = new short[0x10000];
    for (int h = 0; h < all.length; h++) {
      all[h] = (short) ((h & 0x7c00) == 0x7c00 ? 0 : h);
    }
    for (int i = 0; i < all.length; i += CpuScorer.L) {
      float[] lanes = CpuScorer.half(all, i).toArray();
      for (int j = 0; j < lanes.length; j++) {
        assertThat(Float.floatToRawIntBits(lanes[j])).isEqualTo(Float.floatToRawIntBits(Half.toFloat(all[i + j])));
      }
    }
  }

  @Test
  void longIntMapAgreesWithHashMap() {
    LongIntMap map = new LongIntMap(4);
    Map<Long, Integer> ref = new HashMap<>();
    Random rnd = new Random(6);
    for (int i = 0; i < 200_000; i++) {
      long key = rnd.nextInt(5000) * 0x9E3779B97F4A7C15L;
      switch (rnd.nextInt(3)) {
        case 0 -> {
          map.put(key, i);
          ref.put(key, i);
        }
        case 1 -> assertThat(map.remove(key)).isEqualTo(ref.containsKey(key) ? ref.remove(key) : -1);
        default -> assertThat(map.get(key)).isEqualTo(ref.getOrDefault(key, -1));
      }
      assertThat(map.size()).isEqualTo(ref.size());
    }
  }

  @Test
  void dirtyBlocksTrackSingleRowChanges() {
    VectorCollection c = new VectorCollection("items", 32, false);
    float[] v = new float[32];
    for (int i = 0; i < 100; i++) {
      c.upsert(i, v);
    }
    assertThat(c.drainDirtyBlocks(b -> { })).isFalse(); // first sync: everything
    c.upsert(40, v);
    c.remove(3); // row 99 moves to row 3
    java.util.List<Integer> blocks = new java.util.ArrayList<>();
    assertThat(c.drainDirtyBlocks(blocks::add)).isTrue();
    assertThat(blocks).containsExactlyInAnyOrder(2, 0, 6);
  }
}
