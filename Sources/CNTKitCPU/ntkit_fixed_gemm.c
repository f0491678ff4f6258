// Fixed-order float32 product (see include/ntkit_fixed_gemm.h).
//
// Shapes: A m × k (row stride lda), op(B) k × n, C m × n (row stride ldc).
// Per row i of C: acc[j] = fma(A[i, p], op(B)[p, j], acc[j]) for p = 0..k-1,
// then C[i, j] = alpha * acc[j]. Vectors run across j, never along p: AVX-512
// (4 rows × 64 columns of C in registers), AVX2+FMA (4 × 16) or scalar fmaf,
// chosen by ntk_isa_get(); every choice gives the same bits.
#include "ntkit_fixed_gemm.h"
#include "ntkit_isa.h"
#include <math.h>

#pragma clang fp contract(off)

enum { NTK_FIXED_COLS = 256 };

__attribute__((always_inline)) static inline void fixed_rows(size_t m, size_t n, size_t k, float alpha,
                                                             const float *a, size_t lda, const float *b,
                                                             size_t ldb, float *c, size_t ldc) {
  float acc[NTK_FIXED_COLS];
  for (size_t j0 = 0; j0 < n; j0 += NTK_FIXED_COLS) {
    size_t w = n - j0 < NTK_FIXED_COLS ? n - j0 : NTK_FIXED_COLS;
    for (size_t i = 0; i < m; i++) {
      for (size_t j = 0; j < w; j++) acc[j] = 0;
      const float *ar = a + i * lda;
      for (size_t p = 0; p < k; p++) {
        float x = ar[p];
        const float *br = b + p * ldb + j0;
        for (size_t j = 0; j < w; j++) acc[j] = __builtin_fmaf(x, br[j], acc[j]);
      }
      float *cr = c + i * ldc + j0;
      for (size_t j = 0; j < w; j++) cr[j] = alpha * acc[j];
    }
  }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

// Register-blocked bodies: R rows × V vectors of C stay in registers over the
// whole reduction (each entry still one fused multiply-add per p, from 0, in
// p order: the same bits as fixed_rows). Called with constant R and V, so the
// loops unroll and the accumulators live in registers.

__attribute__((target("avx512f"), always_inline)) static inline void
block512(int R, int V, size_t k, float alpha, const float *a, size_t lda, const float *b, size_t ldb, float *c,
         size_t ldc, __mmask16 tail) {
  __m512 acc[4][4];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
  for (size_t p = 0; p < k; p++) {
    __m512 bv[4];
    for (int v = 0; v < V; v++)
      bv[v] = v == V - 1 ? _mm512_maskz_loadu_ps(tail, b + p * ldb + 16 * v) : _mm512_loadu_ps(b + p * ldb + 16 * v);
    for (int r = 0; r < R; r++) {
      __m512 x = _mm512_set1_ps(a[r * lda + p]);
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(x, bv[v], acc[r][v]);
    }
  }
  __m512 s = _mm512_set1_ps(alpha);
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) {
      __m512 y = _mm512_mul_ps(s, acc[r][v]);
      if (v == V - 1) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, tail, y);
      else _mm512_storeu_ps(c + r * ldc + 16 * v, y);
    }
}

// Rows in fours (then one by one), columns in WIDE vectors (AVX-512: 64),
// then pairs (32: a conv layer's channels), then single vectors, then a
// masked rest.
#define FIXED_BLOCKED(BLOCK, LANES, WIDE, MASKTYPE, MASKOF, FULL)                                       \
  for (size_t i = 0; i < m;) {                                                                        \
    int rows = m - i >= 4 ? 4 : 1;                                                                    \
    size_t j = 0;                                                                                     \
    for (; j + WIDE * LANES <= n; j += WIDE * LANES)                                                  \
      if (rows == 4) BLOCK(4, WIDE, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL); \
      else BLOCK(1, WIDE, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL);        \
    for (; WIDE > 2 && j + 2 * LANES <= n; j += 2 * LANES)                                            \
      if (rows == 4) BLOCK(4, 2, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL); \
      else BLOCK(1, 2, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL);           \
    for (; j + LANES <= n; j += LANES)                                                                \
      if (rows == 4) BLOCK(4, 1, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL); \
      else BLOCK(1, 1, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, FULL);           \
    if (j < n) {                                                                                      \
      MASKTYPE mask = MASKOF(n - j);                                                                  \
      if (rows == 4) BLOCK(4, 1, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, mask); \
      else BLOCK(1, 1, k, alpha, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, mask);           \
    }                                                                                                 \
    i += (size_t)rows;                                                                                \
  }

static inline __mmask16 mask16(size_t w) { return (__mmask16)((1u << w) - 1u); }

__attribute__((target("avx512f"))) static void fixed_avx512(size_t m, size_t n, size_t k, float alpha,
                                                            const float *a, size_t lda, const float *b, size_t ldb,
                                                            float *c, size_t ldc) {
  FIXED_BLOCKED(block512, 16, 4, __mmask16, mask16, (__mmask16)0xFFFF)
}

// AVX2: 4 rows × 2 vectors (8 of the 16 ymm registers); the masked rest
// through maskload/maskstore (masked-off lanes neither read nor written).
__attribute__((target("avx2,fma"), always_inline)) static inline void
block256(int R, int V, size_t k, float alpha, const float *a, size_t lda, const float *b, size_t ldb, float *c,
         size_t ldc, __m256i tail) {
  __m256 acc[4][3];
  const int full = _mm256_movemask_ps(_mm256_castsi256_ps(tail)) == 0xFF;
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps();
  for (size_t p = 0; p < k; p++) {
    __m256 bv[3];
    for (int v = 0; v < V; v++)
      bv[v] = v == V - 1 && !full ? _mm256_maskload_ps(b + p * ldb + 8 * v, tail) : _mm256_loadu_ps(b + p * ldb + 8 * v);
    for (int r = 0; r < R; r++) {
      __m256 x = _mm256_broadcast_ss(a + r * lda + p);
      for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(x, bv[v], acc[r][v]);
    }
  }
  __m256 s = _mm256_set1_ps(alpha);
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) {
      __m256 y = _mm256_mul_ps(s, acc[r][v]);
      if (v == V - 1 && !full) _mm256_maskstore_ps(c + r * ldc + 8 * v, tail, y);
      else _mm256_storeu_ps(c + r * ldc + 8 * v, y);
    }
}

__attribute__((target("avx2"))) static inline __m256i mask8(size_t w) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma"))) static void fixed_avx2(size_t m, size_t n, size_t k, float alpha,
                                                           const float *a, size_t lda, const float *b, size_t ldb,
                                                           float *c, size_t ldc) {
  FIXED_BLOCKED(block256, 8, 2, __m256i, mask8, _mm256_set1_epi32(-1))
}
#endif

static void fixed_portable(size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda, const float *b,
                           size_t ldb, float *c, size_t ldc) {
  fixed_rows(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

void ntk_gemm_fixed_f32(int transB, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                        const float *b, size_t ldb, float *c, size_t ldc, float *scratch) {
  if (m == 0 || n == 0) return;
  if (transB) {
    // op(B) = Bᵀ: scratch[p*n + j] = B[j*ldb + p].
    for (size_t j = 0; j < n; j++)
      for (size_t p = 0; p < k; p++) scratch[p * n + j] = b[j * ldb + p];
    b = scratch;
    ldb = n;
  }
  int isa = ntk_isa_get();
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  if (isa == NTK_ISA_AVX512) { fixed_avx512(m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
  if (isa == NTK_ISA_AVX2) { fixed_avx2(m, n, k, alpha, a, lda, b, ldb, c, ldc); return; }
#endif
  (void)isa;
  fixed_portable(m, n, k, alpha, a, lda, b, ldb, c, ldc);
}

int ntk_cpu_kernels_optimized(void) {
#ifdef __OPTIMIZE__
  return 1;
#else
  return 0;
#endif
}
