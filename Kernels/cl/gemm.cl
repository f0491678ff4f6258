// gemm.cl — C = alpha·op(A)·op(B) + beta·C, row-major, optionally batched.
//
// Shapes: op(A) M×K, op(B) K×N, C M×N. Stored row-major with row strides
// lda, ldb, ldc: A[i·lda + k] (or A[k·lda + i] when transA), B[k·ldb + j]
// (or B[j·ldb + k] when transB), C[i·ldc + j]. Batch entry z (get_group_id(2))
// works on A + z·strideA, B + z·strideB, C + z·strideC. beta = 0 never reads C.
//
//        K            N              N
//     +-----+      +-----+        +-----+
//   M |  A  |  x K |  B  |  =   M |  C  |
//     +-----+      +-----+        +-----+
//
// ntk_gemm: each work-group computes a TM×TN tile of C, staging TK-deep
// slices of op(A) and op(B) in local memory; each work-item keeps a WPTM×WPTN
// block of C in registers (rows ty + r·RTSM, columns tx + c·RTSN).
// Work-group size: (TN/WPTN, TM/WPTM, 1). Edges are bounds-checked.
// ntk_gemm_small: one work-item per element of C, no local memory; for tiny
// or skinny shapes. Any work-group size.
// ntk_gemm_block (end of file): RBM×RBN of C per work-item, no local memory,
// no barriers; for CPU OpenCL devices.
//
// Tunables (host overrides with -D; defaults always work):
#ifndef TM
#define TM 64    // tile rows of C per work-group
#endif
#ifndef TN
#define TN 64    // tile columns of C per work-group
#endif
#ifndef TK
#define TK 16    // depth of the local-memory slices
#endif
#ifndef WPTM
#define WPTM 4   // rows of C per work-item
#endif
#ifndef WPTN
#define WPTN 4   // columns of C per work-item
#endif
#define RTSM (TM / WPTM)        // work-group size in dimension 1
#define RTSN (TN / WPTN)        // work-group size in dimension 0
#define WGS (RTSM * RTSN)       // work-items per group

inline REAL load_a(__global const REAL *a, int transA, int lda, int M, int K, int i, int k) {
  if (i >= M || k >= K) return (REAL)0;
  return transA ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
}

inline REAL load_b(__global const REAL *b, int transB, int ldb, int K, int N, int k, int j) {
  if (k >= K || j >= N) return (REAL)0;
  return transB ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
}

__kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
void ntk_gemm(int M, int N, int K, REAL alpha,
              __global const REAL *A, ulong offA, int lda, ulong strideA, int transA,
              __global const REAL *B, ulong offB, int ldb, ulong strideB, int transB,
              REAL beta, __global REAL *C, ulong offC, int ldc, ulong strideC) {
  const int tx = get_local_id(0), ty = get_local_id(1);
  const int row0 = get_group_id(1) * TM, col0 = get_group_id(0) * TN;
  const ulong z = get_group_id(2);
  __global const REAL *a = A + offA + z * strideA;
  __global const REAL *b = B + offB + z * strideB;
  __global REAL *c = C + offC + z * strideC;

  __local REAL As[TK][TM];
  __local REAL Bs[TK][TN];
  REAL acc[WPTM][WPTN];
  for (int r = 0; r < WPTM; r++)
    for (int q = 0; q < WPTN; q++) acc[r][q] = (REAL)0;

  const int tid = ty * RTSN + tx;
  for (int k0 = 0; k0 < K; k0 += TK) {
    for (int e = tid; e < TM * TK; e += WGS) {
      int kk, ii;
      if (transA) { ii = e % TM; kk = e / TM; } else { kk = e % TK; ii = e / TK; }
      As[kk][ii] = load_a(a, transA, lda, M, K, row0 + ii, k0 + kk);
    }
    for (int e = tid; e < TN * TK; e += WGS) {
      int kk, jj;
      if (transB) { kk = e % TK; jj = e / TK; } else { jj = e % TN; kk = e / TN; }
      Bs[kk][jj] = load_b(b, transB, ldb, K, N, k0 + kk, col0 + jj);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < TK; kk++) {
      REAL bv[WPTN];
      for (int q = 0; q < WPTN; q++) bv[q] = Bs[kk][tx + q * RTSN];
      for (int r = 0; r < WPTM; r++) {
        const REAL av = As[kk][ty + r * RTSM];
        for (int q = 0; q < WPTN; q++) acc[r][q] = fma(av, bv[q], acc[r][q]);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

  for (int r = 0; r < WPTM; r++) {
    const int i = row0 + ty + r * RTSM;
    if (i >= M) continue;
    for (int q = 0; q < WPTN; q++) {
      const int j = col0 + tx + q * RTSN;
      if (j >= N) continue;
      __global REAL *p = c + (size_t)i * ldc + j;
      *p = beta == (REAL)0 ? alpha * acc[r][q] : alpha * acc[r][q] + beta * *p;
    }
  }
}

__kernel void ntk_gemm_small(int M, int N, int K, REAL alpha,
                             __global const REAL *A, ulong offA, int lda, ulong strideA, int transA,
                             __global const REAL *B, ulong offB, int ldb, ulong strideB, int transB,
                             REAL beta, __global REAL *C, ulong offC, int ldc, ulong strideC) {
  const int j = get_global_id(0), i = get_global_id(1);
  const ulong z = get_global_id(2);
  if (i >= M || j >= N) return;
  __global const REAL *a = A + offA + z * strideA;
  __global const REAL *b = B + offB + z * strideB;
  __global REAL *c = C + offC + z * strideC;
  REAL acc = (REAL)0;
  for (int k = 0; k < K; k++) {
    const REAL av = transA ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
    const REAL bv = transB ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
    acc = fma(av, bv, acc);
  }
  __global REAL *p = c + (size_t)i * ldc + j;
  *p = beta == (REAL)0 ? alpha * acc : alpha * acc + beta * *p;
}

// ntk_gemm_block: no local memory and no barriers; each work-item computes an
// RBM×RBN block of C straight from global memory (the caches do the tiling).
// For CPU OpenCL devices (PoCL), where values live across barriers are
// spilled to memory. Work-group size: any; global (⌈N/RBN⌉, ⌈M/RBM⌉, batch).
// Interior blocks with B not transposed take the vector path: each row of the
// block is one REAL-vector of RBN lanes (vloadRBN of a row of B, times a
// broadcast element of A), so the compiler keeps RBM vector accumulators in
// registers and emits one vector FMA per (row, k): on AVX-512 PoCL, float16
// is one zmm register. Edge blocks and transposed B take the scalar path.
#ifndef RBM
#define RBM 8    // rows of C per work-item
#endif
#ifndef RBN
#define RBN 16   // columns of C per work-item: a vector width (2, 4, 8 or 16)
#endif
#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)
#define REALV GEMM_CAT(REAL, RBN)          // e.g. float16
#define VLOADV GEMM_CAT(vload, RBN)        // e.g. vload16
#define VSTOREV GEMM_CAT(vstore, RBN)      // e.g. vstore16

__kernel void ntk_gemm_block(int M, int N, int K, REAL alpha,
                             __global const REAL *A, ulong offA, int lda, ulong strideA, int transA,
                             __global const REAL *B, ulong offB, int ldb, ulong strideB, int transB,
                             REAL beta, __global REAL *C, ulong offC, int ldc, ulong strideC) {
  const int j0 = get_global_id(0) * RBN, i0 = get_global_id(1) * RBM;
  const ulong z = get_global_id(2);
  if (i0 >= M || j0 >= N) return;
  __global const REAL *a = A + offA + z * strideA;
  __global const REAL *b = B + offB + z * strideB;
  __global REAL *c = C + offC + z * strideC;

  if (!transB && i0 + RBM <= M && j0 + RBN <= N) {
    REALV acc[RBM];
    for (int r = 0; r < RBM; r++) acc[r] = (REALV)(0);
    __global const REAL *bj = b + j0;
    if (transA) {
      __global const REAL *ai = a + i0;
      for (int k = 0; k < K; k++) {
        const REALV bv = VLOADV(0, bj + (size_t)k * ldb);
        for (int r = 0; r < RBM; r++) acc[r] = fma((REALV)(ai[(size_t)k * lda + r]), bv, acc[r]);
      }
    } else {
      __global const REAL *ai = a + (size_t)i0 * lda;
      for (int k = 0; k < K; k++) {
        const REALV bv = VLOADV(0, bj + (size_t)k * ldb);
        for (int r = 0; r < RBM; r++) acc[r] = fma((REALV)(ai[(size_t)r * lda + k]), bv, acc[r]);
      }
    }
    for (int r = 0; r < RBM; r++) {
      __global REAL *p = c + (size_t)(i0 + r) * ldc + j0;
      const REALV v = beta == (REAL)0 ? alpha * acc[r] : alpha * acc[r] + beta * VLOADV(0, p);
      VSTOREV(v, 0, p);
    }
    return;
  }

  // Scalar path: rows/columns past the edge are clamped to the last one (read, never written).
  int ri[RBM], cj[RBN];
  for (int r = 0; r < RBM; r++) ri[r] = min(i0 + r, M - 1);
  for (int q = 0; q < RBN; q++) cj[q] = min(j0 + q, N - 1);
  REAL acc[RBM][RBN];
  for (int r = 0; r < RBM; r++)
    for (int q = 0; q < RBN; q++) acc[r][q] = (REAL)0;
  for (int k = 0; k < K; k++) {
    REAL av[RBM], bv[RBN];
    for (int r = 0; r < RBM; r++) av[r] = transA ? a[(size_t)k * lda + ri[r]] : a[(size_t)ri[r] * lda + k];
    for (int q = 0; q < RBN; q++) bv[q] = transB ? b[(size_t)cj[q] * ldb + k] : b[(size_t)k * ldb + cj[q]];
    for (int r = 0; r < RBM; r++)
      for (int q = 0; q < RBN; q++) acc[r][q] = fma(av[r], bv[q], acc[r][q]);
  }
  for (int r = 0; r < RBM; r++) {
    if (i0 + r >= M) break;
    for (int q = 0; q < RBN; q++) {
      if (j0 + q >= N) break;
      __global REAL *p = c + (size_t)(i0 + r) * ldc + j0 + q;
      *p = beta == (REAL)0 ? alpha * acc[r][q] : alpha * acc[r][q] + beta * *p;
    }
  }
}
