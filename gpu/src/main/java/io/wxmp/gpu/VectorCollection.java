package io.wxmp.gpu;

import java.util.Arrays;
import java.util.BitSet;
import java.util.function.IntConsumer;

/**
 * One named pool of vectors (for example {@code items} or {@code ads}) keyed by item id, in fp32 or fp16.
 *
 * <p>Rows are stored in blocks of {@link #BLOCK_ROWS}: element (row, d) lives at
 * {@code (row / 16) * 16 * dim + d * 16 + row % 16}. With that layout the CPU scores 16 rows per vector instruction
 * without horizontal sums, and a CUDA warp reads 16 neighbouring floats per step (coalesced). Upsert writes one row;
 * remove moves the last row into the hole; growth doubles the capacity and keeps every row where it was.
 *
 * <p>Not thread-safe: the ranking verticle mutates and scores it from one thread at a time.
 */
public final class VectorCollection {
  /** Rows per storage block. */
  public static final int BLOCK_ROWS = 16;
  /** Capacity granularity: scorers work in tiles of 64 rows. */
  static final int ROW_ALIGN = 64;

  private final String name;
  private final int dim;
  private final boolean fp16;
  private float[] f32;
  private short[] f16;
  private long[] ids;
  private int size;
  private int capacity;
  private final LongIntMap rowOf;

  // What changed since a device mirror last synchronised (see drainDirtyBlocks).
  private long generation;
  private final BitSet dirtyMark = new BitSet();
  private int[] dirtyBlocks = new int[64];
  private int dirtyCount;
  private boolean allDirty = true;

  public VectorCollection(String name, int dim, boolean fp16) {
    if (dim < 1 || dim > 4096) {
      throw new IllegalArgumentException("dim must be in 1..4096, got " + dim);
    }
    this.name = name;
    this.dim = dim;
    this.fp16 = fp16;
    this.rowOf = new LongIntMap(ROW_ALIGN);
    allocate(ROW_ALIGN);
  }

  public String name() {
    return name;
  }

  public int dim() {
    return dim;
  }

  public boolean fp16() {
    return fp16;
  }

  /** Number of rows (items). */
  public int size() {
    return size;
  }

  /** Allocated rows; always a multiple of 64, rows past {@link #size()} are zero. */
  public int capacity() {
    return capacity;
  }

  public boolean contains(long id) {
    return rowOf.get(id) >= 0;
  }

  /** The stored vector of id (after fp16 rounding when fp16), or null. */
  public float[] get(long id) {
    int row = rowOf.get(id);
    if (row < 0) {
      return null;
    }
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      int i = index(row, d, dim);
      out[d] = fp16 ? Half.toFloat(f16[i]) : f32[i];
    }
    return out;
  }

  /** Inserts or replaces the vector of id. */
  public void upsert(long id, float[] vector) {
    checkVector(vector);
    int row = rowOf.get(id);
    if (row < 0) {
      if (size == capacity) {
        grow(capacity * 2);
      }
      row = size++;
      rowOf.put(id, row);
      ids[row] = id;
    }
    writeRow(row, vector);
    markDirty(row);
  }

  /** Removes id; returns whether it was present. The last row moves into its place. */
  public boolean remove(long id) {
    int row = rowOf.remove(id);
    if (row < 0) {
      return false;
    }
    int last = --size;
    if (row != last) {
      long movedId = ids[last];
      for (int d = 0; d < dim; d++) {
        int to = index(row, d, dim);
        int from = index(last, d, dim);
        if (fp16) {
          f16[to] = f16[from];
        } else {
          f32[to] = f32[from];
        }
      }
      ids[row] = movedId;
      rowOf.put(movedId, row);
      markDirty(row);
    }
    clearRow(last);
    ids[last] = 0;
    markDirty(last);
    return true;
  }

  /** Replaces the whole collection (start-up load). Later duplicates of an id win. */
  public void load(long[] newIds, float[][] vectors) {
    if (newIds.length != vectors.length) {
      throw new IllegalArgumentException("ids and vectors differ in length: " + newIds.length + " vs " + vectors.length);
    }
    for (float[] v : vectors) {
      checkVector(v);
    }
    rowOf.clear();
    size = 0;
    allocate(align(Math.max(newIds.length, 1)));
    for (int i = 0; i < newIds.length; i++) {
      int row = rowOf.get(newIds[i]);
      if (row < 0) {
        row = size++;
        rowOf.put(newIds[i], row);
        ids[row] = newIds[i];
      }
      writeRow(row, vectors[i]);
    }
  }

  // ---- for the scorers (same package) ----

  static int index(int row, int d, int dim) {
    return (row >>> 4) * (BLOCK_ROWS * dim) + d * BLOCK_ROWS + (row & 15);
  }

  float[] f32() {
    return f32;
  }

  short[] f16() {
    return f16;
  }

  long[] ids() {
    return ids;
  }

  /** The rows' stored values (after fp16 rounding when fp16), row-major: size × dim. */
  float[] rowMajor() {
    float[] out = new float[size * dim];
    for (int row = 0; row < size; row++) {
      for (int d = 0; d < dim; d++) {
        int i = index(row, d, dim);
        out[row * dim + d] = fp16 ? Half.toFloat(f16[i]) : f32[i];
      }
    }
    return out;
  }

  /** Changes when the arrays are reallocated: a device mirror must then upload everything. */
  long generation() {
    return generation;
  }

  /**
   * Hands each 16-row block changed since the last call to sink and forgets them. Returns false, handing nothing,
   * when so much changed (or the arrays were replaced) that the caller should upload the whole matrix.
   */
  boolean drainDirtyBlocks(IntConsumer sink) {
    boolean partial = !allDirty;
    if (partial) {
      for (int i = 0; i < dirtyCount; i++) {
        sink.accept(dirtyBlocks[i]);
      }
    }
    allDirty = false;
    dirtyCount = 0;
    dirtyMark.clear();
    return partial;
  }

  // ---- internals ----

  private static int align(int rows) {
    return (rows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
  }

  private void allocate(int rows) {
    long elements = (long) rows * dim;
    if (elements > Integer.MAX_VALUE - 64) {
      throw new IllegalStateException("collection " + name + " too large: " + rows + " rows of dim " + dim);
    }
    capacity = rows;
    f32 = fp16 ? null : new float[(int) elements];
    f16 = fp16 ? new short[(int) elements] : null;
    ids = new long[rows];
    generation++;
    allDirty = true;
    dirtyCount = 0;
    dirtyMark.clear();
  }

  private void grow(int rows) {
    long elements = (long) rows * dim;
    if (elements > Integer.MAX_VALUE - 64) {
      throw new IllegalStateException("collection " + name + " too large: " + rows + " rows of dim " + dim);
    }
    // Blocks are laid out in row order, so a longer copy keeps every row in place.
    if (fp16) {
      f16 = Arrays.copyOf(f16, (int) elements);
    } else {
      f32 = Arrays.copyOf(f32, (int) elements);
    }
    ids = Arrays.copyOf(ids, rows);
    capacity = rows;
    generation++;
    allDirty = true;
  }

  private void checkVector(float[] v) {
    if (v == null || v.length != dim) {
      throw new IllegalArgumentException(
          "collection " + name + " has dim " + dim + ", got a vector of length " + (v == null ? "null" : v.length));
    }
    for (float x : v) {
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException("vector has a non-finite component");
      }
    }
  }

  private void writeRow(int row, float[] v) {
    for (int d = 0; d < dim; d++) {
      int i = index(row, d, dim);
      if (fp16) {
        f16[i] = Half.fromFloat(v[d]);
      } else {
        f32[i] = v[d];
      }
    }
  }

  private void clearRow(int row) {
    for (int d = 0; d < dim; d++) {
      int i = index(row, d, dim);
      if (fp16) {
        f16[i] = 0;
      } else {
        f32[i] = 0f;
      }
    }
  }

  private void markDirty(int row) {
    if (allDirty) {
      return;
    }
    int block = row >>> 4;
    if (dirtyMark.get(block)) {
      return;
    }
    if (dirtyCount >= Math.max(64, capacity / BLOCK_ROWS / 8)) {
      allDirty = true; // cheaper to upload everything than many small copies
      dirtyCount = 0;
      dirtyMark.clear();
      return;
    }
    dirtyMark.set(block);
    if (dirtyCount == dirtyBlocks.length) {
      dirtyBlocks = Arrays.copyOf(dirtyBlocks, dirtyCount * 2);
    }
    dirtyBlocks[dirtyCount++] = block;
  }
}
