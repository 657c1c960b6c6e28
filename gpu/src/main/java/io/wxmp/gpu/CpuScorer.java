package io.wxmp.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scores on the CPU with the JDK Vector API. Rows are scored in tiles of 64; each tile is read once per batch and
 * scored against eight queries at a time, then four, then one (so a batch of 32 reads the matrix once, not 32 times,
 * and each row vector loaded feeds eight FMAs); top-k is a primitive
 * bounded heap per query; large collections are split in chunks that the calling thread and a few persistent
 * worker threads claim in turn (a spin-then-park hand-off, no executor). Calls are serialised.
 */
public final class CpuScorer implements Scorer {
  /** Float lanes per vector: the machine's preferred shape, at most 16 (one storage block). */
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() > VectorCollection.BLOCK_ROWS
      ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();
  /** Same lane count, for fp16 rows stored as half bits. */
  static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
  static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

  private static final int TILE = VectorCollection.ROW_ALIGN;
  /** Below this many rows × queries the thread hand-off costs more than it saves. */
  private static final long PARALLEL_MIN_WORK = 1L << 16;

  /** Tiles per chunk that a thread claims at a time for a single query (1,024 rows); fewer (down to 2) per query. */
  private static final int CHUNK_TILE_WORK = 16;
  /** How long an idle worker, or a caller waiting for the last chunk, spins before it parks. */
  private static final long SPIN_NANOS = 50_000;

  private final int threads;
  private final Worker[] workers;
  /** The calling thread's heaps and buffers, reused from call to call (calls are serialised). */
  private final Scratch own = new Scratch();
  private float[] queryBuffer = new float[0];
  /** The queries of each group of eight, dimension-major: the eight values of dimension d are adjacent. */
  private float[] octetBuffer = new float[0];

  /** Uses every available core. */
  public CpuScorer() {
    this(Runtime.getRuntime().availableProcessors());
  }

  public CpuScorer(int threads) {
    this.threads = Math.max(1, threads);
    this.workers = new Worker[this.threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker("wxmp-cpu-scorer-" + (i + 1));
      workers[i].start();
    }
  }

  @Override
  public String backend() {
    return "cpu";
  }

  @Override
  public synchronized List<List<ScoredId>> topK(VectorCollection c, float[][] queries, int k, long[][] excludes) {
    Scorer.checkArguments(c, queries, k, excludes);
    int batch = queries.length;
    int dim = c.dim();
    if (queryBuffer.length < batch * dim) {
      queryBuffer = new float[batch * dim];
    }
    float[] q = queryBuffer;
    long[][] ex = new long[batch][];
    for (int i = 0; i < batch; i++) {
      System.arraycopy(queries[i], 0, q, i * dim, dim);
      ex[i] = TopKHeap.sortedCopy(excludes == null ? null : excludes[i]);
    }
    int octets = batch & ~7;
    if (octetBuffer.length < octets * dim) {
      octetBuffer = new float[octets * dim];
    }
    float[] q8 = octetBuffer;
    for (int b = 0; b < octets; b++) {
      int base = (b & ~7) * dim + (b & 7);
      for (int d = 0; d < dim; d++) {
        q8[base + d * 8] = q[b * dim + d];
      }
    }
    int tiles = (c.size() + TILE - 1) / TILE;
    int chunkTiles = Math.max(2, CHUNK_TILE_WORK / batch);
    ScanJob job = new ScanJob(c, q, q8, batch, k, ex, tiles, chunkTiles);
    boolean parallel = (long) c.size() * batch >= PARALLEL_MIN_WORK;
    run(job, parallel);
    // Merge the heaps of every thread that scored at least one chunk.
    TopKHeap[] base = null;
    List<List<ScoredId>> out = new ArrayList<>(batch);
    for (int p = 0; p <= workers.length; p++) {
      Scratch s = p == 0 ? own : workers[p - 1].scratch;
      if (s.job != job) {
        continue;
      }
      if (base == null) {
        base = s.heaps;
      } else {
        for (int b = 0; b < batch; b++) {
          base[b].mergeFrom(s.heaps[b]);
        }
      }
    }
    for (int b = 0; b < batch; b++) {
      out.add(base == null ? new ArrayList<>() : base[b].sorted());
    }
    return out;
  }

  /**
   * Reads the whole matrix once with the same threads (and the same hand-off as {@link #topK}) and returns a sum
   * over it: the memory-bandwidth floor that a batch-1 query is compared with in the benchmarks.
   */
  public synchronized double streamSum(VectorCollection c) {
    int tiles = (c.size() + TILE - 1) / TILE;
    SumJob job = new SumJob(c, tiles, CHUNK_TILE_WORK);
    run(job, true);
    double total = 0;
    for (int p = 0; p <= workers.length; p++) {
      Scratch s = p == 0 ? own : workers[p - 1].scratch;
      if (s.job == job) {
        total += s.sum;
      }
    }
    return total;
  }

  /** Runs job on this thread and, when parallel, offers it to the workers; returns when every chunk is done. */
  private void run(Job job, boolean parallel) {
    if (parallel && job.chunks > 1) {
      for (Worker w : workers) {
        w.job = job;
        LockSupport.unpark(w);
      }
    }
    job.work(own);
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    while (job.done.get() < job.chunks) {
      if (System.nanoTime() < spinUntil) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(job, 100_000); // a worker unparks us when it finishes the last chunk
      }
    }
    Throwable failure = job.failure;
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  /** A thread's reusable heaps and buffers; its contents belong to {@link #job}. */
  private static final class Scratch {
    /** The job this scratch last scored a chunk of. */
    Job job;
    TopKHeap[] heaps = new TopKHeap[0];
    float[] th = new float[0];
    /** A tile of scores per query, or the hit buffer of scanRest: one L-float slot per strip of a chunk. */
    float[] scores = new float[CHUNK_TILE_WORK * TILE];
    int[] hitRows = new int[CHUNK_TILE_WORK * TILE / L];
    double sum;

    void prepare(int batch, int k, long[][] ex) {
      if (heaps.length < batch) {
        heaps = Arrays.copyOf(heaps, batch);
        th = new float[batch];
        scores = new float[Math.max(batch, CHUNK_TILE_WORK) * TILE];
      }
      for (int b = 0; b < batch; b++) {
        TopKHeap h = heaps[b];
        heaps[b] = h == null || h.capacity() < k ? new TopKHeap(k, ex[b]) : h.reset(k, ex[b]);
        th[b] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * One call's work in chunks that the caller and the workers claim in turn, so a worker that wakes late (or a core
   * that another process holds) only takes fewer chunks instead of holding up the call.
   */
  private abstract static class Job {
    final int chunks;
    final Thread caller = Thread.currentThread();
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(int chunks) {
      this.chunks = chunks;
    }

    /** Called once per thread before its first chunk of this job. */
    abstract void begin(Scratch s);

    abstract void chunk(Scratch s, int i);

    /** Claims and runs chunks until none is left. */
    final void work(Scratch s) {
      int i = next.getAndIncrement();
      if (i >= chunks) {
        return;
      }
      s.job = this;
      boolean ready = false;
      for (; i < chunks; i = next.getAndIncrement()) {
        try {
          if (!ready) {
            begin(s);
            ready = true;
          }
          chunk(s, i);
        } catch (Throwable t) {
          if (failure == null) {
            failure = t;
          }
        }
        if (done.incrementAndGet() == chunks && Thread.currentThread() != caller) {
          LockSupport.unpark(caller);
        }
      }
    }
  }

  private static final class ScanJob extends Job {
    private final VectorCollection c;
    private final float[] q;
    private final float[] q8;
    private final int batch;
    private final int k;
    private final long[][] ex;
    private final int tiles;
    private final int chunkTiles;

    ScanJob(VectorCollection c, float[] q, float[] q8, int batch, int k, long[][] ex, int tiles, int chunkTiles) {
      super((tiles + chunkTiles - 1) / chunkTiles);
      this.c = c;
      this.q = q;
      this.q8 = q8;
      this.batch = batch;
      this.k = k;
      this.ex = ex;
      this.tiles = tiles;
      this.chunkTiles = chunkTiles;
    }

    @Override
    void begin(Scratch s) {
      s.prepare(batch, k, ex);
    }

    @Override
    void chunk(Scratch s, int i) {
      int from = i * chunkTiles;
      scan(c, q, q8, batch, from, Math.min(tiles, from + chunkTiles), s.heaps, s.th, s.scores, s.hitRows);
    }
  }

  private static final class SumJob extends Job {
    private final VectorCollection c;
    private final int tiles;
    private final int chunkTiles;

    SumJob(VectorCollection c, int tiles, int chunkTiles) {
      super((tiles + chunkTiles - 1) / chunkTiles);
      this.c = c;
      this.tiles = tiles;
      this.chunkTiles = chunkTiles;
    }

    @Override
    void begin(Scratch s) {
      s.sum = 0;
    }

    @Override
    void chunk(Scratch s, int i) {
      int perTile = TILE * c.dim();
      int from = i * chunkTiles;
      s.sum += sumRange(c, from * perTile, Math.min(tiles, from + chunkTiles) * perTile);
    }
  }

  /** A persistent scoring thread: spins briefly after each job for the next one, then parks until handed one. */
  private static final class Worker extends Thread {
    final Scratch scratch = new Scratch();
    volatile Job job;
    volatile boolean stopped;

    Worker(String name) {
      super(name);
      setDaemon(true);
    }

    @Override
    public void run() {
      Job last = null;
      while (!stopped) {
        Job j = job;
        if (j != last) {
          last = j;
          j.work(scratch);
          continue;
        }
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (job == last && !stopped && System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        }
        if (job == last && !stopped) {
          LockSupport.park(this);
        }
      }
    }
  }

  private static double sumRange(VectorCollection c, int from, int to) {
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    if (c.fp16()) {
      short[] m = c.f16();
      for (int i = from; i < to; i += 4 * L) {
        a0 = a0.add(half(m, i));
        a1 = a1.add(half(m, i + L));
        a2 = a2.add(half(m, i + 2 * L));
        a3 = a3.add(half(m, i + 3 * L));
      }
    } else {
      float[] m = c.f32();
      for (int i = from; i < to; i += 4 * L) {
        a0 = a0.add(FloatVector.fromArray(F, m, i));
        a1 = a1.add(FloatVector.fromArray(F, m, i + L));
        a2 = a2.add(FloatVector.fromArray(F, m, i + 2 * L));
        a3 = a3.add(FloatVector.fromArray(F, m, i + 3 * L));
      }
    }
    return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
  }

  /** Scores tiles [fromTile, toTile) and keeps per query the k best in heaps (th: their thresholds). */
  private static void scan(VectorCollection c, float[] q, float[] q8, int batch, int fromTile, int toTile,
      TopKHeap[] heaps, float[] th, float[] scores, int[] hitRows) {
    int dim = c.dim();
    int size = c.size();
    long[] ids = c.ids();
    boolean half = c.fp16();
    float[] m32 = c.f32();
    short[] m16 = c.f16();
    int octets = batch & ~7;
    int quads = batch & ~3;
    for (int t = fromTile; t < toTile; t++) {
      int row0 = t * TILE;
      int rows = Math.min(TILE, size - row0);
      // Two strips of rows stay in L1 while every query octet (then the quad left, if any) passes over them.
      for (int s = 0; s < TILE; s += 2 * L) {
        for (int b = 0; b < octets; b += 8) {
          int hits = half ? score8x2Half(m16, dim, row0 + s, q8, b, scores, s, th)
              : score8x2(m32, dim, row0 + s, q8, b, scores, s, th);
          while (hits != 0) {
            int bit = Integer.numberOfTrailingZeros(hits);
            hits &= hits - 1;
            int qb = b + (bit >>> 1);
            int r = s + (bit & 1) * L;
            offer(heaps[qb], th, qb, scores, qb * TILE + r, ids, row0 + r, rows - r);
          }
        }
        for (int b = octets; b < quads; b += 4) {
          int hits = half ? score4x2Half(m16, dim, row0 + s, q, b, scores, s, th)
              : score4x2(m32, dim, row0 + s, q, b, scores, s, th);
          // Bit 2i+j: query b+i has a score in strip j at or above its threshold (rare once the heaps are full).
          while (hits != 0) {
            int bit = Integer.numberOfTrailingZeros(hits);
            hits &= hits - 1;
            int qb = b + (bit >>> 1);
            int r = s + (bit & 1) * L;
            offer(heaps[qb], th, qb, scores, qb * TILE + r, ids, row0 + r, rows - r);
          }
        }
      }
    }
    // The other queries one strip (one 16-row block) at a time: blocks in memory order, so a single query reads the
    // matrix as one linear stream (which the hardware prefetchers follow best) with one FMA chain.
    if (quads < batch) {
      if (half) {
        scanRestHalf(m16, dim, size, ids, q, quads, batch, fromTile, toTile, heaps, th, scores, hitRows);
      } else {
        scanRest(m32, dim, size, ids, q, quads, batch, fromTile, toTile, heaps, th, scores, hitRows);
      }
    }
  }

  /**
   * Queries [from, batch) over tiles [fromTile, toTile), strip by strip. The kernel loop makes no call (HotSpot
   * compiles a loop with a call in it, even one rarely taken, 1.3-1.5x slower here): a strip with a candidate is
   * copied to the hit buffer (hitRows, one 16-float slot each in scores), and the buffered strips are offered after
   * the loop. The threshold then lags by at most one chunk (at most 1,024 rows, so the buffer cannot overflow).
   */
  private static void scanRest(float[] m, int dim, int size, long[] ids, float[] q, int from, int batch,
      int fromTile, int toTile, TopKHeap[] heaps, float[] th, float[] scores, int[] hitRows) {
    for (int b = from; b < batch; b++) {
      int q0 = b * dim;
      FloatVector t = FloatVector.broadcast(F, th[b]);
      int hits = 0;
      for (int row = fromTile * TILE, end = toTile * TILE; row < end; row += L) {
        int p = strip(row, dim);
        FloatVector a = FloatVector.zero(F);
        for (int d = 0; d < dim; d++) {
          FloatVector w = FloatVector.broadcast(F, q[q0 + d]);
          a = FloatVector.fromArray(F, m, p + d * VectorCollection.BLOCK_ROWS).fma(w, a);
        }
        if (a.compare(VectorOperators.GE, t).anyTrue()) {
          a.intoArray(scores, hits * L);
          hitRows[hits++] = row;
        }
      }
      for (int h = 0; h < hits; h++) {
        offer(heaps[b], th, b, scores, h * L, ids, hitRows[h], size - hitRows[h]);
      }
    }
  }

  private static void scanRestHalf(short[] m, int dim, int size, long[] ids, float[] q, int from, int batch,
      int fromTile, int toTile, TopKHeap[] heaps, float[] th, float[] scores, int[] hitRows) {
    for (int b = from; b < batch; b++) {
      int q0 = b * dim;
      FloatVector t = FloatVector.broadcast(F, th[b]);
      int hits = 0;
      for (int row = fromTile * TILE, end = toTile * TILE; row < end; row += L) {
        int p = strip(row, dim);
        FloatVector a = FloatVector.zero(F);
        for (int d = 0; d < dim; d++) {
          a = half(m, p + d * VectorCollection.BLOCK_ROWS).fma(FloatVector.broadcast(F, q[q0 + d]), a);
        }
        if (a.compare(VectorOperators.GE, t).anyTrue()) {
          a.intoArray(scores, hits * L);
          hitRows[hits++] = row;
        }
      }
      for (int h = 0; h < hits; h++) {
        offer(heaps[b], th, b, scores, h * L, ids, hitRows[h], size - hitRows[h]);
      }
    }
  }

  /** Offers the scores of one strip (at most n of its L rows are real) that reach the query's threshold. */
  private static void offer(TopKHeap h, float[] th, int qb, float[] scores, int o, long[] ids, int row, int n) {
    float t = th[qb];
    for (int i = 0, end = Math.min(L, n); i < end; i++) {
      float sc = scores[o + i];
      if (sc >= t) {
        h.offer(sc, ids[row + i]);
        t = h.threshold();
      }
    }
    th[qb] = t;
  }

  /** Offset of the L-row strip that starts at row (row is a multiple of L). */
  private static int strip(int row, int dim) {
    return (row >>> 4) * (VectorCollection.BLOCK_ROWS * dim) + (row & 15);
  }

  // Four queries × two strips of L rows: eight independent FMA chains, each loaded row vector used four times.
  private static int score4x2(float[] m, int dim, int row, float[] q, int b, float[] out, int s, float[] th) {
    int p0 = strip(row, dim), p1 = strip(row + L, dim);
    int q0 = b * dim, q1 = q0 + dim, q2 = q1 + dim, q3 = q2 + dim;
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (int d = 0; d < dim; d++) {
      int off = d * VectorCollection.BLOCK_ROWS;
      FloatVector v0 = FloatVector.fromArray(F, m, p0 + off);
      FloatVector v1 = FloatVector.fromArray(F, m, p1 + off);
      FloatVector w = FloatVector.broadcast(F, q[q0 + d]);
      a00 = v0.fma(w, a00);
      a01 = v1.fma(w, a01);
      w = FloatVector.broadcast(F, q[q1 + d]);
      a10 = v0.fma(w, a10);
      a11 = v1.fma(w, a11);
      w = FloatVector.broadcast(F, q[q2 + d]);
      a20 = v0.fma(w, a20);
      a21 = v1.fma(w, a21);
      w = FloatVector.broadcast(F, q[q3 + d]);
      a30 = v0.fma(w, a30);
      a31 = v1.fma(w, a31);
    }
    int o = b * TILE + s;
    a00.intoArray(out, o);
    a01.intoArray(out, o + L);
    a10.intoArray(out, o + TILE);
    a11.intoArray(out, o + TILE + L);
    a20.intoArray(out, o + 2 * TILE);
    a21.intoArray(out, o + 2 * TILE + L);
    a30.intoArray(out, o + 3 * TILE);
    a31.intoArray(out, o + 3 * TILE + L);
    return hits4x2(a00, a01, a10, a11, a20, a21, a30, a31, th, b);
  }

  // Eight queries × two strips of L rows: sixteen independent FMA chains (16 accumulators, 2 row vectors and a
  // broadcast fit in the 32 vector registers), each loaded row vector used eight times. q8 holds the octet's query
  // values dimension-major, so the eight broadcasts of a dimension read adjacent floats off one index.
  private static int score8x2(float[] m, int dim, int row, float[] q8, int b, float[] out, int s, float[] th) {
    int p0 = strip(row, dim), p1 = strip(row + L, dim);
    int qo = b * dim;
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    FloatVector a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
    for (int d = 0; d < dim; d++) {
      int off = d * VectorCollection.BLOCK_ROWS;
      int qd = qo + d * 8;
      FloatVector v0 = FloatVector.fromArray(F, m, p0 + off);
      FloatVector v1 = FloatVector.fromArray(F, m, p1 + off);
      FloatVector w = FloatVector.broadcast(F, q8[qd]);
      a00 = v0.fma(w, a00);
      a01 = v1.fma(w, a01);
      w = FloatVector.broadcast(F, q8[qd + 1]);
      a10 = v0.fma(w, a10);
      a11 = v1.fma(w, a11);
      w = FloatVector.broadcast(F, q8[qd + 2]);
      a20 = v0.fma(w, a20);
      a21 = v1.fma(w, a21);
      w = FloatVector.broadcast(F, q8[qd + 3]);
      a30 = v0.fma(w, a30);
      a31 = v1.fma(w, a31);
      w = FloatVector.broadcast(F, q8[qd + 4]);
      a40 = v0.fma(w, a40);
      a41 = v1.fma(w, a41);
      w = FloatVector.broadcast(F, q8[qd + 5]);
      a50 = v0.fma(w, a50);
      a51 = v1.fma(w, a51);
      w = FloatVector.broadcast(F, q8[qd + 6]);
      a60 = v0.fma(w, a60);
      a61 = v1.fma(w, a61);
      w = FloatVector.broadcast(F, q8[qd + 7]);
      a70 = v0.fma(w, a70);
      a71 = v1.fma(w, a71);
    }
    int o = b * TILE + s;
    a00.intoArray(out, o);
    a01.intoArray(out, o + L);
    a10.intoArray(out, o + TILE);
    a11.intoArray(out, o + TILE + L);
    a20.intoArray(out, o + 2 * TILE);
    a21.intoArray(out, o + 2 * TILE + L);
    a30.intoArray(out, o + 3 * TILE);
    a31.intoArray(out, o + 3 * TILE + L);
    a40.intoArray(out, o + 4 * TILE);
    a41.intoArray(out, o + 4 * TILE + L);
    a50.intoArray(out, o + 5 * TILE);
    a51.intoArray(out, o + 5 * TILE + L);
    a60.intoArray(out, o + 6 * TILE);
    a61.intoArray(out, o + 6 * TILE + L);
    a70.intoArray(out, o + 7 * TILE);
    a71.intoArray(out, o + 7 * TILE + L);
    return hits8x2(out, o, th, b);
  }

  private static int score8x2Half(short[] m, int dim, int row, float[] q8, int b, float[] out, int s, float[] th) {
    int p0 = strip(row, dim), p1 = strip(row + L, dim);
    int qo = b * dim;
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    FloatVector a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
    for (int d = 0; d < dim; d++) {
      int off = d * VectorCollection.BLOCK_ROWS;
      int qd = qo + d * 8;
      FloatVector v0 = half(m, p0 + off);
      FloatVector v1 = half(m, p1 + off);
      FloatVector w = FloatVector.broadcast(F, q8[qd]);
      a00 = v0.fma(w, a00);
      a01 = v1.fma(w, a01);
      w = FloatVector.broadcast(F, q8[qd + 1]);
      a10 = v0.fma(w, a10);
      a11 = v1.fma(w, a11);
      w = FloatVector.broadcast(F, q8[qd + 2]);
      a20 = v0.fma(w, a20);
      a21 = v1.fma(w, a21);
      w = FloatVector.broadcast(F, q8[qd + 3]);
      a30 = v0.fma(w, a30);
      a31 = v1.fma(w, a31);
      w = FloatVector.broadcast(F, q8[qd + 4]);
      a40 = v0.fma(w, a40);
      a41 = v1.fma(w, a41);
      w = FloatVector.broadcast(F, q8[qd + 5]);
      a50 = v0.fma(w, a50);
      a51 = v1.fma(w, a51);
      w = FloatVector.broadcast(F, q8[qd + 6]);
      a60 = v0.fma(w, a60);
      a61 = v1.fma(w, a61);
      w = FloatVector.broadcast(F, q8[qd + 7]);
      a70 = v0.fma(w, a70);
      a71 = v1.fma(w, a71);
    }
    int o = b * TILE + s;
    a00.intoArray(out, o);
    a01.intoArray(out, o + L);
    a10.intoArray(out, o + TILE);
    a11.intoArray(out, o + TILE + L);
    a20.intoArray(out, o + 2 * TILE);
    a21.intoArray(out, o + 2 * TILE + L);
    a30.intoArray(out, o + 3 * TILE);
    a31.intoArray(out, o + 3 * TILE + L);
    a40.intoArray(out, o + 4 * TILE);
    a41.intoArray(out, o + 4 * TILE + L);
    a50.intoArray(out, o + 5 * TILE);
    a51.intoArray(out, o + 5 * TILE + L);
    a60.intoArray(out, o + 6 * TILE);
    a61.intoArray(out, o + 6 * TILE + L);
    a70.intoArray(out, o + 7 * TILE);
    a71.intoArray(out, o + 7 * TILE + L);
    return hits8x2(out, o, th, b);
  }

  /**
   * Bit 2i+j set when query b+i has a score in strip j (at out[o + i * TILE + j * L]) at or above th[b+i]. Reads
   * the scores back from out (16 loads from L1 against the kernel's 16 × dim FMAs) so that no vector crosses a call.
   */
  private static int hits8x2(float[] out, int o, float[] th, int b) {
    VectorMask<Float> any = F.maskAll(false);
    for (int i = 0; i < 8; i++) {
      FloatVector t = FloatVector.broadcast(F, th[b + i]);
      int p = o + i * TILE;
      any = any.or(FloatVector.fromArray(F, out, p).compare(VectorOperators.GE, t))
          .or(FloatVector.fromArray(F, out, p + L).compare(VectorOperators.GE, t));
    }
    if (!any.anyTrue()) {
      return 0;
    }
    int hits = 0;
    for (int i = 0; i < 8; i++) {
      FloatVector t = FloatVector.broadcast(F, th[b + i]);
      int p = o + i * TILE;
      hits |= (FloatVector.fromArray(F, out, p).compare(VectorOperators.GE, t).anyTrue() ? 1 : 0) << (2 * i);
      hits |= (FloatVector.fromArray(F, out, p + L).compare(VectorOperators.GE, t).anyTrue() ? 2 : 0) << (2 * i);
    }
    return hits;
  }

  /** Bit 2i+j set when accumulator a_ij (query b+i, strip j) has a lane at or above th[b+i]. */
  private static int hits4x2(FloatVector a00, FloatVector a01, FloatVector a10, FloatVector a11, FloatVector a20,
      FloatVector a21, FloatVector a30, FloatVector a31, float[] th, int b) {
    FloatVector t0 = FloatVector.broadcast(F, th[b]);
    FloatVector t1 = FloatVector.broadcast(F, th[b + 1]);
    FloatVector t2 = FloatVector.broadcast(F, th[b + 2]);
    FloatVector t3 = FloatVector.broadcast(F, th[b + 3]);
    VectorMask<Float> m00 = a00.compare(VectorOperators.GE, t0), m01 = a01.compare(VectorOperators.GE, t0);
    VectorMask<Float> m10 = a10.compare(VectorOperators.GE, t1), m11 = a11.compare(VectorOperators.GE, t1);
    VectorMask<Float> m20 = a20.compare(VectorOperators.GE, t2), m21 = a21.compare(VectorOperators.GE, t2);
    VectorMask<Float> m30 = a30.compare(VectorOperators.GE, t3), m31 = a31.compare(VectorOperators.GE, t3);
    if (!m00.or(m01).or(m10).or(m11).or(m20).or(m21).or(m30).or(m31).anyTrue()) {
      return 0;
    }
    return (m00.anyTrue() ? 1 : 0) | (m01.anyTrue() ? 2 : 0) | (m10.anyTrue() ? 4 : 0) | (m11.anyTrue() ? 8 : 0)
        | (m20.anyTrue() ? 16 : 0) | (m21.anyTrue() ? 32 : 0) | (m30.anyTrue() ? 64 : 0) | (m31.anyTrue() ? 128 : 0);
  }

  /** L half-precision values at m[i..] widened to floats (exact: scale by 2^112 re-biases the exponent). */
  static FloatVector half(short[] m, int i) {
    IntVector x = (IntVector) ShortVector.fromArray(H, m, i).convertShape(VectorOperators.S2I, I, 0);
    FloatVector mag = x.and(0x7fff).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
    return mag.reinterpretAsInts().or(x.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
  }

  private static int score4x2Half(short[] m, int dim, int row, float[] q, int b, float[] out, int s, float[] th) {
    int p0 = strip(row, dim), p1 = strip(row + L, dim);
    int q0 = b * dim, q1 = q0 + dim, q2 = q1 + dim, q3 = q2 + dim;
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (int d = 0; d < dim; d++) {
      int off = d * VectorCollection.BLOCK_ROWS;
      FloatVector v0 = half(m, p0 + off);
      FloatVector v1 = half(m, p1 + off);
      FloatVector w = FloatVector.broadcast(F, q[q0 + d]);
      a00 = v0.fma(w, a00);
      a01 = v1.fma(w, a01);
      w = FloatVector.broadcast(F, q[q1 + d]);
      a10 = v0.fma(w, a10);
      a11 = v1.fma(w, a11);
      w = FloatVector.broadcast(F, q[q2 + d]);
      a20 = v0.fma(w, a20);
      a21 = v1.fma(w, a21);
      w = FloatVector.broadcast(F, q[q3 + d]);
      a30 = v0.fma(w, a30);
      a31 = v1.fma(w, a31);
    }
    int o = b * TILE + s;
    a00.intoArray(out, o);
    a01.intoArray(out, o + L);
    a10.intoArray(out, o + TILE);
    a11.intoArray(out, o + TILE + L);
    a20.intoArray(out, o + 2 * TILE);
    a21.intoArray(out, o + 2 * TILE + L);
    a30.intoArray(out, o + 3 * TILE);
    a31.intoArray(out, o + 3 * TILE + L);
    return hits4x2(a00, a01, a10, a11, a20, a21, a30, a31, th, b);
  }


  @Override
  public void close() {
    for (Worker w : workers) {
      w.stopped = true;
      LockSupport.unpark(w);
    }
  }
}
