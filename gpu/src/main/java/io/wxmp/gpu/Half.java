package io.wxmp.gpu;

/**
 * IEEE 754 binary16 conversions. Java 17 has no {@code Float.floatToFloat16}, so this is the plain bit arithmetic
 * (round to nearest even), identical to what the CUDA kernels read with {@code __half2float}.
 */
public final class Half {
  private Half() {}

  /** float → half bits, round to nearest even, overflow to infinity. */
  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) { // inf or NaN
      return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
    }
    if (abs >= 0x477ff000) { // rounds to >= 65520: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below the smallest normal half: subnormal or zero
      if (abs < 0x33000000) { // below half of the smallest subnormal
        return (short) sign;
      }
      int exp = abs >>> 23;
      int mant = (abs & 0x7fffff) | 0x800000;
      int shift = 126 - exp; // 14..24
      int h = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rem > halfway || (rem == halfway && (h & 1) != 0)) {
        h++;
      }
      return (short) (sign | h);
    }
    int h = ((abs - 0x38000000) >>> 13);
    int rem = abs & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
      h++;
    }
    return (short) (sign | h);
  }

  /** half bits → float (exact). */
  public static float toFloat(short h) {
    int x = h & 0xffff;
    int sign = (x & 0x8000) << 16;
    int em = x & 0x7fff;
    if (em >= 0x7c00) {
      return Float.intBitsToFloat(sign | 0x7f800000 | ((em & 0x3ff) << 13));
    }
    // Scaling by 2^112 re-biases the exponent and turns half subnormals into float normals exactly.
    float mag = Float.intBitsToFloat(em << 13) * 0x1p112f;
    return Float.intBitsToFloat(Float.floatToRawIntBits(mag) | sign);
  }
}
