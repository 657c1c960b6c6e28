// Ranking kernels for io.wxmp.gpu.CudaScorer (JCuda driver API; compiled to PTX by gpu/build-ptx.sh).
//
// Matrix layout (see VectorCollection): element (row, d) at (row / 16) * 16 * dim + d * 16 + row % 16, so at each
// step d the 16 threads of a half-warp read 16 neighbouring values (coalesced).
//
// Top-k without copying N scores back: score_select_* scores a segment of SEG rows for QG queries and keeps, per
// query and segment, the k best (key, id) by a bitonic sort in shared memory; merge_select then reduces segments of
// SEG candidates to k until one segment is left. Order: higher score first, equal scores by the smaller id, the
// same rule as the CPU path. Scores use fmaf in dimension order, as the CPU path does, so both agree bit for bit.

#include <cuda_fp16.h>

#define SEG 2048          // rows (or candidates) per block; each of the 1024 threads holds two
#define THREADS 1024
#define QG 8              // queries scored together: each matrix value read is used QG times
#define MAX_DIM 512
#define EMPTY_ID 0x7fffffffffffffffLL

// Order-preserving map of a float to an unsigned key (larger float -> larger key); 0 marks "no candidate",
// which no finite float maps to.
__device__ __forceinline__ unsigned orderKey(float s) {
    unsigned u = __float_as_uint(s + 0.0f);  // -0 -> +0, as Java compares them equal
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// a ranks before b
__device__ __forceinline__ bool before(unsigned ka, long long ia, unsigned kb, long long ib) {
    return ka > kb || (ka == kb && ia < ib);
}

__device__ __forceinline__ bool excluded(const long long* excl, int from, int to, long long id) {
    int lo = from, hi = to - 1;
    while (lo <= hi) {
        int mid = (lo + hi) >> 1;
        long long v = excl[mid];
        if (v == id) return true;
        if (v < id) lo = mid + 1; else hi = mid - 1;
    }
    return false;
}

// Sorts SEG (key, id) pairs in shared memory into ranking order. Called by all THREADS threads.
__device__ void bitonicSort(unsigned* keys, long long* ids) {
    const int t = threadIdx.x;
    for (int size = 2; size <= SEG; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            int lo = 2 * stride * (t / stride) + (t % stride);
            int hi = lo + stride;
            bool up = (lo & size) == 0;
            unsigned klo = keys[lo], khi = keys[hi];
            long long ilo = ids[lo], ihi = ids[hi];
            bool swap = up ? before(khi, ihi, klo, ilo) : before(klo, ilo, khi, ihi);
            if (swap) {
                keys[lo] = khi; keys[hi] = klo;
                ids[lo] = ihi; ids[hi] = ilo;
            }
            __syncthreads();
        }
    }
}

__device__ __forceinline__ float load(const float* m, size_t i) { return m[i]; }
__device__ __forceinline__ float load(const unsigned short* m, size_t i) {
    return __half2float(__ushort_as_half(m[i]));
}

// grid: x = ceil(batch / QG), y = ceil(n / SEG); block: THREADS.
// out: [batch][gridDim.y][k] keys and ids.
template <typename T>
__device__ void scoreSelect(const T* __restrict__ matrix, const long long* __restrict__ rowIds, int n, int dim,
                            const float* __restrict__ queries, int batch,
                            const long long* __restrict__ excl, const int* __restrict__ exclOffsets,
                            int k, unsigned* __restrict__ outKeys, long long* __restrict__ outIds) {
    __shared__ float qs[QG * MAX_DIM];
    __shared__ unsigned keys[SEG];
    __shared__ long long ids[SEG];

    const int t = threadIdx.x;
    const int q0 = blockIdx.x * QG;
    const int queriesHere = min(QG, batch - q0);
    const int seg = blockIdx.y;
    const int segs = gridDim.y;

    for (int i = t; i < QG * dim; i += THREADS) {
        int g = i / dim;
        qs[i] = g < queriesHere ? queries[(size_t)(q0 + g) * dim + (i % dim)] : 0.0f;
    }
    __syncthreads();

    const int r0 = seg * SEG + t;
    const int r1 = r0 + THREADS;
    // Rows past n lie inside the allocated capacity (a multiple of 64) or are clamped; they score but never count.
    const size_t b0 = (size_t)(r0 >> 4) * 16 * dim + (r0 & 15);
    const size_t b1 = (size_t)(r1 >> 4) * 16 * dim + (r1 & 15);
    const bool v0 = r0 < n, v1 = r1 < n;

    float acc0[QG], acc1[QG];
#pragma unroll
    for (int g = 0; g < QG; g++) { acc0[g] = 0.0f; acc1[g] = 0.0f; }
    for (int d = 0; d < dim; d++) {
        float m0 = v0 ? load(matrix, b0 + (size_t)d * 16) : 0.0f;
        float m1 = v1 ? load(matrix, b1 + (size_t)d * 16) : 0.0f;
#pragma unroll
        for (int g = 0; g < QG; g++) {
            float w = qs[g * dim + d];
            acc0[g] = fmaf(m0, w, acc0[g]);
            acc1[g] = fmaf(m1, w, acc1[g]);
        }
    }
    const long long id0 = v0 ? rowIds[r0] : EMPTY_ID;
    const long long id1 = v1 ? rowIds[r1] : EMPTY_ID;

#pragma unroll
    for (int g = 0; g < QG; g++) {
        if (g >= queriesHere) break;  // uniform across the block
        const int q = q0 + g;
        const int ef = exclOffsets[q], et = exclOffsets[q + 1];
        bool ok0 = v0 && !(et > ef && excluded(excl, ef, et, id0));
        bool ok1 = v1 && !(et > ef && excluded(excl, ef, et, id1));
        keys[t] = ok0 ? orderKey(acc0[g]) : 0u;
        ids[t] = ok0 ? id0 : EMPTY_ID;
        keys[t + THREADS] = ok1 ? orderKey(acc1[g]) : 0u;
        ids[t + THREADS] = ok1 ? id1 : EMPTY_ID;
        __syncthreads();
        bitonicSort(keys, ids);
        size_t o = ((size_t)q * segs + seg) * k;
        for (int i = t; i < k; i += THREADS) {
            outKeys[o + i] = i < SEG ? keys[i] : 0u;
            outIds[o + i] = i < SEG ? ids[i] : EMPTY_ID;
        }
        __syncthreads();
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
score_select_f32(const float* matrix, const long long* rowIds, int n, int dim, const float* queries, int batch,
                 const long long* excl, const int* exclOffsets, int k, unsigned* outKeys, long long* outIds) {
    scoreSelect(matrix, rowIds, n, dim, queries, batch, excl, exclOffsets, k, outKeys, outIds);
}

extern "C" __global__ void __launch_bounds__(THREADS)
score_select_f16(const unsigned short* matrix, const long long* rowIds, int n, int dim, const float* queries,
                 int batch, const long long* excl, const int* exclOffsets, int k, unsigned* outKeys,
                 long long* outIds) {
    scoreSelect(matrix, rowIds, n, dim, queries, batch, excl, exclOffsets, k, outKeys, outIds);
}

// Reduces per query m candidates (in: [batch][m]) to [batch][gridDim.x][k], each output segment the k best of SEG
// inputs. grid: x = ceil(m / SEG), y = batch; block: THREADS.
extern "C" __global__ void __launch_bounds__(THREADS)
merge_select(const unsigned* __restrict__ inKeys, const long long* __restrict__ inIds, int m, int k,
             unsigned* __restrict__ outKeys, long long* __restrict__ outIds) {
    __shared__ unsigned keys[SEG];
    __shared__ long long ids[SEG];
    const int t = threadIdx.x;
    const int q = blockIdx.y;
    const int seg = blockIdx.x;
    const int segs = gridDim.x;
    for (int j = t; j < SEG; j += THREADS) {
        int i = seg * SEG + j;
        bool ok = i < m;
        keys[j] = ok ? inKeys[(size_t)q * m + i] : 0u;
        ids[j] = ok ? inIds[(size_t)q * m + i] : EMPTY_ID;
    }
    __syncthreads();
    bitonicSort(keys, ids);
    size_t o = ((size_t)q * segs + seg) * k;
    for (int i = t; i < k; i += THREADS) {
        outKeys[o + i] = i < SEG ? keys[i] : 0u;
        outIds[o + i] = i < SEG ? ids[i] : EMPTY_ID;
    }
}
