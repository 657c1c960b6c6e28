package io.wxmp.gpu;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Scores on an NVIDIA GPU through the JCuda driver API (only libcuda at run time: our kernels ship as PTX, see
 * {@code src/main/cuda/ranking.cu}). Each collection's matrix is mirrored on the device and kept in step with single
 * block uploads; queries, excludes and results move through pinned host buffers that are reused; scoring and top-k
 * selection both run on the GPU and only k candidates per query come back.
 *
 * <p>Any CUDA failure surfaces as {@link jcuda.CudaException} from {@link #topK}: the caller fails that batch and
 * moves to the CPU. Use from one thread at a time.
 */
public final class CudaScorer implements Scorer {
  static final String PTX_RESOURCE = "/io/wxmp/gpu/ranking.ptx";
  // Must match ranking.cu.
  private static final int SEG = 2048;
  private static final int THREADS = 1024;
  private static final int QG = 8;
  /** Candidate entries per buffer; larger batches are split so the two candidate buffers stay under ~0.8 GB. */
  private static final long CANDIDATE_LIMIT = 32L << 20;

  private final CUdevice device;
  private final CUcontext context;
  private final CUmodule module;
  private final CUfunction scoreF32;
  private final CUfunction scoreF16;
  private final CUfunction merge;
  private final CUstream stream;
  private final String deviceName;

  private final Map<String, DeviceMatrix> matrices = new HashMap<>();
  private final Pinned hostQueries = new Pinned();
  private final Pinned hostExcludes = new Pinned();
  private final Pinned hostOffsets = new Pinned();
  private final Pinned hostKeys = new Pinned();
  private final Pinned hostIds = new Pinned();
  private final DeviceBuffer devQueries = new DeviceBuffer();
  private final DeviceBuffer devExcludes = new DeviceBuffer();
  private final DeviceBuffer devOffsets = new DeviceBuffer();
  private final DeviceBuffer[] candKeys = {new DeviceBuffer(), new DeviceBuffer()};
  private final DeviceBuffer[] candIds = {new DeviceBuffer(), new DeviceBuffer()};
  private boolean closed;

  private CudaScorer(CUdevice device, CUcontext context, CUmodule module, CUstream stream, String deviceName) {
    this.device = device;
    this.context = context;
    this.module = module;
    this.stream = stream;
    this.deviceName = deviceName;
    this.scoreF32 = function(module, "score_select_f32");
    this.scoreF16 = function(module, "score_select_f16");
    this.merge = function(module, "merge_select");
  }

  /**
   * Starts CUDA on device 0. Throws {@link UnsatisfiedLinkError} (first call) or {@link NoClassDefFoundError} (later
   * calls) without libcuda, {@link jcuda.CudaException} without a device; callers catch {@link Throwable}.
   */
  public static CudaScorer create() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    CUdevice device = new CUdevice();
    cuDeviceGet(device, 0);
    byte[] name = new byte[256];
    cuDeviceGetName(name, name.length, device);
    CUcontext context = new CUcontext();
    cuDevicePrimaryCtxRetain(context, device);
    try {
      cuCtxSetCurrent(context);
      CUmodule module = new CUmodule();
      cuModuleLoadData(module, ptx());
      CUstream stream = new CUstream();
      cuStreamCreate(stream, 0);
      return new CudaScorer(device, context, module, stream, cString(name));
    } catch (RuntimeException | Error e) {
      cuDevicePrimaryCtxRelease(device);
      throw e;
    }
  }

  /** The PTX text, NUL-terminated as cuModuleLoadData wants it. */
  static byte[] ptx() {
    try (InputStream in = CudaScorer.class.getResourceAsStream(PTX_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing " + PTX_RESOURCE + " (run gpu/build-ptx.sh)");
      }
      byte[] text = in.readAllBytes();
      return Arrays.copyOf(text, text.length + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String deviceName() {
    return deviceName;
  }

  @Override
  public String backend() {
    return "cuda";
  }

  @Override
  public List<List<ScoredId>> topK(VectorCollection c, float[][] queries, int k, long[][] excludes) {
    Scorer.checkArguments(c, queries, k, excludes);
    if (closed) {
      throw new IllegalStateException("CudaScorer is closed");
    }
    cuCtxSetCurrent(context);
    List<List<ScoredId>> out = new ArrayList<>(queries.length);
    if (c.size() == 0) {
      for (int i = 0; i < queries.length; i++) {
        out.add(List.of());
      }
      return out;
    }
    DeviceMatrix m = sync(c);
    int segs = (c.size() + SEG - 1) / SEG;
    int chunk = (int) Math.max(1, Math.min(queries.length, CANDIDATE_LIMIT / ((long) segs * k)));
    for (int from = 0; from < queries.length; from += chunk) {
      int to = Math.min(queries.length, from + chunk);
      out.addAll(topKChunk(c, m, queries, excludes, from, to, k, segs));
    }
    return out;
  }

  private List<List<ScoredId>> topKChunk(VectorCollection c, DeviceMatrix m, float[][] queries, long[][] excludes,
      int from, int to, int k, int segs) {
    int batch = to - from;
    int dim = c.dim();

    // Queries, then per-query sorted excludes with offsets, into pinned buffers and on to the device.
    long qBytes = (long) batch * dim * Sizeof.FLOAT;
    ByteBuffer qb = hostQueries.ensure(qBytes);
    for (int i = from; i < to; i++) {
      for (float x : queries[i]) {
        qb.putFloat(x);
      }
    }
    int totalEx = 0;
    for (int i = from; i < to; i++) {
      totalEx += excludes == null || excludes[i] == null ? 0 : excludes[i].length;
    }
    ByteBuffer ob = hostOffsets.ensure((long) (batch + 1) * Sizeof.INT);
    ByteBuffer eb = hostExcludes.ensure(Math.max(1, totalEx) * (long) Sizeof.LONG);
    int offset = 0;
    for (int i = from; i < to; i++) {
      ob.putInt(offset);
      long[] ex = TopKHeap.sortedCopy(excludes == null ? null : excludes[i]);
      for (long id : ex) {
        eb.putLong(id);
      }
      offset += ex.length;
    }
    ob.putInt(offset);
    cuMemcpyHtoDAsync(devQueries.ensure(qBytes), hostQueries.pointer, qBytes, stream);
    cuMemcpyHtoDAsync(devOffsets.ensure((long) (batch + 1) * Sizeof.INT), hostOffsets.pointer,
        (long) (batch + 1) * Sizeof.INT, stream);
    if (totalEx > 0) {
      cuMemcpyHtoDAsync(devExcludes.ensure((long) totalEx * Sizeof.LONG), hostExcludes.pointer,
          (long) totalEx * Sizeof.LONG, stream);
    } else {
      devExcludes.ensure(Sizeof.LONG);
    }

    // Pass 1: scores and the k best of every segment of 2048 rows.
    long entries = (long) batch * segs * k;
    int cur = 0;
    CUdeviceptr keys = candKeys[cur].ensure(entries * Sizeof.INT);
    CUdeviceptr ids = candIds[cur].ensure(entries * Sizeof.LONG);
    Pointer params = Pointer.to(Pointer.to(m.data), Pointer.to(m.ids), Pointer.to(new int[] {c.size()}),
        Pointer.to(new int[] {dim}), Pointer.to(devQueries.ptr), Pointer.to(new int[] {batch}),
        Pointer.to(devExcludes.ptr), Pointer.to(devOffsets.ptr), Pointer.to(new int[] {k}), Pointer.to(keys),
        Pointer.to(ids));
    cuLaunchKernel(c.fp16() ? scoreF16 : scoreF32, (batch + QG - 1) / QG, segs, 1, THREADS, 1, 1, 0, stream, params,
        null);

    // Pass 2..: merge segments of candidates until one segment of k is left per query.
    int perQuery = segs * k;
    while (segs > 1) {
      int nextSegs = (perQuery + SEG - 1) / SEG;
      int next = 1 - cur;
      long nextEntries = (long) batch * nextSegs * k;
      CUdeviceptr outKeys = candKeys[next].ensure(nextEntries * Sizeof.INT);
      CUdeviceptr outIds = candIds[next].ensure(nextEntries * Sizeof.LONG);
      Pointer mergeParams = Pointer.to(Pointer.to(candKeys[cur].ptr), Pointer.to(candIds[cur].ptr),
          Pointer.to(new int[] {perQuery}), Pointer.to(new int[] {k}), Pointer.to(outKeys), Pointer.to(outIds));
      cuLaunchKernel(merge, nextSegs, batch, 1, THREADS, 1, 1, 0, stream, mergeParams, null);
      cur = next;
      segs = nextSegs;
      perQuery = segs * k;
    }

    // Only batch × k candidates come back.
    long kBytes = (long) batch * k * Sizeof.INT;
    long iBytes = (long) batch * k * Sizeof.LONG;
    ByteBuffer hk = hostKeys.ensure(kBytes);
    ByteBuffer hi = hostIds.ensure(iBytes);
    cuMemcpyDtoHAsync(hostKeys.pointer, candKeys[cur].ptr, kBytes, stream);
    cuMemcpyDtoHAsync(hostIds.pointer, candIds[cur].ptr, iBytes, stream);
    cuStreamSynchronize(stream);

    List<List<ScoredId>> out = new ArrayList<>(batch);
    for (int q = 0; q < batch; q++) {
      List<ScoredId> list = new ArrayList<>(k);
      for (int i = 0; i < k; i++) {
        int key = hk.getInt((q * k + i) * Sizeof.INT);
        if (key == 0) {
          break; // no more candidates (fewer than k rows left)
        }
        list.add(new ScoredId(hi.getLong((q * k + i) * Sizeof.LONG), scoreOf(key)));
      }
      out.add(list);
    }
    return out;
  }

  /** Inverse of orderKey in ranking.cu. */
  static float scoreOf(int key) {
    int bits = (key & 0x80000000) != 0 ? key & 0x7fffffff : ~key;
    return Float.intBitsToFloat(bits);
  }

  /** Brings the device copy of c up to date: single 16-row blocks when few changed, else everything. */
  private DeviceMatrix sync(VectorCollection c) {
    DeviceMatrix m = matrices.get(c.name());
    int elemBytes = c.fp16() ? Sizeof.SHORT : Sizeof.FLOAT;
    long dataBytes = (long) c.capacity() * c.dim() * elemBytes;
    boolean full = m == null || m.source != c || m.generation != c.generation();
    if (m == null || m.dataBytes != dataBytes) {
      if (m != null) {
        m.free();
      }
      m = new DeviceMatrix();
      m.data = new CUdeviceptr();
      m.ids = new CUdeviceptr();
      cuMemAlloc(m.data, dataBytes);
      cuMemAlloc(m.ids, (long) c.capacity() * Sizeof.LONG);
      m.dataBytes = dataBytes;
      matrices.put(c.name(), m);
      full = true;
    }
    Pointer host = c.fp16() ? Pointer.to(c.f16()) : Pointer.to(c.f32());
    Pointer hostIdsArray = Pointer.to(c.ids());
    long blockBytes = (long) VectorCollection.BLOCK_ROWS * c.dim() * elemBytes;
    long blockIdBytes = (long) VectorCollection.BLOCK_ROWS * Sizeof.LONG;
    DeviceMatrix target = m;
    if (!full) {
      full = !c.drainDirtyBlocks(block -> {
        cuMemcpyHtoD(target.data.withByteOffset(block * blockBytes), host.withByteOffset(block * blockBytes),
            blockBytes);
        cuMemcpyHtoD(target.ids.withByteOffset(block * blockIdBytes), hostIdsArray.withByteOffset(block * blockIdBytes),
            blockIdBytes);
      });
    } else {
      c.drainDirtyBlocks(block -> { });
    }
    if (full) {
      cuMemcpyHtoD(m.data, host, dataBytes);
      cuMemcpyHtoD(m.ids, hostIdsArray, (long) c.capacity() * Sizeof.LONG);
    }
    m.source = c;
    m.generation = c.generation();
    return m;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      cuCtxSetCurrent(context);
      for (DeviceMatrix m : matrices.values()) {
        m.free();
      }
      matrices.clear();
      for (Pinned p : new Pinned[] {hostQueries, hostExcludes, hostOffsets, hostKeys, hostIds}) {
        p.free();
      }
      for (DeviceBuffer b : new DeviceBuffer[] {devQueries, devExcludes, devOffsets, candKeys[0], candKeys[1],
          candIds[0], candIds[1]}) {
        b.free();
      }
      cuStreamDestroy(stream);
      cuModuleUnload(module);
    } finally {
      cuDevicePrimaryCtxRelease(device);
    }
  }

  private static CUfunction function(CUmodule module, String name) {
    CUfunction f = new CUfunction();
    cuModuleGetFunction(f, module, name);
    return f;
  }

  private static String cString(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.US_ASCII);
  }

  private static final class DeviceMatrix {
    VectorCollection source;
    long generation = -1;
    long dataBytes;
    CUdeviceptr data;
    CUdeviceptr ids;

    void free() {
      cuMemFree(data);
      cuMemFree(ids);
    }
  }

  /** A device allocation that grows (never shrinks) and is reused across calls. */
  private static final class DeviceBuffer {
    CUdeviceptr ptr;
    long bytes;

    CUdeviceptr ensure(long need) {
      if (ptr == null || bytes < need) {
        free();
        long size = Math.max(need, bytes * 2);
        ptr = new CUdeviceptr();
        cuMemAlloc(ptr, size);
        bytes = size;
      }
      return ptr;
    }

    void free() {
      if (ptr != null) {
        cuMemFree(ptr);
        ptr = null;
        bytes = 0;
      }
    }
  }

  /** Page-locked host memory (cuMemAllocHost) so async copies overlap; grows, is reused, freed on close. */
  private static final class Pinned {
    Pointer pointer;
    ByteBuffer buffer;
    long bytes;

    /** A cleared native-order view of at least need bytes. */
    ByteBuffer ensure(long need) {
      if (pointer == null || bytes < need) {
        free();
        long size = Math.max(need, Math.max(4096, bytes * 2));
        pointer = new Pointer();
        cuMemAllocHost(pointer, size);
        bytes = size;
        buffer = pointer.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
      }
      buffer.clear();
      return buffer;
    }

    void free() {
      if (pointer != null) {
        cuMemFreeHost(pointer);
        pointer = null;
        buffer = null;
        bytes = 0;
      }
    }
  }
}
