package io.wxmp.gpu;

import java.util.Arrays;

/** Open-addressing long → int map (linear probing, backward-shift delete): no boxing for a million ids. */
final class LongIntMap {
  private static final int FREE = -1;
  private long[] keys;
  private int[] values;
  private int mask;
  private int size;

  LongIntMap(int expected) {
    int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
    keys = new long[cap];
    values = new int[cap];
    Arrays.fill(values, FREE);
    mask = cap - 1;
  }

  private static int hash(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return (int) k;
  }

  int size() {
    return size;
  }

  /** The value for key, or -1. */
  int get(long key) {
    for (int i = hash(key) & mask; ; i = (i + 1) & mask) {
      if (values[i] == FREE) {
        return -1;
      }
      if (keys[i] == key) {
        return values[i];
      }
    }
  }

  void put(long key, int value) {
    if ((size + 1) * 4L > keys.length * 3L) {
      grow();
    }
    for (int i = hash(key) & mask; ; i = (i + 1) & mask) {
      if (values[i] == FREE) {
        keys[i] = key;
        values[i] = value;
        size++;
        return;
      }
      if (keys[i] == key) {
        values[i] = value;
        return;
      }
    }
  }

  /** Removes key; returns its value or -1. */
  int remove(long key) {
    int i = hash(key) & mask;
    while (true) {
      if (values[i] == FREE) {
        return -1;
      }
      if (keys[i] == key) {
        break;
      }
      i = (i + 1) & mask;
    }
    int old = values[i];
    size--;
    // Backward-shift: move later entries of the probe run into the hole so lookups never stop early.
    int hole = i;
    for (int j = (hole + 1) & mask; values[j] != FREE; j = (j + 1) & mask) {
      int home = hash(keys[j]) & mask;
      boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = FREE;
    return old;
  }

  void clear() {
    Arrays.fill(values, FREE);
    size = 0;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new int[oldKeys.length * 2];
    Arrays.fill(values, FREE);
    mask = keys.length - 1;
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != FREE) {
        put(oldKeys[i], oldValues[i]);
      }
    }
  }
}
